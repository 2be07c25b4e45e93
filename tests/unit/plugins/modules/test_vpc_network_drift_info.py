# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
"""vpc_network_drift_info against moto, in process: the network as the network role's tasks leave it is no drift,
and every single difference those tasks would act on is drift, named."""

from unittest import mock

import pytest

boto3 = pytest.importorskip("boto3")
moto = pytest.importorskip("moto")

from botocore.client import BaseClient  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402
from moto.core import DEFAULT_ACCOUNT_ID  # noqa: E402
from moto.ec2.models import ec2_backends  # noqa: E402

from ansible_collections.eks_llm.inference.plugins.modules import vpc_network_drift_info  # noqa: E402
from ansible_collections.eks_llm.inference.tests.unit.plugins.modules.utils import REGION, ModuleRunner  # noqa: E402

RUN = ModuleRunner(vpc_network_drift_info.main, region=REGION)
NAME = "demo"
CIDR = "10.0.0.0/16"
TAGS = {"eks-llm:deployment": NAME, "eks-llm:managed-by": "eks_llm.inference", "team": "ml"}
ZONES = ("us-west-2a", "us-west-2b")
PRIVATE = [{"az": ZONES[0], "cidr": "10.0.0.0/19"}, {"az": ZONES[1], "cidr": "10.0.32.0/19"}]
PUBLIC = [{"az": ZONES[0], "cidr": "10.0.224.0/22"}, {"az": ZONES[1], "cidr": "10.0.228.0/22"}]


@pytest.fixture(autouse=True)
def aws_env(monkeypatch):
    # AWSRetry sleeps between attempts; retried errors must not slow the tests.
    monkeypatch.setattr("ansible_collections.amazon.aws.plugins.module_utils.cloud.time.sleep", lambda _s: None)
    with moto.mock_aws():
        yield


@pytest.fixture
def ec2():
    return boto3.client("ec2", region_name=REGION)


def arguments(nat_gateways="single", **changes):
    args = dict(name=NAME, cidr=CIDR, tags=dict(TAGS), private_subnets=PRIVATE, public_subnets=PUBLIC,
                nat_gateways=nat_gateways, eip_lookup_tags={"eks-llm:deployment": NAME})
    args.update(changes)
    return args


def tagged(resource_type, **fixed):
    tags = dict(TAGS)
    tags.update(fixed)
    return [{"ResourceType": resource_type, "Tags": [{"Key": k, "Value": v} for k, v in sorted(tags.items())]}]


