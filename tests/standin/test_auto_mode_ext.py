"""EKS Auto Mode's compute stand-in: NodeClass checks as Auto Mode's nodes meet them, and the KWOK twins of NodePools.
(The whole flow on the local API server is tests/system/test_auto_mode.py.)"""
import copy
import json
from types import SimpleNamespace

from tests.standin import auto_mode_ext

VPC = "vpc-0aa"
ROLE_NAME = "llm-eks-auto-node"
ROLE_ARN = "arn:aws:iam::123456789012:role/" + ROLE_NAME
EC2_TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
NODE_POLICIES = auto_mode_ext.AUTO_MODE["node_role"]["managed_policies"]
AUTO_NODE_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSAutoNodePolicy"


def _tagged(rid, tags, **extra):
    return SimpleNamespace(id=rid, get_tags=lambda: [{"key": k, "value": v} for k, v in tags.items()], **extra)


def _world(entry_type="EC2", policies=(AUTO_NODE_POLICY,), role_policies=NODE_POLICIES, trust=EC2_TRUST):
    cluster = SimpleNamespace(name="llm", resources_vpc_config={"vpcId": VPC})
    cluster._standin = {"entries": {ROLE_ARN: {"type": entry_type, "_policies": dict((p, {}) for p in policies)}}}  # pylint: disable=protected-access
    subnets = {"us-west-2a": {"subnet-1": _tagged("subnet-1", {"karpenter.sh/discovery": "llm"}, vpc_id=VPC, availability_zone="us-west-2a"),
                              "subnet-9": _tagged("subnet-9", {"karpenter.sh/discovery": "llm"}, vpc_id="vpc-other",
                                                  availability_zone="us-west-2a")},
               "us-west-2b": {"subnet-2": _tagged("subnet-2", {"karpenter.sh/discovery": "other"}, vpc_id=VPC, availability_zone="us-west-2b")}}
    groups = {VPC: {"sg-1": _tagged("sg-1", {"aws:eks:cluster-name": "llm"}, name="eks-cluster-sg-llm")},
              "vpc-other": {"sg-9": _tagged("sg-9", {"aws:eks:cluster-name": "llm"}, name="eks-cluster-sg-llm")}}
    role = SimpleNamespace(name=ROLE_NAME, arn=ROLE_ARN, assume_role_policy_document=trust,
                           managed_policies=dict(("arn:aws:iam::aws:policy/" + p, SimpleNamespace(name=p)) for p in role_policies))
    return cluster, SimpleNamespace(subnets=subnets, groups=groups), SimpleNamespace(roles={"AROA1": role})


NODE_CLASS = {"apiVersion": "eks.amazonaws.com/v1", "kind": "NodeClass", "metadata": {"name": "gpu", "generation": 3},
              "spec": {"role": ROLE_NAME, "subnetSelectorTerms": [{"tags": {"karpenter.sh/discovery": "llm"}}],
                       "securityGroupSelectorTerms": [{"tags": {"aws:eks:cluster-name": "llm"}}]}}


def _conditions(status):
    return dict((c["type"], (c["status"], c["message"])) for c in status["conditions"])


def test_a_node_class_whose_role_subnets_and_groups_are_right_is_ready_with_what_it_selected():
    status = auto_mode_ext.node_class_status(NODE_CLASS, *_world())
    assert {kind: value[0] for kind, value in _conditions(status).items()} == {
        "SubnetsReady": "True", "SecurityGroupsReady": "True", "RoleReady": "True", "Ready": "True"}
    # only the cluster's VPC (subnet-9 and sg-9 carry the tags in another one), only the tagged subnet
    assert status["subnets"] == [{"id": "subnet-1", "zone": "us-west-2a"}]
    assert status["securityGroups"] == [{"id": "sg-1", "name": "eks-cluster-sg-llm"}]
    assert all(c["observedGeneration"] == 3 for c in status["conditions"])
    # a later pass with the same verdicts keeps the transition times
    again = auto_mode_ext.node_class_status(dict(NODE_CLASS, status=status), *_world())
    assert again == status


def test_a_role_without_its_ec2_access_entry_keeps_the_node_class_from_being_ready():
    status = auto_mode_ext.node_class_status(NODE_CLASS, *_world(entry_type="STANDARD"))
    ready, message = _conditions(status)["Ready"]
    assert ready == "False" and "no access entry of type EC2" in message and "its nodes could not join" in message
    assert _conditions(status)["RoleReady"][0] == "False" and _conditions(status)["SubnetsReady"][0] == "True"
    status = auto_mode_ext.node_class_status(NODE_CLASS, *_world(policies=()))
    assert "has no AmazonEKSAutoNodePolicy" in _conditions(status)["Ready"][1]


