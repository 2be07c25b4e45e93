"""eks_llm_cluster.compute_mode: auto_mode - what it changes in eks_llm and what it refuses (with the reason)."""
import copy

import pytest

from ansible_collections.eks_llm.inference.plugins.module_utils import inventory_model

from tests.unit.plugins.module_utils.test_inventory_model import BASE

AUTO = dict(copy.deepcopy(BASE), eks_llm_cluster={"compute_mode": "auto_mode"})


def auto(**changes):
    result = copy.deepcopy(AUTO)
    result.update(changes)
    return result


def test_karpenter_stays_the_default():
    config, problems, dummy = inventory_model.validate(copy.deepcopy(BASE))
    assert problems == [] and config["cluster"]["compute_mode"] == "karpenter"
    assert sorted(config["cluster"]["addons"]) == sorted(inventory_model.DEFAULT_ADDONS)


def test_auto_mode_keeps_only_the_add_ons_auto_mode_does_not_run():
    config, problems, warnings = inventory_model.validate(auto())
    assert problems == [], problems
    assert config["cluster"]["compute_mode"] == "auto_mode"
    assert sorted(config["cluster"]["addons"]) == ["aws-efs-csi-driver"]  # VPC CNI, CoreDNS, kube-proxy, Pod Identity, EBS are built in
    assert config["karpenter"]["interruption_queue"] is False  # Auto Mode handles interruptions
    # the gp3 class (Prometheus' volume) is provisioned by Auto Mode's block storage: no "EBS add-on removed" problem
    assert config["monitoring"]["prometheus_storage_class"] == "gp3"
    # a reserved pool still works (Auto Mode's NodeClass selects reservations), without the queue warning
    reserved = auto(eks_llm_gpu_node_pools=[{"name": "g5", "instance_families": ["g5"], "capacity_types": ["reserved", "on-demand"],
                                             "capacity_reservations": [{"id": "cr-0a1b2c3d4e5f60718"}]}])
    config, problems, warnings = inventory_model.validate(reserved)
    assert problems == [] and not [w for w in warnings if "interruption_queue" in w]


@pytest.mark.parametrize("changes, variable, reason", [
    ({"eks_llm_core_nodes": {"instance_types": ["m6i.large"]}}, "eks_llm_core_nodes", "no managed node group"),
    ({"eks_llm_karpenter": {"interruption_queue": True}}, "eks_llm_karpenter.interruption_queue", "handles Spot and capacity interruptions"),
    ({"eks_llm_karpenter": {"replicas": 2}}, "eks_llm_karpenter.replicas", "AWS's Karpenter controller"),
    ({"eks_llm_karpenter": {"node_class_kind": "KWOKNodeClass"}}, "eks_llm_karpenter.node_class_kind", "its own NodeClass"),
    ({"eks_llm_karpenter": {"kwok_node_registration_delay": "75s"}}, "eks_llm_karpenter.kwok_node_registration_delay",
     "KWOKNodeClass of the local stand-in"),
    ({"eks_llm_karpenter": {"cpu_pool": False}}, "eks_llm_karpenter.cpu_pool", "only place the platform's pods"),
    ({"eks_llm_gpu_software": {"mode": "gpu_operator"}}, "eks_llm_gpu_software.mode", "carry the NVIDIA drivers and device plugin"),
    ({"eks_llm_gpu_software": {"time_slicing_replicas": 2}}, "eks_llm_gpu_software.time_slicing_replicas", "built into the AMI"),
    ({"eks_llm_gpu_node_pools": [{"name": "g5", "instance_families": ["g5"], "ami_family": "bottlerocket"}]},
     "eks_llm_gpu_node_pools[0] (g5).ami_family", "no custom AMI or AMI family"),
    ({"eks_llm_cluster": {"compute_mode": "auto_mode", "addons": {"vpc-cni": {}}}}, "eks_llm_cluster.addons.vpc-cni", "runs vpc-cni itself"),
    ({"eks_llm_cluster": {"compute_mode": "auto_mode", "addons": {"aws-ebs-csi-driver": {"version": "latest"}}}},
     "eks_llm_cluster.addons.aws-ebs-csi-driver", "runs aws-ebs-csi-driver itself"),
    ({"eks_llm_workload_credentials": {"karpenter_controller": "irsa"}}, "eks_llm_workload_credentials.karpenter_controller",
     "no Karpenter controller of ours"),
])
def test_what_auto_mode_cannot_do_is_refused_with_the_reason(changes, variable, reason):
    config, problems, dummy = inventory_model.validate(auto(**changes))
    assert config is None
    matching = [p for p in problems if p.startswith(variable + ":")]
    assert len(matching) == 1, problems
    assert reason in matching[0] and "auto_mode" in matching[0]


def test_the_same_settings_pass_in_karpenter_mode():
    given = copy.deepcopy(BASE)
    given.update(eks_llm_core_nodes={"instance_types": ["m6i.large"]}, eks_llm_karpenter={"interruption_queue": True, "replicas": 2},
                 eks_llm_gpu_software={"mode": "gpu_operator"})
    assert inventory_model.validate(given)[1] == []


def test_null_for_a_built_in_add_on_is_accepted_in_auto_mode():
    config, problems, dummy = inventory_model.validate(auto(eks_llm_cluster={"compute_mode": "auto_mode", "addons": {"coredns": None}}))
    assert problems == [] and "coredns" not in config["cluster"]["addons"]
