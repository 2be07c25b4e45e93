"""The Karpenter controller policy and node roles against Karpenter's reference policy of the pinned release.

UPSTREAM below is a compact record (Sid -> actions, resources, conditions) of the reference policy in
aws/karpenter-provider-aws, tag v1.14.1 (the mirror has no v1.14.3 tag; versions.py pins 1.14.3),
website/content/en/docs/getting-started/getting-started-with-karpenter/cloudformation.yaml
(identical there to website/content/en/v1.13/... and, on main, website/content/en/v1.14/...).
Placeholders: ${Partition} ${Region} ${AccountId} ${ClusterName}; ${NodeRole} is KarpenterNodeRole.Arn's name,
${Queue} KarpenterInterruptionQueue's name. Our template is rendered as roles/iam renders it (Jinja, same variables).
"""
import json
import os
import re

import jinja2
import pytest
import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
ROLE = os.path.join(REPO, "roles", "iam")

_EC2 = "arn:${Partition}:ec2:${Region}:"
_LAUNCHED = [_EC2 + "*:" + kind + "/*" for kind in ("fleet", "instance", "volume", "network-interface", "launch-template",
                                                    "spot-instances-request")]
_PROFILE = "arn:${Partition}:iam::${AccountId}:instance-profile/*"
_OWNED = "kubernetes.io/cluster/${ClusterName}"
UPSTREAM = {
    "AllowScopedEC2InstanceAccessActions": {
        "actions": ["ec2:RunInstances", "ec2:CreateFleet"],
        "resources": [_EC2 + ":image/*", _EC2 + ":snapshot/*", _EC2 + "*:security-group/*", _EC2 + "*:subnet/*",
                      _EC2 + "*:capacity-reservation/*", _EC2 + "*:placement-group/*"],
        "conditions": {}},
    "AllowScopedEC2LaunchTemplateAccessActions": {
        "actions": ["ec2:RunInstances", "ec2:CreateFleet"],
        "resources": [_EC2 + "*:launch-template/*"],
        "conditions": {"StringEquals": {"aws:ResourceTag/" + _OWNED: "owned"},
                       "StringLike": {"aws:ResourceTag/karpenter.sh/nodepool": "*"}}},
    "AllowScopedEC2InstanceActionsWithTags": {
        "actions": ["ec2:RunInstances", "ec2:CreateFleet", "ec2:CreateLaunchTemplate"],
        "resources": _LAUNCHED,
        "conditions": {"StringEquals": {"aws:RequestTag/" + _OWNED: "owned", "aws:RequestTag/eks:eks-cluster-name": "${ClusterName}"},
                       "StringLike": {"aws:RequestTag/karpenter.sh/nodepool": "*"}}},
    "AllowScopedResourceCreationTagging": {
        "actions": ["ec2:CreateTags"],
        "resources": _LAUNCHED,
        "conditions": {"StringEquals": {"aws:RequestTag/" + _OWNED: "owned", "aws:RequestTag/eks:eks-cluster-name": "${ClusterName}",
                                        "ec2:CreateAction": ["RunInstances", "CreateFleet", "CreateLaunchTemplate"]},
                       "StringLike": {"aws:RequestTag/karpenter.sh/nodepool": "*"}}},
    "AllowScopedResourceTagging": {
        "actions": ["ec2:CreateTags"],
        "resources": [_EC2 + "*:instance/*"],
        "conditions": {"StringEquals": {"aws:ResourceTag/" + _OWNED: "owned"},
                       "StringLike": {"aws:ResourceTag/karpenter.sh/nodepool": "*"},
                       "StringEqualsIfExists": {"aws:RequestTag/eks:eks-cluster-name": "${ClusterName}"},
                       "ForAllValues:StringEquals": {"aws:TagKeys": ["eks:eks-cluster-name", "karpenter.sh/nodeclaim", "Name"]}}},
    "AllowScopedDeletion": {
        "actions": ["ec2:TerminateInstances", "ec2:DeleteLaunchTemplate"],
        "resources": [_EC2 + "*:instance/*", _EC2 + "*:launch-template/*"],
        "conditions": {"StringEquals": {"aws:ResourceTag/" + _OWNED: "owned"},
                       "StringLike": {"aws:ResourceTag/karpenter.sh/nodepool": "*"}}},
    "AllowPassingInstanceRole": {
        "actions": ["iam:PassRole"],
        "resources": ["arn:${Partition}:iam::${AccountId}:role/${NodeRole}"],
        "conditions": {"StringEquals": {"iam:PassedToService": ["ec2.amazonaws.com", "ec2.amazonaws.com.cn"]}}},
    "AllowScopedInstanceProfileCreationActions": {
        "actions": ["iam:CreateInstanceProfile"],
        "resources": [_PROFILE],
        "conditions": {"StringEquals": {"aws:RequestTag/" + _OWNED: "owned", "aws:RequestTag/eks:eks-cluster-name": "${ClusterName}",
                                        "aws:RequestTag/topology.kubernetes.io/region": "${Region}"},
                       "StringLike": {"aws:RequestTag/karpenter.k8s.aws/ec2nodeclass": "*"}}},
    "AllowScopedInstanceProfileTagActions": {
        "actions": ["iam:TagInstanceProfile"],
        "resources": [_PROFILE],
        "conditions": {"StringEquals": {"aws:ResourceTag/" + _OWNED: "owned", "aws:ResourceTag/topology.kubernetes.io/region": "${Region}",
                                        "aws:RequestTag/" + _OWNED: "owned", "aws:RequestTag/eks:eks-cluster-name": "${ClusterName}",
                                        "aws:RequestTag/topology.kubernetes.io/region": "${Region}"},
                       "StringLike": {"aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass": "*",
                                      "aws:RequestTag/karpenter.k8s.aws/ec2nodeclass": "*"}}},
    "AllowScopedInstanceProfileActions": {
        "actions": ["iam:AddRoleToInstanceProfile", "iam:RemoveRoleFromInstanceProfile", "iam:DeleteInstanceProfile"],
        "resources": [_PROFILE],
        "conditions": {"StringEquals": {"aws:ResourceTag/" + _OWNED: "owned", "aws:ResourceTag/topology.kubernetes.io/region": "${Region}"},
                       "StringLike": {"aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass": "*"}}},
    "AllowAPIServerEndpointDiscovery": {
        "actions": ["eks:DescribeCluster"],
        "resources": ["arn:${Partition}:eks:${Region}:${AccountId}:cluster/${ClusterName}"],
        "conditions": {}},
    "AllowInterruptionQueueActions": {
        "actions": ["sqs:DeleteMessage", "sqs:GetQueueUrl", "sqs:ReceiveMessage"],
        "resources": ["arn:${Partition}:sqs:${Region}:${AccountId}:${Queue}"],
        "conditions": {}},
    "AllowZonalShiftStatusReadOnly": {
        "actions": ["arc-zonal-shift:GetManagedResource"],
        "resources": ["*"],
        "conditions": {"StringEquals": {"arc-zonal-shift:ResourceIdentifier": "arn:${Partition}:eks:${Region}:${AccountId}:cluster/${ClusterName}"}}},
    "AllowRegionalReadActions": {
        "actions": ["ec2:DescribeCapacityReservations", "ec2:DescribeImages", "ec2:DescribeInstances", "ec2:DescribeInstanceStatus",
                    "ec2:DescribeInstanceTypeOfferings", "ec2:DescribeInstanceTypes", "ec2:DescribeLaunchTemplates",
                    "ec2:DescribePlacementGroups", "ec2:DescribeSecurityGroups", "ec2:DescribeSpotPriceHistory", "ec2:DescribeSubnets"],
        "resources": ["*"],
        "conditions": {"StringEquals": {"aws:RequestedRegion": "${Region}"}}},
    "AllowSSMReadActions": {
        "actions": ["ssm:GetParameter"],
        "resources": ["arn:${Partition}:ssm:${Region}::parameter/aws/service/*"],
        "conditions": {}},
    "AllowPricingReadActions": {
        "actions": ["pricing:GetProducts"],
        "resources": ["*"],
        "conditions": {}},
    "AllowUnscopedInstanceProfileListAction": {
        "actions": ["iam:ListInstanceProfiles"],
        "resources": ["*"],
        "conditions": {}},
    "AllowInstanceProfileReadActions": {
        "actions": ["iam:GetInstanceProfile"],
        "resources": [_PROFILE],
        "conditions": {}},
}
# Same file, KarpenterNodeRole.ManagedPolicyArns.
UPSTREAM_NODE_MANAGED = ["AmazonEKS_CNI_Policy", "AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryPullOnly",
                         "AmazonSSMManagedInstanceCore"]

