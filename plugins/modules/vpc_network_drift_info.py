#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE), which is compatible with the
# GNU General Public License v3.0 that Ansible itself is distributed under.

DOCUMENTATION = r"""
---
module: vpc_network_drift_info
version_added: 0.1.0
short_description: Tell whether the network role's VPC differs from what is deployed, reading EC2 once
description:
  - Compares the VPC that the C(network) role builds - VPC, private and public subnets, internet gateway, NAT Elastic
    IPs, NAT gateways and route tables - with what exists, the way the M(amazon.aws.ec2_vpc_net),
    M(amazon.aws.ec2_vpc_subnet), M(amazon.aws.ec2_vpc_igw), M(amazon.aws.ec2_eip), M(amazon.aws.ec2_vpc_nat_gateway)
    and M(amazon.aws.ec2_vpc_route_table) tasks of the role decide whether to act (their C(purge_tags),
    C(purge_routes) and C(purge_subnets) defaults included). When nothing differs the role skips those tasks and
    publishes the facts returned here; one module run instead of about ten.
  - Conservative - whatever it cannot prove equal is a difference, so the role's tasks run and decide. Missing
    resources; several VPCs, internet gateways, route tables or Elastic IPs where the role expects one; a subnet in
    another zone than wanted, or not C(available); a NAT gateway not C(available) or C(pending); a route table
    association that is not C(associated).
  - The resources are those of the role's layout. The VPC has tag C(Name=<name>), DNS support and DNS hostnames on.
    Private subnet C(<az>) has tags C(Name=<name>-private-<az>), C(karpenter.sh/discovery=<name>),
    C(kubernetes.io/role/internal-elb=1) and C(kubernetes.io/cluster/<name>=shared); public subnet C(<az>) has
    C(Name=<name>-public-<az>), C(kubernetes.io/role/elb=1), C(kubernetes.io/cluster/<name>=shared) and maps public
    IPs on launch. The internet gateway has C(Name=<name>). The first public subnet (O(nat_gateways=single)) or each
    (O(nat_gateways=per_az)) has a NAT gateway with C(Name=<name>-<az>) on the Elastic IP with C(Name=<name>-nat-<az>).
    Route table C(<name>-public) sends C(0.0.0.0/0) to the internet gateway for every public subnet; route table
    C(<name>-private-<az>) sends it to the NAT gateway of the private subnet (the only one, or the one at the same
    position in O(public_subnets)). Every resource also has O(tags).
  - Only reads; never reports a change.
author:
  - eks_llm maintainers (@eks-llm)
options:
  name:
    description:
      - The network's name, the role's C(network_name). The VPC's tag C(Name) and the start of every other resource's.
    type: str
    required: true
  cidr:
    description: The VPC's CIDR block.
    type: str
    required: true
  tags:
    description: Tags every resource has, the role's C(network_tags).
    type: dict
    default: {}
  private_subnets:
    description: The private subnets, in the order the role publishes their ids.
    type: list
    elements: dict
    default: []
    suboptions:
      az:
        description: Availability zone.
        type: str
        required: true
      cidr:
        description: CIDR block; the subnet of the VPC with this block is the one compared.
        type: str
        required: true
  public_subnets:
    description: The public subnets, in the order the role publishes their ids.
    type: list
    elements: dict
    default: []
    suboptions:
      az:
        description: Availability zone.
        type: str
        required: true
      cidr:
        description: CIDR block; the subnet of the VPC with this block is the one compared.
        type: str
        required: true
  nat_gateways:
    description:
      - V(single) - one NAT gateway, in the first public subnet, for every private subnet.
      - V(per_az) - one NAT gateway in each public subnet; private subnet N routes through the one in public subnet N.
    type: str
    choices: [single, per_az]
    default: single
  eip_lookup_tags:
    description:
      - The tags the role finds the NAT Elastic IPs of earlier runs by (the filters of its M(amazon.aws.ec2_eip_info)
        task); of those, the one with tag C(Name=<name>-nat-<az>) is the NAT gateway's in zone C(<az>).
    type: dict
    required: true
notes:
  - Supports check mode.
  - About eight EC2 read calls (VPCs, two VPC attributes, subnets, internet gateways, addresses, NAT gateways, route
    tables); only one when the VPC does not exist.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Compare the network with what the role would build
  eks_llm.inference.vpc_network_drift_info:
    region: us-west-2
    name: demo
    cidr: 10.0.0.0/16
    tags:
      eks-llm:deployment: demo
    private_subnets:
      - {az: us-west-2a, cidr: 10.0.0.0/19}
      - {az: us-west-2b, cidr: 10.0.32.0/19}
    public_subnets:
      - {az: us-west-2a, cidr: 10.0.224.0/22}
      - {az: us-west-2b, cidr: 10.0.228.0/22}
    nat_gateways: single
    eip_lookup_tags:
      eks-llm:deployment: demo
  register: network

- name: Say what differs
  ansible.builtin.debug:
    var: network.differences
  when: network.drifted

- name: Use the VPC as it is
  ansible.builtin.debug:
    msg: "{{ network.vpc_id }}: private subnets {{ network.private_subnet_ids | join(', ') }}"
  when: not network.drifted
"""

