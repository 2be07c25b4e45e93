#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE), which is compatible with the
# GNU General Public License v3.0 that Ansible itself is distributed under.

DOCUMENTATION = r"""
---
module: deployment_resources_info
version_added: 0.1.0
short_description: List the AWS resources of a deployment, found by their tags
description:
  - Scans one region of an AWS account, service by service, with the list and
    describe calls of each service, and returns every resource that carries
    B(all) the tags given in O(tags).
  - It is the proof of a teardown, so it does not rely on the Resource Groups
    Tagging API (which lags behind real AWS and is thin in stand-ins).
  - A resource type whose API cannot be read (access denied, not implemented
    by a stand-in, server error) does not stop the scan; it is listed in
    RV(unscanned) and RV(complete) is then V(false). Only a scan with
    RV(complete=true) and RV(count=0) proves that nothing is left.
  - Secrets Manager secrets scheduled for deletion and KMS keys pending
    deletion are no longer usable but still exist; they are returned in
    RV(pending_deletion) and not counted in RV(count).
  - IAM is global; all other services are scanned in the selected region
    only. S3 buckets located in another region, or whose tags cannot be
    read, are skipped with a warning.
  - This module never changes anything and supports check mode.
author:
  - eks_llm maintainers (@eks-llm)
options:
  tags:
    description:
      - "Tags that every returned resource must carry, as C(key: value) pairs."
      - A resource is returned only if it has all of these keys with exactly
        these values; other tags on the resource are ignored.
      - Must not be empty (an empty filter would match everything).
    type: dict
    required: true
  services:
    description:
      - The services to scan. By default all of them.
      - V(ec2) covers VPCs, subnets, internet gateways, NAT gateways (except
        deleted ones), Elastic IPs, route tables, security groups, launch
        templates, instances (except terminated ones), network interfaces,
        VPC endpoints (except deleted ones) and EBS volumes (except those
        being deleted or deleted), such as the volumes the EBS CSI driver
        creates for persistent volume claims (tagged through the add-on's
        C(controller.extraVolumeTags) configuration).
      - V(eks) covers clusters and the node groups of every cluster.
      - V(elbv2) covers load balancers and target groups, such as the NLBs
        the cluster's cloud provider creates for Services of type
        LoadBalancer (tagged through the Service's
        C(aws-load-balancer-additional-resource-tags) annotation).
      - V(efs) covers file systems and access points.
      - V(s3) covers the buckets of the selected region.
      - V(iam) covers roles, customer managed policies, instance profiles and OIDC identity providers.
      - V(sqs) covers queues, V(events) the rules of the default event bus,
        V(logs) log groups, V(secretsmanager) secrets, V(kms) customer
        managed keys.
    type: list
    elements: str
    choices: [ec2, eks, elbv2, efs, s3, iam, sqs, events, logs, secretsmanager, kms]
    default: [ec2, eks, elbv2, efs, s3, iam, sqs, events, logs, secretsmanager, kms]
notes:
  - Tags are read with one call per resource for the services whose list
    calls do not return them (EKS, S3, IAM, SQS, EventBridge, CloudWatch
    Logs, KMS; ELBv2 reads them 20 resources per call); in large accounts limit O(services) to what the deployment
    creates.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: List what is left of the deployment "demo"
  eks_llm.inference.deployment_resources_info:
    region: us-west-2
    tags:
      eks-llm:deployment: demo
  register: leftovers

- name: Prove the teardown removed everything
  ansible.builtin.assert:
    that:
      - leftovers.complete
      - leftovers.count == 0
    fail_msg: >-
      {{ leftovers.count }} resource(s) of the deployment are left
      ({{ leftovers.by_type }}); unscanned: {{ leftovers.unscanned | map(attribute='type') | list }}
    success_msg: Nothing of the deployment is left.

- name: Only look at the network and the cluster, for two tags
  eks_llm.inference.deployment_resources_info:
    region: eu-west-1
    services: [ec2, eks]
    tags:
      eks-llm:deployment: demo
      eks-llm:stage: prod
  register: network_left

- name: Wait until the VPC and everything in it is gone
  eks_llm.inference.deployment_resources_info:
    region: us-west-2
    services: [ec2]
    tags:
      eks-llm:deployment: demo
  register: ec2_left
  until: ec2_left.complete and ec2_left.count == 0
  retries: 30
  delay: 20
"""

