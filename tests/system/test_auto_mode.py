"""EKS Auto Mode end to end on the local stand-ins: site.yml on the local inventory in Auto Mode
(inventories/local-auto-mode) from an empty account to a verified model, a second run that changes nothing, a node role
that loses its access entry, and a teardown that leaves nothing.

The EKS stand-in enforces Auto Mode's API rules (tests/standin/eks_ext.py); on the local API server the Auto Mode
stand-in (tests/standin/auto_mode_ext.py) serves the NodeClass API while the cluster has Auto Mode compute on, checks
each NodeClass as Auto Mode's nodes meet it (role, its EC2 access entry, subnets, security groups) and has Karpenter's
KWOK provider launch the nodes of the NodePools that reference a ready one. No core node group: the platform's pods run
on the CPU NodePool's nodes.
"""
import json
import os

import pytest

from tests.standin.llm_server import running_llm_server
from tests.system.conftest import REPO, aws, kube_objects, kubectl, leftovers, run_playbook, wait_for, write_inventory

AUTO_INVENTORY = os.path.join(REPO, "inventories", "local-auto-mode")
NAME = "llm-local-auto"
NODE_ROLE = NAME + "-eks-auto-node"
pytestmark = pytest.mark.auto_mode
ENDPOINTS = [{"name": "triton", "flavor": "triton", "models": ["opt-350m"], "ttft_ms": 5, "itl_ms": 1}]


def conditions(item):
    return dict((c["type"], c) for c in (item.get("status") or {}).get("conditions") or [])


@pytest.fixture(scope="module")
def deployed(aws_standin, local_kubernetes, tmp_path_factory):
    """site.yml (benchmark skipped) on a blank account in Auto Mode, verified against an LLM stand-in; yields
    {state, inventory, env, first, reports}. The module's last test tears down; if it did not get there, this does."""
    from tests.standin.fixtures import DEFAULTS  # pylint: disable=import-outside-toplevel

    aws_standin.reset()
    aws_standin.configure(**DEFAULTS)
    aws_standin.configure(**local_kubernetes["aws_settings"])
    kubectl(local_kubernetes, "delete", "nodes", "-l", "eks.amazonaws.com/nodegroup", "--wait=false")
    tmp_path = tmp_path_factory.mktemp("auto-mode")
    reports = str(tmp_path / "reports")
    with running_llm_server(ENDPOINTS, process=True) as llm:
        inventory = write_inventory(tmp_path, source=AUTO_INVENTORY, changes={"eks_llm_verify": {
            "mode": "controller", "check_workloads": True, "check_prometheus": False, "check_hpa": False, "check_interruption": False,
            "timeout_s": 10, "concurrency": 5, "max_tokens": 8, "results_dir": reports,
            "endpoint_overrides": {"opt-350m": {"base_url": llm.url("triton"), "metrics_url": llm.url("triton", "metrics_url")}}}})
        run = {"state": local_kubernetes, "inventory": inventory, "reports": reports, "torn_down": False}
        try:
            run["first"] = run_playbook("site.yml", inventory, args=["--skip-tags", "benchmark"])
            yield run
        finally:
            if not run["torn_down"]:
                run_playbook("teardown.yml", inventory)
            aws_standin.configure(**DEFAULTS)


def test_a_model_serves_on_nodes_auto_mode_launched_for_its_node_pools(deployed):
    first, state = deployed["first"], deployed["state"]
    assert first.returncode == 0 and first.failed == 0, first
    cluster = aws("eks").describe_cluster(name=NAME)["cluster"]
    # no built-in node pools (so no node role in the compute config: EKS refuses one without them); ours name the role
    assert cluster["computeConfig"]["enabled"] is True and not cluster["computeConfig"].get("nodePools"), cluster["computeConfig"]
    assert aws("eks").list_nodegroups(clusterName=NAME)["nodegroups"] == []
    # our NodeClasses, ready as Auto Mode judged them, and our NodePools on them (their status is Auto Mode's Karpenter's)
    classes = dict((c["metadata"]["name"], c) for c in kube_objects(state, "nodeclasses.eks.amazonaws.com"))
    assert sorted(classes) == ["cpu", "gpu"]
    for node_class in classes.values():
        assert node_class["spec"]["role"] == NODE_ROLE
        assert {kind: c["status"] for kind, c in conditions(node_class).items()} == {
            "SubnetsReady": "True", "SecurityGroupsReady": "True", "RoleReady": "True", "Ready": "True"}, node_class["status"]
        assert len(node_class["status"]["subnets"]) == 2  # the private subnets, tagged for discovery
    pools = dict((p["metadata"]["name"], p) for p in kube_objects(state, "nodepools.karpenter.sh", "-l", "app.kubernetes.io/part-of=" + NAME))
    assert sorted(pools) == ["cpu", "gpu-g5"]
    assert pools["gpu-g5"]["spec"]["template"]["spec"]["nodeClassRef"] == {"group": "eks.amazonaws.com", "kind": "NodeClass", "name": "gpu"}
    assert {"key": "eks.amazonaws.com/instance-category", "operator": "In", "values": ["c", "m", "r"]} in \
        pools["cpu"]["spec"]["template"]["spec"]["requirements"]
    assert all(conditions(p)["Ready"]["status"] == "True" for p in pools.values()), [p.get("status") for p in pools.values()]
    # no core node group, no Karpenter of ours, no device plugin: every node is an Auto Mode node of one of our pools
    nodes = kube_objects(state, "nodes")
    assert nodes and all(n["metadata"]["labels"].get("eks.amazonaws.com/compute-type") == "auto" for n in nodes), nodes
    pool_of = dict((n["metadata"]["name"], n["metadata"]["labels"]["eks-llm/node-pool"]) for n in nodes)
    assert kube_objects(state, "pods", "-n", "karpenter") == []
    assert [d["metadata"]["name"] for d in kube_objects(state, "daemonsets", "-n", "gpu-system")] == ["dcgm-exporter"]
    monitoring = kube_objects(state, "pods", "-n", "monitoring")
    assert monitoring and all(pool_of[p["spec"]["nodeName"]] == "cpu" for p in monitoring)
    model, = kube_objects(state, "pods", "-n", "llm", "-l", "eks-llm/model=opt-350m")
    assert pool_of[model["spec"]["nodeName"]] == "gpu-g5"
    # Auto Mode's own EBS driver provisions the gp3 class
    gp3 = json.loads(kubectl(state, "get", "storageclass", "gp3", "-o", "json"))
    assert gp3["provisioner"] == "ebs.csi.eks.amazonaws.com"
    # verify passed, and timed the model's start on a node launched for it
    run_dir, = [os.path.join(deployed["reports"], "verify", d) for d in os.listdir(os.path.join(deployed["reports"], "verify"))]
    with open(os.path.join(run_dir, "verify-report.json"), encoding="utf-8") as handle:
        report = json.load(handle)
    assert report["ok"] is True, [c for c in report["checks"] if c["ok"] is False]
    serving, = report["time_to_serving"]
    phases = dict((p["phase"], p) for p in serving["phases"])
    assert phases["nodeclaim_created"]["seconds"] is not None and phases["node_ready"]["seconds"] is not None, serving["phases"]
    assert serving["node"] == model["spec"]["nodeName"] and serving["total_s"] > 0