RETURN = r"""
drifted:
  description: Whether anything differs, that is whether the role's tasks would (or might) change something.
  returned: always
  type: bool
  sample: false
differences:
  description: What differs, one short sentence each, naming the resource; empty when nothing does.
  returned: always
  type: list
  elements: str
  sample: ["subnet 10.0.0.0/19 in us-west-2a: tag karpenter.sh/discovery missing"]
vpc_id:
  description: Id of the VPC.
  returned: when not drifted
  type: str
  sample: vpc-0abc1234def567890
private_subnet_ids:
  description: Ids of the private subnets, in the order of O(private_subnets).
  returned: when not drifted
  type: list
  elements: str
  sample: [subnet-0abc1234def567890, subnet-0abc1234def567891]
private_subnet_cidrs:
  description: CIDR blocks of the private subnets, in the order of O(private_subnets).
  returned: when not drifted
  type: list
  elements: str
  sample: [10.0.0.0/19, 10.0.32.0/19]
public_subnet_ids:
  description: Ids of the public subnets, in the order of O(public_subnets).
  returned: when not drifted
  type: list
  elements: str
  sample: [subnet-0abc1234def567892, subnet-0abc1234def567893]
nat_gateway_ids:
  description: Ids of the NAT gateways, in the order of the public subnets they are in.
  returned: when not drifted
  type: list
  elements: str
  sample: [nat-0abc1234def567890]
nats_available:
  description: Whether every NAT gateway is C(available) (not C(pending) any more).
  returned: when not drifted
  type: bool
  sample: true
"""


from ansible.module_utils.common.text.converters import to_text
from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict

from ansible_collections.eks_llm.inference.plugins.module_utils.common import AnsibleEKSModule
from ansible_collections.eks_llm.inference.plugins.module_utils.common import NotFoundErrorHandler
from ansible_collections.eks_llm.inference.plugins.module_utils.common import aws_retry

SUBNET_SPEC = dict(az=dict(type="str", required=True), cidr=dict(type="str", required=True))
ANYWHERE = "0.0.0.0/0"
# the NAT gateway states in which amazon.aws.ec2_vpc_nat_gateway takes an existing gateway instead of creating one
NAT_KEPT_STATES = ("available", "pending")
# where a route can go; the first one a route has names its target in a difference
ROUTE_TARGETS = ("GatewayId", "NatGatewayId", "TransitGatewayId", "NetworkInterfaceId", "InstanceId",
                 "VpcPeeringConnectionId", "CarrierGatewayId", "LocalGatewayId", "EgressOnlyInternetGatewayId")


def with_tags(tags, **fixed):
    """``tags`` combined with the role's own tags of one resource (theirs win, as with Jinja's combine)."""
    combined = dict(tags)
    combined.update(fixed)
    return combined