RETURN = r"""
resources:
  description: The resources that carry all the tags, sorted by service, type and id.
  returned: always
  type: list
  elements: dict
  contains:
    service:
      description: The AWS service, one of O(services).
      type: str
      sample: ec2
    type:
      description:
        - The kind of resource within the service.
        - V(vpc), V(subnet), V(internet_gateway), V(nat_gateway), V(elastic_ip),
          V(route_table), V(security_group), V(launch_template), V(instance),
          V(network_interface), V(vpc_endpoint), V(volume) for V(ec2); V(cluster),
          V(nodegroup) for V(eks); V(file_system), V(access_point) for V(efs);
          V(bucket); V(role), V(policy), V(instance_profile), V(oidc_provider) for V(iam);
          V(queue); V(rule); V(log_group); V(secret); V(key).
      type: str
      sample: vpc
    id:
      description:
        - The identifier to delete the resource with (VPC id, allocation id,
          cluster name, C(cluster/nodegroup), queue URL, secret ARN, key id...).
      type: str
      sample: vpc-0a1b2c3d4e5f67890
    arn:
      description: The ARN of the resource.
      returned: when known
      type: str
      sample: arn:aws:ec2:us-west-2:123456789012:vpc/vpc-0a1b2c3d4e5f67890
    name:
      description: The name of the resource, or its C(Name) tag for EC2 resources.
      returned: when the resource has one
      type: str
      sample: demo-vpc
    tags:
      description: All the tags of the resource.
      type: dict
      sample: {"eks-llm:deployment": "demo", "Name": "demo-vpc"}
count:
  description: The number of entries in RV(resources).
  returned: always
  type: int
  sample: 0
by_type:
  description: The number of resources per C(service:type).
  returned: always
  type: dict
  sample: {"ec2:vpc": 1, "ec2:subnet": 4, "eks:cluster": 1}
pending_deletion:
  description:
    - Tagged Secrets Manager secrets scheduled for deletion and KMS keys
      pending deletion. They are not in RV(resources).
    - Same keys as RV(resources), plus C(deletion_date).
  returned: always
  type: list
  elements: dict
  sample:
    - service: kms
      type: key
      id: 1234abcd-12ab-34cd-56ef-1234567890ab
      arn: arn:aws:kms:us-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab
      tags: {"eks-llm:deployment": "demo"}
      deletion_date: "2026-08-30T10:00:00+00:00"
unscanned:
  description: The resource types that could not be scanned, with the reason.
  returned: always
  type: list
  elements: dict
  contains:
    service:
      description: The AWS service.
      type: str
      sample: sqs
    type:
      description: The resource type that was not (completely) scanned.
      type: str
      sample: queue
    reason:
      description: The error that stopped the scan of this type.
      type: str
      sample: "AccessDenied: User is not authorized to perform: sqs:listqueues"
complete:
  description: V(true) when every requested resource type was scanned, that is when RV(unscanned) is empty.
  returned: always
  type: bool
  sample: true
"""

try:
    from botocore.exceptions import BotoCoreError
    from botocore.exceptions import ClientError
    from botocore.exceptions import NoCredentialsError
    from botocore.exceptions import PartialCredentialsError
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible.module_utils.common.text.converters import to_text

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict

from ansible_collections.eks_llm.inference.plugins.module_utils.common import AnsibleEKSModule
from ansible_collections.eks_llm.inference.plugins.module_utils.common import aws_retry

SERVICES = ["ec2", "eks", "elbv2", "efs", "s3", "iam", "sqs", "events", "logs", "secretsmanager", "kms"]