def test_a_second_run_changes_nothing(deployed):
    second = run_playbook("site.yml", deployed["inventory"], args=["--skip-tags", "benchmark"])
    assert second.returncode == 0 and second.changed == 0, second.changed_tasks()


def test_a_node_role_that_lost_its_access_entry_gets_no_nodes_until_the_aws_layer_restores_it(deployed):
    state = deployed["state"]
    eks = aws("eks")
    role_arn = aws("iam").get_role(RoleName=NODE_ROLE)["Role"]["Arn"]
    eks.delete_access_entry(clusterName=NAME, principalArn=role_arn)

    def refused():
        found = dict((c["metadata"]["name"], c) for c in kube_objects(state, "nodeclasses.eks.amazonaws.com"))
        ready = conditions(found["gpu"]).get("Ready") or {}
        return ready if ready.get("status") == "False" else None
    ready = wait_for(refused)
    assert ready and "no access entry of type EC2" in ready["message"], ready
    pool = json.loads(kubectl(state, "get", "nodepools.karpenter.sh", "gpu-g5", "-o", "json"))
    assert conditions(pool)["Ready"]["status"] == "False" and "NodeClass gpu is not ready" in conditions(pool)["Ready"]["message"]

    restored = run_playbook("playbooks/aws.yml", deployed["inventory"])
    assert restored.returncode == 0, restored
    assert eks.describe_access_entry(clusterName=NAME, principalArn=role_arn)["accessEntry"]["type"] == "EC2"

    def ready_again():
        pool = json.loads(kubectl(state, "get", "nodepools.karpenter.sh", "gpu-g5", "-o", "json"))
        return conditions(pool).get("Ready", {}).get("status") == "True"
    assert wait_for(ready_again), kubectl(state, "get", "nodeclasses.eks.amazonaws.com", "-o", "yaml")


def test_teardown_leaves_nothing_and_the_cluster_api_forgets_node_classes(deployed):
    state = deployed["state"]
    teardown = run_playbook("teardown.yml", deployed["inventory"])
    deployed["torn_down"] = teardown.returncode == 0
    assert teardown.returncode == 0, teardown
    assert leftovers(NAME) == []
    assert wait_for(lambda: not kube_objects(state, "nodeclaims.karpenter.sh") and not kube_objects(state, "nodes"), timeout=60), \
        kubectl(state, "get", "nodeclaims,nodes")
    assert kube_objects(state, "nodepools.karpenter.sh") == []
    # without an Auto Mode cluster the NodeClass API is gone again: a NodeClass is refused, as by EKS without Auto Mode
    gone = wait_for(lambda: "NotFound" in kubectl(state, "get", "crd", "nodeclasses.eks.amazonaws.com", check=False))
    assert gone, kubectl(state, "get", "crd", "nodeclasses.eks.amazonaws.com", check=False)
    refused = kubectl(state, "apply", "-f", "-", check=False, stdin=json.dumps({
        "apiVersion": "eks.amazonaws.com/v1", "kind": "NodeClass", "metadata": {"name": "late"},
        "spec": {"role": NODE_ROLE, "subnetSelectorTerms": [{"id": "subnet-1"}], "securityGroupSelectorTerms": [{"id": "sg-1"}]}}))
    assert 'no matches for kind "NodeClass"' in refused, refused