def wanted_network(params):
    """The resources of the role's layout, named and tagged as its tasks create them."""
    name, tags = params["name"], params["tags"]
    cluster_tag = "kubernetes.io/cluster/%s" % name
    private = [dict(subnet, public=False, tags=with_tags(tags, **{
        "Name": "%s-private-%s" % (name, subnet["az"]), "karpenter.sh/discovery": name,
        "kubernetes.io/role/internal-elb": "1", cluster_tag: "shared"})) for subnet in params["private_subnets"]]
    public = [dict(subnet, public=True, tags=with_tags(tags, **{
        "Name": "%s-public-%s" % (name, subnet["az"]), "kubernetes.io/role/elb": "1", cluster_tag: "shared"}))
        for subnet in params["public_subnets"]]
    nat_subnets = public[:1] if params["nat_gateways"] == "single" else public
    return dict(
        name=name, cidr=params["cidr"], tags=with_tags(tags, Name=name), private=private, public=public,
        igw_tags=with_tags(tags, Name=name),
        nats=[dict(subnet=subnet, eip_name="%s-nat-%s" % (name, subnet["az"]),
                   tags=with_tags(tags, Name="%s-%s" % (name, subnet["az"]))) for subnet in nat_subnets],
        public_table_tags=with_tags(tags, Name="%s-public" % name),
        private_table_tags=[with_tags(tags, Name="%s-private-%s" % (name, subnet["az"])) for subnet in private],
        # private subnet N routes through NAT gateway 0 (single) or N (per_az), as the role's route task indexes them
        private_nat_index=[0 if params["nat_gateways"] == "single" else index for index in range(len(private))],
    )


def tag_differences(what, current, wanted):
    """What ensure_ec2_tags with purge_tags (the default of every module the role uses) would change."""
    found = []
    for key in sorted(wanted):
        if key not in current:
            found.append("%s: tag %s missing" % (what, key))
        elif current[key] != to_text(wanted[key]):
            found.append("%s: tag %s is %r, wanted %r" % (what, key, current[key], to_text(wanted[key])))
    found.extend("%s: tag %s is not wanted (it would be removed)" % (what, key)
                 for key in sorted(current) if key not in wanted and not key.startswith("aws:"))
    return found


def tags_of(resource):
    return boto3_tag_list_to_ansible_dict(resource.get("Tags") or [])


class Reader:
    """The EC2 reads, one call per kind of resource (paginated where EC2 pages)."""

    def __init__(self, client):
        self.client = client

    @aws_retry()
    def _all(self, operation, key, **params):
        return self.client.get_paginator(operation).paginate(**params).build_full_result()[key]

    def vpcs(self, name, cidr):
        # the filters amazon.aws.ec2_vpc_net finds an existing VPC by
        return self._all("describe_vpcs", "Vpcs", Filters=[{"Name": "tag:Name", "Values": [name]},
                                                           {"Name": "cidr-block", "Values": [cidr]}])

    def vpc_attribute(self, vpc_id, attribute):
        answer = self.client.describe_vpc_attribute(VpcId=vpc_id, Attribute=attribute, aws_retry=True)
        return answer[attribute[0].upper() + attribute[1:]]["Value"]

    def subnets(self, vpc_id):
        return self._all("describe_subnets", "Subnets", Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])

    def internet_gateways(self, vpc_id):
        return self._all("describe_internet_gateways", "InternetGateways",
                         Filters=[{"Name": "attachment.vpc-id", "Values": [vpc_id]}])

    def addresses(self, tags):
        # DescribeAddresses does not page
        filters = [{"Name": "tag:%s" % key, "Values": [to_text(value)]} for key, value in sorted(tags.items())]
        return self.client.describe_addresses(Filters=filters, aws_retry=True)["Addresses"]

    def nat_gateways(self, vpc_id):
        # every state: a failed or deleted gateway is named in the difference
        return self._all("describe_nat_gateways", "NatGateways", Filter=[{"Name": "vpc-id", "Values": [vpc_id]}])

    def route_tables(self, vpc_id):
        return self._all("describe_route_tables", "RouteTables", Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])