def test_a_role_without_the_node_policies_or_the_ec2_trust_is_named_with_what_it_lacks():
    status = auto_mode_ext.node_class_status(NODE_CLASS, *_world(role_policies=NODE_POLICIES[:1]))
    assert _conditions(status)["RoleReady"] == ("False", "IAM role %s lacks %s" % (ROLE_NAME, ", ".join(NODE_POLICIES[1:])))
    eks_trust = EC2_TRUST.replace("ec2.amazonaws.com", "eks.amazonaws.com")
    status = auto_mode_ext.node_class_status(NODE_CLASS, *_world(trust=eks_trust))
    assert _conditions(status)["RoleReady"] == ("False", "IAM role %s does not trust ec2.amazonaws.com" % ROLE_NAME)
    unknown = copy.deepcopy(NODE_CLASS)
    unknown["spec"]["role"] = "arn:aws:iam::123456789012:role/nobody"
    assert _conditions(auto_mode_ext.node_class_status(unknown, *_world()))["RoleReady"] == ("False", "IAM role nobody not found")


def test_selector_terms_that_match_nothing_say_so():
    lost = copy.deepcopy(NODE_CLASS)
    lost["spec"]["subnetSelectorTerms"] = [{"tags": {"karpenter.sh/discovery": "elsewhere"}}]
    lost["spec"]["securityGroupSelectorTerms"] = [{"id": "sg-1", "tags": {"aws:eks:cluster-name": "other"}}]
    conditions = _conditions(auto_mode_ext.node_class_status(lost, *_world()))
    assert conditions["SubnetsReady"][0] == conditions["SecurityGroupsReady"][0] == conditions["Ready"][0] == "False"
    by_name = copy.deepcopy(NODE_CLASS)
    by_name["spec"]["securityGroupSelectorTerms"] = [{"name": "eks-cluster-sg-llm"}]
    assert _conditions(auto_mode_ext.node_class_status(by_name, *_world()))["SecurityGroupsReady"][0] == "True"


POOL = {"apiVersion": "karpenter.sh/v1", "kind": "NodePool",
        "metadata": {"name": "cpu", "labels": {"app.kubernetes.io/managed-by": "eks_llm.inference"}, "generation": 1},
        "spec": {"limits": {"cpu": 64}, "disruption": {"consolidationPolicy": "WhenEmptyOrUnderutilized", "consolidateAfter": "1m"},
                 "template": {"metadata": {"labels": {"eks-llm/node-pool": "cpu"}},
                              "spec": {"nodeClassRef": {"group": "eks.amazonaws.com", "kind": "NodeClass", "name": "cpu"},
                                       "requirements": [
                                           {"key": "eks.amazonaws.com/instance-category", "operator": "In", "values": ["c", "m", "r"]},
                                           {"key": "eks.amazonaws.com/instance-generation", "operator": "Gt", "values": ["5"]},
                                           {"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["spot", "on-demand"]}]}}}}


def test_the_twin_of_a_node_pool_names_the_kwok_class_and_the_instance_labels_kwok_offers():
    twin = auto_mode_ext.twin_node_pool(POOL)
    assert twin["metadata"] == {"name": "auto-mode-cpu", "labels": {auto_mode_ext.TWIN_LABEL: "cpu"}}
    spec = twin["spec"]["template"]["spec"]
    assert spec["nodeClassRef"] == {"group": "karpenter.kwok.sh", "kind": "KWOKNodeClass", "name": "auto-mode-cpu"}
    assert [r["key"] for r in spec["requirements"]] == [
        "karpenter.k8s.aws/instance-category", "karpenter.k8s.aws/instance-generation", "karpenter.sh/capacity-type"]
    assert twin["spec"]["template"]["metadata"]["labels"] == {"eks-llm/node-pool": "cpu", "eks.amazonaws.com/compute-type": "auto"}
    assert twin["spec"]["limits"] == POOL["spec"]["limits"] and twin["spec"]["disruption"] == POOL["spec"]["disruption"]
    # the product's own labels stay off the twin (its cleanup would take the twin for a stale pool of its own)
    assert "app.kubernetes.io/managed-by" not in twin["metadata"]["labels"]
    assert POOL["spec"]["template"]["spec"]["nodeClassRef"]["kind"] == "NodeClass", "the original is left as it was"


def test_the_twin_of_a_node_class_boots_its_nodes_in_the_stand_ins_node_boot(monkeypatch):
    settings = {"node_registration_delay": "2s"}
    monkeypatch.setattr(auto_mode_ext.config, "get", settings.get)
    assert auto_mode_ext.twin_node_class(NODE_CLASS) == {
        "apiVersion": "karpenter.kwok.sh/v1alpha1", "kind": "KWOKNodeClass",
        "metadata": {"name": "auto-mode-gpu", "labels": {auto_mode_ext.TWIN_LABEL: "gpu"}}, "spec": {"nodeRegistrationDelay": "2s"}}
    settings["node_registration_delay"] = None
    assert auto_mode_ext.twin_node_class(NODE_CLASS)["spec"] == {}