# Error codes meaning "the resource went away between the list and the read".
GONE_CODES = (
    "ResourceNotFoundException",
    "NotFoundException",
    "NoSuchEntity",
    "NoSuchBucket",
    "FileSystemNotFound",
    "AccessPointNotFound",
    "QueueDoesNotExist",
    "AWS.SimpleQueueService.NonExistentQueue",
    "LoadBalancerNotFound",
    "TargetGroupNotFound",
)
# S3 answers these when a bucket lives in another region than the client.
OTHER_REGION_CODES = ("PermanentRedirect", "AuthorizationHeaderMalformed", "IllegalLocationConstraintException", "301")
# How many bucket names a warning lists at most.
WARN_NAMES = 10


def warn(module, message):
    """Warn through AnsibleModule itself.

    AnsibleAWSModule.warn also re-injects its warnings into the result, which
    ansible-core 2.19 answers with a deprecation warning of its own.
    """
    target = getattr(module, "_module", module)
    target.warn(message)


class ScanError(Exception):
    """A resource type cannot be scanned; the message says why."""


def error_code(exception):
    return exception.response.get("Error", {}).get("Code", "")


def describe_error(exception):
    if isinstance(exception, ClientError):
        error = exception.response.get("Error", {})
        status = exception.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        text = "%s: %s" % (error.get("Code", "Unknown"), error.get("Message", ""))
        return "%s (HTTP %s)" % (text, status) if status else text
    if isinstance(exception, NotImplementedError):
        return "not implemented by the endpoint: %s" % to_text(exception)
    return to_text(exception)


def iso(value):
    return value.isoformat() if hasattr(value, "isoformat") else to_text(value)


def normalize_bucket_region(location):
    """GetBucketLocation answers None for us-east-1 and EU for eu-west-1."""
    if not location:
        return "us-east-1"
    if location == "EU":
        return "eu-west-1"
    return location