class NetworkDrift:
    """Compares the wanted network with EC2; ``differences`` lists what differs, ``facts`` what the role publishes."""

    def __init__(self, wanted, reader, eip_lookup_tags):
        self.wanted = wanted
        self.reader = reader
        self.eip_lookup_tags = eip_lookup_tags
        self.differences = []
        self.facts = {}

    def differ(self, *found):
        self.differences.extend(found)

    def run(self):
        vpc = self.check_vpc()
        if vpc is None:
            return
        vpc_id = vpc["VpcId"]
        subnet_ids = self.check_subnets(self.reader.subnets(vpc_id))
        igw_id = self.check_internet_gateway(self.reader.internet_gateways(vpc_id))
        nats = self.check_nat_gateways(subnet_ids, self.reader.addresses(self.eip_lookup_tags),
                                       self.reader.nat_gateways(vpc_id))
        self.check_route_tables(self.reader.route_tables(vpc_id), subnet_ids, igw_id, nats)
        if not self.differences:
            wanted = self.wanted
            self.facts = dict(
                vpc_id=vpc_id,
                private_subnet_ids=[subnet_ids[s["cidr"]] for s in wanted["private"]],
                private_subnet_cidrs=[s["cidr"] for s in wanted["private"]],
                public_subnet_ids=[subnet_ids[s["cidr"]] for s in wanted["public"]],
                nat_gateway_ids=[nat["NatGatewayId"] for nat in nats],
                nats_available=all(nat["State"] == "available" for nat in nats),
            )

    def check_vpc(self):
        """The VPC as amazon.aws.ec2_vpc_net finds it (tag Name and CIDR), or None when it is missing or ambiguous."""
        wanted = self.wanted
        what = "VPC %s (%s)" % (wanted["name"], wanted["cidr"])
        vpcs = self.reader.vpcs(wanted["name"], wanted["cidr"])
        if len(vpcs) != 1:
            self.differ("%s: %s" % (what, "missing" if not vpcs else "%d VPCs have this name and CIDR" % len(vpcs)))
            return None
        vpc = vpcs[0]
        if vpc.get("State") != "available":
            self.differ("%s: state %s, not available" % (what, vpc.get("State")))
        associated = [a["CidrBlock"] for a in vpc.get("CidrBlockAssociationSet", [])
                      if a["CidrBlockState"]["State"] not in ("disassociating", "disassociated")]
        if wanted["cidr"] not in associated:
            self.differ("%s: CIDR block not associated" % what)
        self.differ(*tag_differences(what, tags_of(vpc), wanted["tags"]))
        for attribute, label in (("enableDnsSupport", "DNS support"), ("enableDnsHostnames", "DNS hostnames")):
            if self.reader.vpc_attribute(vpc["VpcId"], attribute) is not True:
                self.differ("%s: %s off" % (what, label))
        return vpc

    def check_subnets(self, subnets):
        """{cidr: subnet id} of the wanted subnets that exist (as ec2_vpc_subnet finds them: VPC and CIDR)."""
        by_cidr = dict((subnet["CidrBlock"], subnet) for subnet in subnets)
        ids = {}
        for wanted in self.wanted["private"] + self.wanted["public"]:
            what = "subnet %s in %s" % (wanted["cidr"], wanted["az"])
            subnet = by_cidr.get(wanted["cidr"])
            if subnet is None:
                self.differ("%s: missing" % what)
                continue
            ids[wanted["cidr"]] = subnet["SubnetId"]
            if subnet.get("AvailabilityZone") != wanted["az"]:
                self.differ("%s: it is in %s" % (what, subnet.get("AvailabilityZone")))
            if subnet.get("State") != "available":
                self.differ("%s: state %s, not available" % (what, subnet.get("State")))
            if subnet.get("MapPublicIpOnLaunch") != wanted["public"]:
                self.differ("%s: map public IP on launch is %s, wanted %s" % (what, subnet.get("MapPublicIpOnLaunch"), wanted["public"]))
            # ec2_vpc_subnet's defaults: no IPv6 block, no IPv6 address on launch
            if subnet.get("AssignIpv6AddressOnCreation") is not False:
                self.differ("%s: assigns IPv6 addresses on launch" % what)
            if any(a.get("Ipv6CidrBlockState", {}).get("State") in ("associated", "associating")
                   for a in subnet.get("Ipv6CidrBlockAssociationSet") or []):
                self.differ("%s: has an IPv6 CIDR block" % what)
            self.differ(*tag_differences(what, tags_of(subnet), wanted["tags"]))
        return ids

    def check_internet_gateway(self, gateways):
        """Id of the internet gateway attached to the VPC, as ec2_vpc_igw finds it, or None."""
        if len(gateways) != 1:
            self.differ("internet gateway: %s" % ("none attached to the VPC" if not gateways else "%d attached to the VPC" % len(gateways)))
            return None
        gateway = gateways[0]
        self.differ(*tag_differences("internet gateway %s" % gateway["InternetGatewayId"], tags_of(gateway), self.wanted["igw_tags"]))
        return gateway["InternetGatewayId"]

    def check_nat_gateways(self, subnet_ids, addresses, gateways):
        """The NAT gateways the role's ec2_vpc_nat_gateway task would return, in its order (empty on a difference)."""
        found = []
        for nat in self.wanted["nats"]:
            subnet = nat["subnet"]
            what = "NAT gateway in subnet %s (%s)" % (subnet["cidr"], subnet["az"])
            named = [a for a in addresses if tags_of(a).get("Name") == nat["eip_name"]]
            if len(named) != 1:
                self.differ("Elastic IP %s: %s" % (nat["eip_name"], "missing" if not named else "%d have this name" % len(named)))
                continue
            subnet_id = subnet_ids.get(subnet["cidr"])
            if subnet_id is None:
                continue  # the subnet's own difference says it
            allocation_id = named[0]["AllocationId"]
            in_subnet = [g for g in gateways if g["SubnetId"] == subnet_id]
            # ec2_vpc_nat_gateway keeps an available or pending gateway on the same Elastic IP, else creates one
            kept = [g for g in in_subnet if g["State"] in NAT_KEPT_STATES
                    and any(a.get("AllocationId") == allocation_id for a in g.get("NatGatewayAddresses", []))]
            if not kept:
                others = ", ".join("%s %s" % (g["NatGatewayId"], g["State"]) for g in in_subnet) or "none"
                self.differ("%s: none available or pending with Elastic IP %s (in the subnet: %s)" % (what, nat["eip_name"], others))
                continue
            self.differ(*tag_differences("%s %s" % (what, kept[0]["NatGatewayId"]), tags_of(kept[0]), nat["tags"]))
            found.append(kept[0])
        return found if len(found) == len(self.wanted["nats"]) else []

    def check_route_tables(self, tables, subnet_ids, igw_id, nats):
        wanted = self.wanted
        public_ids = [subnet_ids.get(s["cidr"]) for s in wanted["public"]]
        self.check_route_table(tables, wanted["public_table_tags"], {"GatewayId": igw_id}, public_ids)
        for subnet, tags, nat_index in zip(wanted["private"], wanted["private_table_tags"], wanted["private_nat_index"]):
            if nat_index >= len(wanted["nats"]):
                # the role's route task would fail: there is no public subnet for this NAT gateway
                self.differ("route table %s: no NAT gateway %d to route through (%d public subnets)"
                            % (tags["Name"], nat_index + 1, len(wanted["public"])))
                continue
            nat_id = nats[nat_index]["NatGatewayId"] if nats else None  # None: the NAT gateways' difference is named
            self.check_route_table(tables, tags, {"NatGatewayId": nat_id}, [subnet_ids.get(subnet["cidr"])])

    def check_route_table(self, tables, tags, target, subnet_ids):
        """One table as ec2_vpc_route_table (lookup tag, purge_routes, purge_subnets, purge_tags) would leave it."""
        what = "route table %s" % tags["Name"]
        # lookup: tag finds every table of the VPC that has at least the wanted tags, compared as given
        matching = [t for t in tables if all(k in tags_of(t) and tags_of(t)[k] == v for k, v in tags.items())]
        if len(matching) != 1:
            self.differ("%s: %s" % (what, "missing" if not matching else "%d route tables have its tags" % len(matching)))
            return
        table = matching[0]
        self.differ(*tag_differences(what, tags_of(table), tags))
        if None in target.values() or None in subnet_ids:
            return  # its gateway or a subnet is missing: that difference is already named
        self.differ(*route_differences(what, table["Routes"], dict(target, DestinationCidrBlock=ANYWHERE)))
        associated = set()
        for association in table.get("Associations", []):
            if association.get("Main") or not association.get("SubnetId"):
                continue
            associated.add(association["SubnetId"])
            state = association.get("AssociationState", {}).get("State", "associated")
            if state != "associated":
                self.differ("%s: association with %s is %s" % (what, association["SubnetId"], state))
        self.differ(*["%s: not associated with subnet %s" % (what, s) for s in subnet_ids if s not in associated])
        self.differ(*["%s: associated with subnet %s, which is not wanted" % (what, s)
                      for s in sorted(associated - set(subnet_ids))])