# What we grant beyond the reference, each with its reason: {Sid: {"actions": [...], "resources": [...]}}.
# Empty: the controller gets exactly the reference policy.
BEYOND_UPSTREAM = {}

VARS = {"iam_partition": "aws", "iam_region": "eu-west-1", "iam_account_id": "123456789012", "iam_name": "llm-demo",
        "iam_interruption_queue": "llm-demo-karpenter"}
SUBST = {"Partition": "aws", "Region": "eu-west-1", "AccountId": "123456789012", "ClusterName": "llm-demo",
         "NodeRole": "llm-demo-karpenter-node", "Queue": "llm-demo-karpenter"}
IAM_INLINE_POLICY_MAX = 10240  # IAM quota: inline role policies, characters without whitespace


def render(template, **extra):
    """The template as the role's `lookup('ansible.builtin.template', ...) | from_json` sees it."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(os.path.join(ROLE, "templates")), undefined=jinja2.StrictUndefined)
    env.filters["to_json"] = json.dumps
    env.filters["regex_replace"] = lambda value, pattern, repl: re.sub(pattern, repl, value)
    return json.loads(env.get_template(template).render(**dict(VARS, **extra)))


def _expand(value):
    if isinstance(value, list):
        return [_expand(v) for v in value]
    if isinstance(value, dict):
        return {_expand(k): _expand(v) for k, v in value.items()}
    return re.sub(r"\$\{(\w+)\}", lambda m: SUBST[m.group(1)], value)


def _listed(value):
    return value if isinstance(value, list) else [value]


def _covered_by(resource, patterns):
    """resource (a pattern itself) is no broader than one of the patterns: equal, or matched with '*' as wildcard."""
    for pattern in patterns:
        if resource == pattern or re.fullmatch(re.escape(pattern).replace(r"\*", ".*").replace(r"\?", "."), resource):
            return True
    return False


@pytest.fixture(scope="module")
def controller():
    return {s.get("Sid"): s for s in render("karpenter-controller.json.j2")["Statement"]}


def test_every_statement_allows_and_has_a_sid(controller):
    assert None not in controller, "every statement of the controller policy needs a Sid (compared by Sid with upstream)"
    assert all(s["Effect"] == "Allow" for s in controller.values())


@pytest.mark.parametrize("sid", sorted(UPSTREAM))
def test_upstream_statement(controller, sid):
    ref = _expand(UPSTREAM[sid])
    assert sid in controller, "upstream statement %s missing from karpenter-controller.json.j2" % sid
    ours = controller[sid]
    actions = _listed(ours["Action"])
    missing = sorted(set(ref["actions"]) - set(actions))
    assert not missing, "%s: upstream actions not granted: %s" % (sid, missing)
    extra = sorted(set(actions) - set(ref["actions"]) - set(BEYOND_UPSTREAM.get(sid, {}).get("actions", [])))
    assert not extra, "%s: actions beyond upstream (allow-list them in BEYOND_UPSTREAM with a reason): %s" % (sid, extra)
    allowed = ref["resources"] + BEYOND_UPSTREAM.get(sid, {}).get("resources", [])
    broader = [r for r in _listed(ours["Resource"]) if not _covered_by(r, allowed)]
    assert not broader, "%s: resources broader than upstream %s: %s" % (sid, ref["resources"], broader)
    missing_res = [r for r in ref["resources"] if r not in _listed(ours["Resource"])]
    assert not missing_res, "%s: upstream resources not granted: %s" % (sid, missing_res)
    conditions = ours.get("Condition", {})
    for operator, keys in ref["conditions"].items():
        for key, values in keys.items():
            got = conditions.get(operator, {}).get(key)
            assert got is not None, "%s: upstream condition %s %s missing (we are broader)" % (sid, operator, key)
            assert set(_listed(got)) <= set(_listed(values)), "%s: condition %s %s = %s, upstream %s" % (sid, operator, key, got, values)


def test_nothing_beyond_upstream(controller):
    extra = sorted(set(controller) - set(UPSTREAM) - set(BEYOND_UPSTREAM))
    assert not extra, "statements not in the upstream reference (allow-list them in BEYOND_UPSTREAM with a reason): %s" % extra


def test_fits_the_inline_policy_quota():
    size = len(re.sub(r"\s", "", json.dumps(render("karpenter-controller.json.j2"))))
    assert size <= IAM_INLINE_POLICY_MAX, "controller policy is %d characters, IAM allows %d inline" % (size, IAM_INLINE_POLICY_MAX)


def test_node_roles_use_the_upstream_managed_policies():
    with open(os.path.join(ROLE, "vars", "main.yml"), encoding="utf-8") as handle:
        roles = {r["key"]: r for r in yaml.safe_load(handle)["__iam_roles"]}
    for key in ("node", "karpenter_node"):
        managed = roles[key]["managed"]
        assert "AmazonEC2ContainerRegistryReadOnly" not in managed, "%s: ECR ReadOnly grants more than pulling; use PullOnly" % key
        assert sorted(managed) == sorted(UPSTREAM_NODE_MANAGED), "%s: %s, upstream node role %s" % (key, managed, UPSTREAM_NODE_MANAGED)


def test_reserved_capacity_is_granted(controller):
    """What a GPU pool with capacity type reserved needs (docs/inventory.md, "Reserved GPU capacity"): listing the
    reservations, and launching into them."""
    assert "ec2:DescribeCapacityReservations" in _listed(controller["AllowRegionalReadActions"]["Action"])
    launch = controller["AllowScopedEC2InstanceAccessActions"]
    assert {"ec2:RunInstances", "ec2:CreateFleet"} <= set(_listed(launch["Action"]))
    assert "arn:aws:ec2:eu-west-1:*:capacity-reservation/*" in _listed(launch["Resource"])