def build_network(ec2, nat_gateways="single"):
    """The network as roles/network/tasks/new_vpc.yml leaves it: same names, tags, attributes, routes, associations.
    Returns the ids: vpc, private and public subnets, igw, nats (in public subnet order), tables by Name."""
    vpc = ec2.create_vpc(CidrBlock=CIDR, TagSpecifications=tagged("vpc", Name=NAME))["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsSupport={"Value": True})
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    cluster_tag = {"kubernetes.io/cluster/%s" % NAME: "shared"}
    private = [ec2.create_subnet(VpcId=vpc, CidrBlock=s["cidr"], AvailabilityZone=s["az"], TagSpecifications=tagged(
        "subnet", Name="%s-private-%s" % (NAME, s["az"]), **{"karpenter.sh/discovery": NAME, "kubernetes.io/role/internal-elb": "1"},
        **cluster_tag))["Subnet"]["SubnetId"] for s in PRIVATE]
    public = [ec2.create_subnet(VpcId=vpc, CidrBlock=s["cidr"], AvailabilityZone=s["az"], TagSpecifications=tagged(
        "subnet", Name="%s-public-%s" % (NAME, s["az"]), **{"kubernetes.io/role/elb": "1"}, **cluster_tag))["Subnet"]["SubnetId"]
        for s in PUBLIC]
    for subnet in public:
        ec2.modify_subnet_attribute(SubnetId=subnet, MapPublicIpOnLaunch={"Value": True})
    igw = ec2.create_internet_gateway(TagSpecifications=tagged("internet-gateway", Name=NAME))["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    nat_subnets = list(zip(PUBLIC, public))[:1 if nat_gateways == "single" else None]
    nats = []
    for wanted, subnet in nat_subnets:
        eip = ec2.allocate_address(Domain="vpc", TagSpecifications=tagged("elastic-ip", Name="%s-nat-%s" % (NAME, wanted["az"])))["AllocationId"]
        nats.append(ec2.create_nat_gateway(SubnetId=subnet, AllocationId=eip, TagSpecifications=tagged(
            "natgateway", Name="%s-%s" % (NAME, wanted["az"])))["NatGateway"]["NatGatewayId"])
    tables = {}

    def route_table(name, subnets, **target):
        table = ec2.create_route_table(VpcId=vpc, TagSpecifications=tagged("route-table", Name=name))["RouteTable"]["RouteTableId"]
        ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", **target)
        for subnet in subnets:
            ec2.associate_route_table(RouteTableId=table, SubnetId=subnet)
        tables[name] = table

    route_table("%s-public" % NAME, public, GatewayId=igw)
    for index, (wanted, subnet) in enumerate(zip(PRIVATE, private)):
        route_table("%s-private-%s" % (NAME, wanted["az"]), [subnet], NatGatewayId=nats[0 if nat_gateways == "single" else index])
    return dict(vpc=vpc, private=private, public=public, igw=igw, nats=nats, tables=tables)


def nat_state(nat_id, state):
    """moto creates NAT gateways available and never fails one: set the state AWS would show."""
    ec2_backends[DEFAULT_ACCOUNT_ID][REGION].nat_gateways[nat_id].state = state


def association_of(ec2, table, subnet):
    associations = ec2.describe_route_tables(RouteTableIds=[table])["RouteTables"][0]["Associations"]
    return next(a["RouteTableAssociationId"] for a in associations if a.get("SubnetId") == subnet)


def test_nothing_exists_is_drift_after_one_read(ec2):
    result = RUN(arguments(), check_mode=True)
    assert result["changed"] is False
    assert result["drifted"] is True
    assert result["differences"] == ["VPC demo (10.0.0.0/16): missing"]
    assert "vpc_id" not in result and "nat_gateway_ids" not in result


@pytest.mark.parametrize("nat_gateways", ["single", "per_az"])
def test_the_network_as_the_role_builds_it_is_no_drift_and_gives_the_role_facts(ec2, nat_gateways):
    ids = build_network(ec2, nat_gateways)
    result = RUN(arguments(nat_gateways), check_mode=True)
    assert result["differences"] == [] and result["drifted"] is False and result["changed"] is False
    assert result["vpc_id"] == ids["vpc"]
    assert result["private_subnet_ids"] == ids["private"]
    assert result["private_subnet_cidrs"] == [s["cidr"] for s in PRIVATE]
    assert result["public_subnet_ids"] == ids["public"]
    assert result["nat_gateway_ids"] == ids["nats"] and len(ids["nats"]) == (1 if nat_gateways == "single" else 2)
    assert result["nats_available"] is True


def calls_of(args):
    """(result, names of the EC2 operations the module called)."""
    calls = []
    original = BaseClient._make_api_call

    def counting(self, operation, params):
        calls.append(operation)
        return original(self, operation, params)
    with mock.patch.object(BaseClient, "_make_api_call", counting):
        result = RUN(args)
    return result, calls


def test_one_read_per_kind_of_resource(ec2):
    result, calls = calls_of(arguments())
    assert calls == ["DescribeVpcs"] and result["drifted"] is True
    build_network(ec2, "per_az")
    result, calls = calls_of(arguments("per_az"))
    assert result["drifted"] is False
    assert sorted(calls) == sorted(["DescribeVpcs", "DescribeVpcAttribute", "DescribeVpcAttribute", "DescribeSubnets",
                                    "DescribeInternetGateways", "DescribeAddresses", "DescribeNatGateways", "DescribeRouteTables"])


def test_subnets_come_back_in_inventory_order_not_creation_order(ec2):
    ids = build_network(ec2)
    result = RUN(arguments(private_subnets=PRIVATE[::-1]))
    assert result["private_subnet_ids"] == ids["private"][::-1]
    assert result["private_subnet_cidrs"] == [PRIVATE[1]["cidr"], PRIVATE[0]["cidr"]]


def test_a_pending_nat_gateway_is_kept_and_reported_not_available(ec2):
    ids = build_network(ec2)
    nat_state(ids["nats"][0], "pending")
    result = RUN(arguments())
    assert result["drifted"] is False
    assert result["nat_gateway_ids"] == ids["nats"] and result["nats_available"] is False


def remove_tag(ec2, resource, key):
    ec2.delete_tags(Resources=[resource], Tags=[{"Key": key}])


def add_tag(ec2, resource, key, value):
    ec2.create_tags(Resources=[resource], Tags=[{"Key": key, "Value": value}])


def delete_private_subnet_a(ec2, ids):
    table = ids["tables"]["demo-private-us-west-2a"]
    ec2.disassociate_route_table(AssociationId=association_of(ec2, table, ids["private"][0]))
    ec2.delete_subnet(SubnetId=ids["private"][0])


def delete_public_route_table(ec2, ids):
    table = ids["tables"]["demo-public"]
    for subnet in ids["public"]:
        ec2.disassociate_route_table(AssociationId=association_of(ec2, table, subnet))
    ec2.delete_route_table(RouteTableId=table)


def extra_subnet_in_public_table(ec2, ids):
    extra = ec2.create_subnet(VpcId=ids["vpc"], CidrBlock="10.0.240.0/24", AvailabilityZone=ZONES[0])["Subnet"]["SubnetId"]
    ec2.associate_route_table(RouteTableId=ids["tables"]["demo-public"], SubnetId=extra)
    ids["extra"] = extra


def second_public_table(ec2, ids):
    ec2.create_route_table(VpcId=ids["vpc"], TagSpecifications=tagged("route-table", Name="demo-public"))


# (name, nat_gateways, change(ec2, ids), the one difference expected, formatted with ids)
SINGLE_DIFFERENCES = [
    ("vpc tag missing", "single", lambda ec2, ids: remove_tag(ec2, ids["vpc"], "team"),
     "VPC demo (10.0.0.0/16): tag team missing"),
    ("vpc tag that purge_tags removes", "single", lambda ec2, ids: add_tag(ec2, ids["vpc"], "owner", "someone"),
     "VPC demo (10.0.0.0/16): tag owner is not wanted (it would be removed)"),
    ("vpc dns hostnames off", "single",
     lambda ec2, ids: ec2.modify_vpc_attribute(VpcId=ids["vpc"], EnableDnsHostnames={"Value": False}),
     "VPC demo (10.0.0.0/16): DNS hostnames off"),
    ("private subnet karpenter tag missing", "single", lambda ec2, ids: remove_tag(ec2, ids["private"][0], "karpenter.sh/discovery"),
     "subnet 10.0.0.0/19 in us-west-2a: tag karpenter.sh/discovery missing"),
    ("private subnet internal-elb tag missing", "single",
     lambda ec2, ids: remove_tag(ec2, ids["private"][1], "kubernetes.io/role/internal-elb"),
     "subnet 10.0.32.0/19 in us-west-2b: tag kubernetes.io/role/internal-elb missing"),
    ("public subnet cluster tag with another value", "single",
     lambda ec2, ids: add_tag(ec2, ids["public"][1], "kubernetes.io/cluster/demo", "owned"),
     "subnet 10.0.228.0/22 in us-west-2b: tag kubernetes.io/cluster/demo is 'owned', wanted 'shared'"),
    ("private subnet missing", "single", delete_private_subnet_a, "subnet 10.0.0.0/19 in us-west-2a: missing"),
    ("public subnet map_public off", "single",
     lambda ec2, ids: ec2.modify_subnet_attribute(SubnetId=ids["public"][0], MapPublicIpOnLaunch={"Value": False}),
     "subnet 10.0.224.0/22 in us-west-2a: map public IP on launch is False, wanted True"),
    ("private subnet map_public on", "single",
     lambda ec2, ids: ec2.modify_subnet_attribute(SubnetId=ids["private"][1], MapPublicIpOnLaunch={"Value": True}),
     "subnet 10.0.32.0/19 in us-west-2b: map public IP on launch is True, wanted False"),
    ("internet gateway Name tag changed", "single", lambda ec2, ids: add_tag(ec2, ids["igw"], "Name", "other"),
     "internet gateway {igw}: tag Name is 'other', wanted 'demo'"),
    ("internet gateway detached", "single",
     lambda ec2, ids: ec2.detach_internet_gateway(InternetGatewayId=ids["igw"], VpcId=ids["vpc"]),
     "internet gateway: none attached to the VPC"),
    ("elastic ip without its Name", "single",
     lambda ec2, ids: remove_tag(ec2, ec2.describe_addresses()["Addresses"][0]["AllocationId"], "Name"),
     "Elastic IP demo-nat-us-west-2a: missing"),
    ("nat gateway deleted", "single", lambda ec2, ids: ec2.delete_nat_gateway(NatGatewayId=ids["nats"][0]),
     "NAT gateway in subnet 10.0.224.0/22 (us-west-2a): none available or pending with Elastic IP demo-nat-us-west-2a"
     " (in the subnet: {nats[0]} deleted)"),
    ("nat gateway failed", "single", lambda ec2, ids: nat_state(ids["nats"][0], "failed"),
     "NAT gateway in subnet 10.0.224.0/22 (us-west-2a): none available or pending with Elastic IP demo-nat-us-west-2a"
     " (in the subnet: {nats[0]} failed)"),
    ("second nat gateway deleted", "per_az", lambda ec2, ids: ec2.delete_nat_gateway(NatGatewayId=ids["nats"][1]),
     "NAT gateway in subnet 10.0.228.0/22 (us-west-2b): none available or pending with Elastic IP demo-nat-us-west-2b"
     " (in the subnet: {nats[1]} deleted)"),
    ("nat gateway Name tag missing", "per_az", lambda ec2, ids: remove_tag(ec2, ids["nats"][1], "Name"),
     "NAT gateway in subnet 10.0.228.0/22 (us-west-2b) {nats[1]}: tag Name missing"),
    ("route to the wrong nat gateway", "per_az",
     lambda ec2, ids: ec2.replace_route(RouteTableId=ids["tables"]["demo-private-us-west-2b"], DestinationCidrBlock="0.0.0.0/0",
                                        NatGatewayId=ids["nats"][0]),
     "route table demo-private-us-west-2b: route 0.0.0.0/0 goes to {nats[0]}, wanted {nats[1]}"),
    ("public default route missing", "single",
     lambda ec2, ids: ec2.delete_route(RouteTableId=ids["tables"]["demo-public"], DestinationCidrBlock="0.0.0.0/0"),
     "route table demo-public: no route 0.0.0.0/0 to {igw}"),
    ("extra route that purge_routes removes", "single",
     lambda ec2, ids: ec2.create_route(RouteTableId=ids["tables"]["demo-private-us-west-2a"], DestinationCidrBlock="192.168.0.0/16",
                                       GatewayId=ids["igw"]),
     "route table demo-private-us-west-2a: route 192.168.0.0/16 to {igw} is not wanted (it would be removed)"),
    ("route table association missing", "single",
     lambda ec2, ids: ec2.disassociate_route_table(AssociationId=association_of(ec2, ids["tables"]["demo-public"], ids["public"][1])),
     "route table demo-public: not associated with subnet {public[1]}"),
    ("route table association that purge_subnets removes", "single", extra_subnet_in_public_table,
     "route table demo-public: associated with subnet {extra}, which is not wanted"),
    ("route table tag that purge_tags removes", "single",
     lambda ec2, ids: add_tag(ec2, ids["tables"]["demo-private-us-west-2b"], "owner", "someone"),
     "route table demo-private-us-west-2b: tag owner is not wanted (it would be removed)"),
    ("route table missing", "single", delete_public_route_table, "route table demo-public: missing"),
    ("two route tables with the same tags", "single", second_public_table, "route table demo-public: 2 route tables have its tags"),
]


@pytest.mark.parametrize("nat_gateways, change, expected", [case[1:] for case in SINGLE_DIFFERENCES],
                         ids=[case[0] for case in SINGLE_DIFFERENCES])
def test_each_single_difference_is_drift_and_named(ec2, nat_gateways, change, expected):
    ids = build_network(ec2, nat_gateways)
    change(ec2, ids)
    result = RUN(arguments(nat_gateways), check_mode=True)
    assert result["drifted"] is True
    assert result["differences"] == [expected.format(**ids)]
    assert "vpc_id" not in result  # no facts to act on when something differs


def test_the_nat_layout_is_compared_per_private_route_table(ec2):
    """A per_az network deployed with nat_gateways single: zone b's private table must route through the one NAT."""
    ids = build_network(ec2, "per_az")
    result = RUN(arguments("single"))
    assert result["drifted"] is True
    assert result["differences"] == ["route table demo-private-us-west-2b: route 0.0.0.0/0 goes to %s, wanted %s" % (ids["nats"][1], ids["nats"][0])]


def test_a_subnet_in_another_zone_is_drift(ec2):
    build_network(ec2)
    moved = [dict(PRIVATE[0], az=ZONES[1]), PRIVATE[1]]
    result = RUN(arguments(private_subnets=moved))
    assert result["drifted"] is True
    assert "subnet 10.0.0.0/19 in us-west-2b: it is in us-west-2a" in result["differences"]


def test_private_subnets_without_a_public_subnet_for_their_nat_gateway_are_drift(ec2):
    """per_az with fewer public than private subnets: the role's route task has no NAT gateway to index."""
    build_network(ec2, "per_az")
    result = RUN(arguments("per_az", public_subnets=PUBLIC[:1]))
    assert result["drifted"] is True
    assert "route table demo-private-us-west-2b: no NAT gateway 2 to route through (1 public subnets)" in result["differences"]


def test_what_the_role_would_not_change_is_no_drift(ec2):
    """Precision: reserved aws: tags, IPv6 routes and the main route table are left alone by the amazon.aws modules."""
    ids = build_network(ec2)
    # purge_routes only removes IPv4 routes; an IPv6 default route through the internet gateway stays
    ec2.create_route(RouteTableId=ids["tables"]["demo-public"], DestinationIpv6CidrBlock="::/0", GatewayId=ids["igw"])
    # another route table of the VPC, not named like ours, is none of the role's business
    ec2.create_route_table(VpcId=ids["vpc"], TagSpecifications=[{"ResourceType": "route-table", "Tags": [{"Key": "Name", "Value": "theirs"}]}])
    result = RUN(arguments())
    assert result["differences"] == [] and result["drifted"] is False


def test_a_tag_value_is_compared_as_text(ec2):
    """ensure_ec2_tags compares to_text(value): 1 and "1" are the same tag value."""
    ids = build_network(ec2)
    add_tag(ec2, ids["vpc"], "team", "7")
    for resource in [ids["igw"]] + ids["private"] + ids["public"] + ids["nats"] + list(ids["tables"].values()):
        add_tag(ec2, resource, "team", "7")
    result = RUN(arguments(tags=dict(TAGS, team=7)))
    # ec2_vpc_route_table's lookup compares the value as given, so its tables are not found by an integer
    assert result["drifted"] is True
    assert all(d.startswith("route table ") and d.endswith(": missing") for d in result["differences"]), result["differences"]
    assert not any(d.startswith(("VPC", "subnet", "internet gateway", "NAT")) for d in result["differences"])


def test_a_read_refused_fails_with_the_aws_message(ec2, monkeypatch):
    build_network(ec2)

    def refused(self, vpc_id):
        raise ClientError({"Error": {"Code": "UnauthorizedOperation", "Message": "You are not authorized"}}, "DescribeSubnets")
    monkeypatch.setattr(vpc_network_drift_info.Reader, "subnets", refused)
    result = RUN.failing(arguments())
    assert "Failed to read the network demo" in result["msg"] and "not authorized" in result["msg"]


def test_a_vpc_deleted_while_being_read_is_drift(ec2, monkeypatch):
    build_network(ec2)

    def gone(self, vpc_id):
        raise ClientError({"Error": {"Code": "InvalidVpcID.NotFound", "Message": "The vpc ID does not exist"}}, "DescribeSubnets")
    monkeypatch.setattr(vpc_network_drift_info.Reader, "subnets", gone)
    result = RUN(arguments())
    assert result["drifted"] is True
    assert result["differences"] == ["the VPC or one of its subnets was deleted while being read"]