class Scanner:
    def __init__(self, module, tags):
        self.module = module
        self.tags = tags
        self.region = module.region
        self.account = None
        self.partition = "aws"
        self.resources = []
        self.pending = []
        self.unscanned = []
        self._clients = {}
        self._eks_clusters = None

    # -- plumbing ---------------------------------------------------------

    def client(self, service):
        if service not in self._clients:
            self._clients[service] = self.module.retrying_client(service)
        return self._clients[service]

    def collect(self, client, operation, key, **params):
        """All items of a (paged) list call, retried as a whole on throttling."""
        if client.can_paginate(operation):

            @aws_retry()
            def _full():
                return client.get_paginator(operation).paginate(**params).build_full_result()

            result = _full()
        else:
            result = getattr(client, operation)(aws_retry=True, **params)
        return result.get(key) or []

    def read(self, client, operation, **params):
        """One read of one resource; None when it disappeared meanwhile."""
        try:
            return getattr(client, operation)(aws_retry=True, **params)
        except ClientError as e:
            if error_code(e) in GONE_CODES:
                return None
            raise

    def matches(self, tags):
        return all(tags.get(key) == value for key, value in self.tags.items())

    def ec2_filters(self):
        return [{"Name": "tag:%s" % key, "Values": [value]} for key, value in self.tags.items()]

    def arn(self, service, resource, owner=None, region=True):
        account = owner or self.account
        if not account:
            return None
        return "arn:%s:%s:%s:%s:%s" % (self.partition, service, self.region if region else "", account, resource)

    def add(self, service, rtype, rid, tags, arn=None, name=None, pending_since=None):
        if not self.matches(tags):
            return
        item = {"service": service, "type": rtype, "id": rid, "tags": tags}
        if arn:
            item["arn"] = arn
        if name:
            item["name"] = name
        if pending_since is not None:
            item["deletion_date"] = iso(pending_since)
            self.pending.append(item)
        else:
            self.resources.append(item)

    def identify(self):
        """Account id and partition, for the ARNs the list calls do not give."""
        try:
            sts = self.client("sts")
            self.account = sts.get_caller_identity(aws_retry=True)["Account"]
            self.partition = sts.meta.partition or "aws"
        except (NoCredentialsError, PartialCredentialsError) as e:
            raise AnsibleAWSError(message="No usable AWS credentials", exception=e) from e
        except (BotoCoreError, ClientError, NotImplementedError, KeyError):
            # Not fatal: ARNs are then only reported when the API returns them.
            self.account = None

    def run(self, services):
        """Scan ``services``; a resource type that cannot be read is recorded as unscanned, missing or partial
        credentials raise AnsibleAWSError."""
        self.identify()
        for service in SERVICES:
            if service not in services:
                continue
            for rtype, scan in getattr(self, "scan_" + service)():
                try:
                    scan()
                except (NoCredentialsError, PartialCredentialsError) as e:
                    raise AnsibleAWSError(message="No usable AWS credentials", exception=e) from e
                except (BotoCoreError, ClientError, NotImplementedError, ScanError) as e:
                    self.unscanned.append({"service": service, "type": rtype, "reason": describe_error(e)})
                except (KeyError, TypeError, ValueError) as e:
                    # A stand-in answering with an unexpected shape must not stop the other types.
                    reason = "unexpected response: %s: %s" % (type(e).__name__, to_text(e))
                    self.unscanned.append({"service": service, "type": rtype, "reason": reason})

    # -- ec2 --------------------------------------------------------------

    def scan_ec2(self):
        return [
            ("vpc", self.ec2_vpcs),
            ("subnet", self.ec2_subnets),
            ("internet_gateway", self.ec2_internet_gateways),
            ("nat_gateway", self.ec2_nat_gateways),
            ("elastic_ip", self.ec2_elastic_ips),
            ("route_table", self.ec2_route_tables),
            ("security_group", self.ec2_security_groups),
            ("launch_template", self.ec2_launch_templates),
            ("instance", self.ec2_instances),
            ("network_interface", self.ec2_network_interfaces),
            ("vpc_endpoint", self.ec2_vpc_endpoints),
            ("volume", self.ec2_volumes),
        ]

    def ec2_add(self, rtype, kind, rid, tag_list, owner=None, name=None, arn=None):
        tags = boto3_tag_list_to_ansible_dict(tag_list or [])
        arn = arn or self.arn("ec2", "%s/%s" % (kind, rid), owner=owner)
        self.add("ec2", rtype, rid, tags, arn=arn, name=name or tags.get("Name"))

    def ec2_vpcs(self):
        for vpc in self.collect(self.client("ec2"), "describe_vpcs", "Vpcs", Filters=self.ec2_filters()):
            self.ec2_add("vpc", "vpc", vpc["VpcId"], vpc.get("Tags"), owner=vpc.get("OwnerId"))

    def ec2_subnets(self):
        for subnet in self.collect(self.client("ec2"), "describe_subnets", "Subnets", Filters=self.ec2_filters()):
            self.ec2_add(
                "subnet", "subnet", subnet["SubnetId"], subnet.get("Tags"),
                owner=subnet.get("OwnerId"), arn=subnet.get("SubnetArn"),
            )

    def ec2_internet_gateways(self):
        client = self.client("ec2")
        for igw in self.collect(client, "describe_internet_gateways", "InternetGateways", Filters=self.ec2_filters()):
            self.ec2_add("internet_gateway", "internet-gateway", igw["InternetGatewayId"], igw.get("Tags"), owner=igw.get("OwnerId"))

    def ec2_nat_gateways(self):
        # The NAT gateway call names its filter parameter "Filter".
        for nat in self.collect(self.client("ec2"), "describe_nat_gateways", "NatGateways", Filter=self.ec2_filters()):
            if nat.get("State") == "deleted":
                continue
            self.ec2_add("nat_gateway", "natgateway", nat["NatGatewayId"], nat.get("Tags"))

    def ec2_elastic_ips(self):
        for address in self.collect(self.client("ec2"), "describe_addresses", "Addresses", Filters=self.ec2_filters()):
            rid = address.get("AllocationId") or address.get("PublicIp")
            self.ec2_add("elastic_ip", "elastic-ip", rid, address.get("Tags"))

    def ec2_route_tables(self):
        for table in self.collect(self.client("ec2"), "describe_route_tables", "RouteTables", Filters=self.ec2_filters()):
            self.ec2_add("route_table", "route-table", table["RouteTableId"], table.get("Tags"), owner=table.get("OwnerId"))

    def ec2_security_groups(self):
        client = self.client("ec2")
        for group in self.collect(client, "describe_security_groups", "SecurityGroups", Filters=self.ec2_filters()):
            self.ec2_add(
                "security_group", "security-group", group["GroupId"], group.get("Tags"),
                owner=group.get("OwnerId"), name=group.get("GroupName"), arn=group.get("SecurityGroupArn"),
            )

    def ec2_launch_templates(self):
        client = self.client("ec2")
        for template in self.collect(client, "describe_launch_templates", "LaunchTemplates", Filters=self.ec2_filters()):
            self.ec2_add(
                "launch_template", "launch-template", template["LaunchTemplateId"], template.get("Tags"),
                name=template.get("LaunchTemplateName"),
            )

    def ec2_instances(self):
        for reservation in self.collect(self.client("ec2"), "describe_instances", "Reservations", Filters=self.ec2_filters()):
            for instance in reservation.get("Instances", []):
                if instance.get("State", {}).get("Name") == "terminated":
                    continue
                self.ec2_add("instance", "instance", instance["InstanceId"], instance.get("Tags"), owner=reservation.get("OwnerId"))

    def ec2_network_interfaces(self):
        client = self.client("ec2")
        for eni in self.collect(client, "describe_network_interfaces", "NetworkInterfaces", Filters=self.ec2_filters()):
            # Network interfaces carry their tags in "TagSet".
            self.ec2_add(
                "network_interface", "network-interface", eni["NetworkInterfaceId"], eni.get("TagSet") or eni.get("Tags"),
                owner=eni.get("OwnerId"),
            )

    def ec2_vpc_endpoints(self):
        for endpoint in self.collect(self.client("ec2"), "describe_vpc_endpoints", "VpcEndpoints", Filters=self.ec2_filters()):
            if (endpoint.get("State") or "").lower() == "deleted":
                continue
            self.ec2_add("vpc_endpoint", "vpc-endpoint", endpoint["VpcEndpointId"], endpoint.get("Tags"), owner=endpoint.get("OwnerId"))

    def ec2_volumes(self):
        for volume in self.collect(self.client("ec2"), "describe_volumes", "Volumes", Filters=self.ec2_filters()):
            if volume.get("State") in ("deleting", "deleted"):
                continue
            self.ec2_add("volume", "volume", volume["VolumeId"], volume.get("Tags"))

    # -- eks --------------------------------------------------------------

    def scan_eks(self):
        # Node groups are looked for in every cluster, tagged or not.
        return [("cluster", self.eks_clusters), ("nodegroup", self.eks_nodegroups)]

    def eks_cluster_names(self):
        if self._eks_clusters is None:
            self._eks_clusters = self.collect(self.client("eks"), "list_clusters", "clusters")
        return self._eks_clusters

    def eks_clusters(self):
        client = self.client("eks")
        for name in self.eks_cluster_names():
            found = self.read(client, "describe_cluster", name=name)
            if found is None:
                continue
            cluster = found["cluster"]
            self.add("eks", "cluster", name, cluster.get("tags") or {}, arn=cluster.get("arn"), name=name)

    def eks_nodegroups(self):
        client = self.client("eks")
        for cluster in self.eks_cluster_names():
            try:
                names = self.collect(client, "list_nodegroups", "nodegroups", clusterName=cluster)
            except ClientError as e:
                if error_code(e) in GONE_CODES:
                    continue
                raise
            for name in names:
                found = self.read(client, "describe_nodegroup", clusterName=cluster, nodegroupName=name)
                if found is None:
                    continue
                group = found["nodegroup"]
                self.add(
                    "eks", "nodegroup", "%s/%s" % (cluster, name), group.get("tags") or {},
                    arn=group.get("nodegroupArn"), name=name,
                )

    # -- elbv2 ------------------------------------------------------------

    def scan_elbv2(self):
        return [("load_balancer", self.elbv2_load_balancers), ("target_group", self.elbv2_target_groups)]

    def elbv2_tagged(self, rtype, items, arn_key, name_key):
        client = self.client("elbv2")
        for start in range(0, len(items), 20):  # DescribeTags takes at most 20 ARNs
            chunk = items[start:start + 20]
            found = self.read(client, "describe_tags", ResourceArns=[item[arn_key] for item in chunk])
            if found is None:  # one of them went meanwhile, which fails the whole call: read them one by one
                if len(chunk) > 1:
                    for item in chunk:
                        self.elbv2_tagged(rtype, [item], arn_key, name_key)
                continue
            tags = dict((d["ResourceArn"], boto3_tag_list_to_ansible_dict(d.get("Tags") or [])) for d in found.get("TagDescriptions") or [])
            for item in chunk:
                if item[arn_key] in tags:
                    self.add("elbv2", rtype, item[arn_key], tags[item[arn_key]], arn=item[arn_key], name=item.get(name_key))

    def elbv2_load_balancers(self):
        balancers = self.collect(self.client("elbv2"), "describe_load_balancers", "LoadBalancers")
        self.elbv2_tagged("load_balancer", balancers, "LoadBalancerArn", "LoadBalancerName")

    def elbv2_target_groups(self):
        groups = self.collect(self.client("elbv2"), "describe_target_groups", "TargetGroups")
        self.elbv2_tagged("target_group", groups, "TargetGroupArn", "TargetGroupName")

    # -- efs --------------------------------------------------------------

    def scan_efs(self):
        return [("file_system", self.efs_file_systems), ("access_point", self.efs_access_points)]

    def efs_file_systems(self):
        for fs in self.collect(self.client("efs"), "describe_file_systems", "FileSystems"):
            if fs.get("LifeCycleState") == "deleted":
                continue
            tags = boto3_tag_list_to_ansible_dict(fs.get("Tags") or [])
            self.add("efs", "file_system", fs["FileSystemId"], tags, arn=fs.get("FileSystemArn"), name=fs.get("Name") or tags.get("Name"))

    def efs_access_points(self):
        for point in self.collect(self.client("efs"), "describe_access_points", "AccessPoints"):
            if point.get("LifeCycleState") == "deleted":
                continue
            tags = boto3_tag_list_to_ansible_dict(point.get("Tags") or [])
            self.add(
                "efs", "access_point", point["AccessPointId"], tags,
                arn=point.get("AccessPointArn"), name=point.get("Name") or tags.get("Name"),
            )

    # -- s3 ---------------------------------------------------------------

    def scan_s3(self):
        return [("bucket", self.s3_buckets)]

    def s3_bucket_region(self, client, bucket):
        if bucket.get("BucketRegion"):
            return bucket["BucketRegion"]
        found = self.read(client, "get_bucket_location", Bucket=bucket["Name"])
        if found is None:
            return None
        return normalize_bucket_region(found.get("LocationConstraint"))

    def s3_buckets(self):
        client = self.client("s3")
        elsewhere = []
        denied = []
        for bucket in self.collect(client, "list_buckets", "Buckets"):
            name = bucket["Name"]
            try:
                region = self.s3_bucket_region(client, bucket)
                if region is None:
                    continue
                if region != self.region:
                    elsewhere.append(name)
                    continue
                try:
                    found = self.read(client, "get_bucket_tagging", Bucket=name)
                except ClientError as e:
                    if error_code(e) != "NoSuchTagSet":
                        raise
                    found = {"TagSet": []}
            except ClientError as e:
                code = error_code(e)
                if code in OTHER_REGION_CODES:
                    elsewhere.append(name)
                    continue
                if code in ("AccessDenied", "AllAccessDisabled"):
                    denied.append(name)
                    continue
                raise
            if found is None:
                continue
            tags = boto3_tag_list_to_ansible_dict(found.get("TagSet") or [])
            self.add("s3", "bucket", name, tags, arn="arn:%s:s3:::%s" % (self.partition, name), name=name)
        if elsewhere:
            message = "s3: %d bucket(s) in other regions than %s were not checked: %s"
            warn(self.module, message % (len(elsewhere), self.region, self._names(elsewhere)))
        if denied:
            message = "s3: access denied to the tags of %d bucket(s), they were not checked: %s"
            warn(self.module, message % (len(denied), self._names(denied)))

    @staticmethod
    def _names(names):
        shown = ", ".join(sorted(names)[:WARN_NAMES])
        return shown + (", ..." if len(names) > WARN_NAMES else "")

    # -- iam --------------------------------------------------------------

    def scan_iam(self):
        return [("role", self.iam_roles), ("policy", self.iam_policies), ("instance_profile", self.iam_instance_profiles),
                ("oidc_provider", self.iam_oidc_providers)]

    def iam_roles(self):
        client = self.client("iam")
        for role in self.collect(client, "list_roles", "Roles"):
            # ListRoles does not return tags on AWS; fetch them unless it did.
            tag_list = role.get("Tags")
            if not tag_list:
                try:
                    tag_list = self.collect(client, "list_role_tags", "Tags", RoleName=role["RoleName"])
                except ClientError as e:
                    if error_code(e) in GONE_CODES:
                        continue
                    raise
            self.add("iam", "role", role["RoleName"], boto3_tag_list_to_ansible_dict(tag_list), arn=role.get("Arn"), name=role["RoleName"])

    def iam_policies(self):
        client = self.client("iam")
        for policy in self.collect(client, "list_policies", "Policies", Scope="Local"):
            tag_list = policy.get("Tags")
            if not tag_list:
                try:
                    tag_list = self.collect(client, "list_policy_tags", "Tags", PolicyArn=policy["Arn"])
                except ClientError as e:
                    if error_code(e) in GONE_CODES:
                        continue
                    raise
            self.add("iam", "policy", policy["Arn"], boto3_tag_list_to_ansible_dict(tag_list), arn=policy["Arn"], name=policy.get("PolicyName"))

    def iam_instance_profiles(self):
        client = self.client("iam")
        for profile in self.collect(client, "list_instance_profiles", "InstanceProfiles"):
            name = profile["InstanceProfileName"]
            tag_list = profile.get("Tags")
            if not tag_list:
                found = self.read(client, "get_instance_profile", InstanceProfileName=name)
                if found is None:
                    continue
                tag_list = found["InstanceProfile"].get("Tags")
            self.add("iam", "instance_profile", name, boto3_tag_list_to_ansible_dict(tag_list or []), arn=profile.get("Arn"), name=name)

    def iam_oidc_providers(self):
        client = self.client("iam")
        for entry in (self.read(client, "list_open_id_connect_providers") or {}).get("OpenIDConnectProviderList", []):
            found = self.read(client, "get_open_id_connect_provider", OpenIDConnectProviderArn=entry["Arn"])
            if found is None:
                continue
            url = entry["Arn"].split(":oidc-provider/", 1)[-1]
            self.add("iam", "oidc_provider", entry["Arn"], boto3_tag_list_to_ansible_dict(found.get("Tags", [])), arn=entry["Arn"], name=url)

    # -- sqs, events, logs ------------------------------------------------

    def scan_sqs(self):
        return [("queue", self.sqs_queues)]

    def sqs_queues(self):
        client = self.client("sqs")
        for url in self.collect(client, "list_queues", "QueueUrls"):
            found = self.read(client, "list_queue_tags", QueueUrl=url)
            if found is None:
                continue
            parts = url.rstrip("/").split("/")
            name = parts[-1]
            arn = None
            if len(parts) >= 2 and parts[-2].isdigit():
                arn = "arn:%s:sqs:%s:%s:%s" % (self.partition, self.region, parts[-2], name)
            self.add("sqs", "queue", url, found.get("Tags") or {}, arn=arn, name=name)

    def scan_events(self):
        return [("rule", self.events_rules)]

    def events_rules(self):
        client = self.client("events")
        for rule in self.collect(client, "list_rules", "Rules", EventBusName="default"):
            found = self.read(client, "list_tags_for_resource", ResourceARN=rule["Arn"])
            if found is None:
                continue
            tags = boto3_tag_list_to_ansible_dict(found.get("Tags") or [])
            self.add("events", "rule", rule["Name"], tags, arn=rule["Arn"], name=rule["Name"])

    def scan_logs(self):
        return [("log_group", self.logs_groups)]

    def logs_groups(self):
        client = self.client("logs")
        for group in self.collect(client, "describe_log_groups", "logGroups"):
            arn = group.get("logGroupArn") or group.get("arn") or ""
            if arn.endswith(":*"):
                arn = arn[:-2]
            if not arn:
                raise ScanError("log group %s has no ARN to read its tags with" % group.get("logGroupName"))
            found = self.read(client, "list_tags_for_resource", resourceArn=arn)
            if found is None:
                continue
            name = group["logGroupName"]
            self.add("logs", "log_group", name, found.get("tags") or {}, arn=arn, name=name)

    # -- secretsmanager, kms ----------------------------------------------

    def scan_secretsmanager(self):
        return [("secret", self.secrets)]

    def secrets(self):
        client = self.client("secretsmanager")
        for secret in self.collect(client, "list_secrets", "SecretList", IncludePlannedDeletion=True):
            tags = boto3_tag_list_to_ansible_dict(secret.get("Tags") or [])
            self.add(
                "secretsmanager", "secret", secret["ARN"], tags,
                arn=secret["ARN"], name=secret.get("Name"), pending_since=secret.get("DeletedDate"),
            )

    def scan_kms(self):
        return [("key", self.kms_keys)]

    def kms_keys(self):
        client = self.client("kms")
        aliases = {}
        for alias in self.collect(client, "list_aliases", "Aliases"):
            target = alias.get("TargetKeyId")
            if target and target not in aliases and not alias.get("AliasName", "").startswith("alias/aws/"):
                aliases[target] = alias["AliasName"]
        for key in self.collect(client, "list_keys", "Keys"):
            found = self.read(client, "describe_key", KeyId=key["KeyId"])
            if found is None:
                continue
            meta = found["KeyMetadata"]
            if meta.get("KeyManager") == "AWS":
                continue
            try:
                tag_list = self.collect(client, "list_resource_tags", "Tags", KeyId=key["KeyId"])
            except ClientError as e:
                if error_code(e) in GONE_CODES:
                    continue
                raise
            pending = None
            if meta.get("KeyState") in ("PendingDeletion", "PendingReplicaDeletion"):
                pending = meta.get("DeletionDate") or meta.get("KeyState")
            self.add(
                "kms", "key", key["KeyId"], boto3_tag_list_to_ansible_dict(tag_list, "TagKey", "TagValue"),
                arn=meta.get("Arn") or key.get("KeyArn"), name=aliases.get(key["KeyId"]), pending_since=pending,
            )