def target_of(route):
    return next((route[key] for key in ROUTE_TARGETS if route.get(key)), "nowhere")


def route_differences(what, routes, wanted):
    """What ec2_vpc_route_table with the one wanted route and purge_routes would change."""
    found = []
    remaining = list(routes)
    for index, route in enumerate(remaining):
        if all(key in route and route[key] == value for key, value in wanted.items()):
            del remaining[index]
            break
        # a route it created for the same block is replaced; a propagated one is left
        if route.get("Origin") not in (None, "EnableVgwRoutePropagation") and route.get("DestinationCidrBlock") == ANYWHERE:
            found.append("%s: route %s goes to %s, wanted %s" % (what, ANYWHERE, target_of(route), target_of(wanted)))
            del remaining[index]
            break
    else:
        found.append("%s: no route %s to %s" % (what, ANYWHERE, target_of(wanted)))
    # purge_routes removes the other routes created with CreateRoute (IPv4 ones; the local route stays)
    found.extend("%s: route %s to %s is not wanted (it would be removed)" % (what, route["DestinationCidrBlock"], target_of(route))
                 for route in remaining if route.get("DestinationCidrBlock") and route.get("Origin") == "CreateRoute")
    return found


def read_network(drift):
    try:
        drift.run()
    except is_boto3_error_code(["InvalidVpcID.NotFound", "InvalidSubnetID.NotFound"]):
        # deleted while being read: whatever it was, the role has work to do
        drift.differ("the VPC or one of its subnets was deleted while being read")


def main():
    module = AnsibleEKSModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            cidr=dict(type="str", required=True),
            tags=dict(type="dict", default={}),
            private_subnets=dict(type="list", elements="dict", default=[], options=SUBNET_SPEC),
            public_subnets=dict(type="list", elements="dict", default=[], options=SUBNET_SPEC),
            nat_gateways=dict(type="str", choices=["single", "per_az"], default="single"),
            eip_lookup_tags=dict(type="dict", required=True),
        ),
        supports_check_mode=True,
    )
    drift = NetworkDrift(wanted_network(module.params), Reader(module.retrying_client("ec2")), module.params["eip_lookup_tags"])
    try:
        NotFoundErrorHandler.common_error_handler("read the network %s" % module.params["name"])(read_network)(drift)
    except AnsibleAWSError as error:
        module.fail_json_aws_error(error)
    drifted = bool(drift.differences)
    module.exit_json(changed=False, drifted=drifted, differences=drift.differences, **({} if drifted else drift.facts))


if __name__ == "__main__":
    main()