def main():
    argument_spec = dict(
        tags=dict(type="dict", required=True),
        services=dict(type="list", elements="str", choices=SERVICES, default=list(SERVICES)),
    )
    module = AnsibleEKSModule(argument_spec=argument_spec, supports_check_mode=True)

    tags = module.params["tags"]
    if not tags:
        module.fail_json(msg="tags must not be empty: an empty filter would match every resource of the account")
    bad = sorted(key for key, value in tags.items() if value is None or isinstance(value, (dict, list)))
    if bad:
        module.fail_json(msg="tag values must be strings; check the tag(s): %s" % ", ".join(bad))
    if not module.region:
        module.fail_json(msg="a region is required (option region or the AWS_REGION environment variable)")

    scanner = Scanner(module, dict((to_text(key), to_text(value)) for key, value in tags.items()))
    try:
        scanner.run(module.params["services"])
    except AnsibleAWSError as error:
        module.fail_json_aws_error(error)

    resources = sorted(scanner.resources, key=lambda item: (item["service"], item["type"], item["id"]))
    by_type = {}
    for item in resources:
        key = "%s:%s" % (item["service"], item["type"])
        by_type[key] = by_type.get(key, 0) + 1

    module.exit_json(
        changed=False,
        resources=resources,
        count=len(resources),
        by_type=by_type,
        pending_deletion=sorted(scanner.pending, key=lambda item: (item["service"], item["type"], item["id"])),
        unscanned=scanner.unscanned,
        complete=not scanner.unscanned,
    )


if __name__ == "__main__":
    main()
