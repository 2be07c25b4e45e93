"""Relations between inventory variables: capacity across fields and settings that only work together.

Each case is one inventory with one defect; the validator must name it with the right path and the numbers,
before anything is created, and still report an unrelated problem planted beside it (all problems at once).
"""
import copy

import pytest

from ansible_collections.eks_llm.inference.plugins.module_utils import inventory_model

from tests.unit.plugins.module_utils.test_inventory_model import BASE

PLANTED = "eks_llm_core_nodes.disk_size"


def problems(given):
    given = copy.deepcopy(given)
    given["eks_llm_core_nodes"] = {"disk_size": 5}
    config, found, dummy = inventory_model.validate(given)
    assert config is None
    assert any(p.startswith(PLANTED + ": ") for p in found), found
    return "\n".join(found)


def inventory(gpu_limit=8, instance_families=("g5",), instance_types=(), models=None):
    given = copy.deepcopy(BASE)
    given["eks_llm_gpu_node_pools"] = [{"name": "g5", "instance_families": list(instance_families),
                                        "instance_types": list(instance_types), "gpu_limit": gpu_limit}]
    if models is not None:
        given["eks_llm_models"] = models
    return given


def triton(name="opt", replicas=1, tp=1, scaling=None):
    model = {"name": name, "engine": "triton_vllm", "parameters_billion": 0.35, "precision": "fp16",
             "vllm": {"model_id": "facebook/opt-350m"}, "replicas": replicas, "tensor_parallel": tp}
    if scaling:
        model["autoscaling"] = dict(enabled=True, min_replicas=scaling[0], max_replicas=scaling[1])
    return model


@pytest.mark.parametrize("limit, models, scale, gpus", [
    (4, [triton(scaling=(1, 8))], "maximum", 8),
    (4, [triton("a", scaling=(1, 2)), triton("b", scaling=(1, 3))], "maximum", 5),
    (2, [triton(replicas=3)], "minimum", 3),
    (4, [triton(tp=2, scaling=(2, 3))], "maximum", 6),
    (3, [triton("a", tp=2, scaling=(2, 2))], "minimum", 4),
])
def test_models_that_outgrow_their_pools_gpu_limit_are_refused_with_the_numbers(limit, models, scale, gpus):
    text = problems(inventory(gpu_limit=limit, models=models))
    assert ("eks_llm_gpu_node_pools[0] (g5).gpu_limit: %d: the models on this pool need at least %d GPUs at their %s scale"
            % (limit, gpus, scale)) in text


def test_the_smallest_eligible_node_counts_whole():
    # g5.12xlarge only: one 1-GPU replica still launches a 4-GPU node, which a limit of 2 never allows
    text = problems(inventory(gpu_limit=2, instance_families=(), instance_types=("g5.12xlarge",), models=[triton()]))
    assert "need at least 4 GPUs at their minimum scale (opt 1 x 1 GPU; the smallest eligible node has 4)" in text


def test_models_within_the_limit_pass():
    given = inventory(gpu_limit=8, models=[triton("a", scaling=(1, 4)), triton("b", tp=2, scaling=(1, 2))])
    assert inventory_model.validate(given)[1] == []


@pytest.mark.parametrize("changes, path, words", [
    ({"eks_llm_efs": {"enabled": False}}, "eks_llm_efs.enabled",
     "false, but eks_llm_models[0] (llama3-8b), eks_llm_models[1] (opt-350m) keep their caches on the EFS storage class"),
    ({"eks_llm_cluster": {"addons": {"aws-efs-csi-driver": None}}}, "eks_llm_cluster.addons",
     "aws-efs-csi-driver is removed, but eks_llm_models[0] (llama3-8b)"),
    ({"eks_llm_monitoring": {"enabled": False}, "eks_llm_models": "autoscaled"}, "eks_llm_monitoring.enabled",
     "false, but eks_llm_models[1] (opt-350m).autoscaling scale on engine metrics"),
    ({"eks_llm_monitoring": {"enabled": False, "grafana_enabled": True}}, "eks_llm_monitoring.grafana_enabled",
     "true, but monitoring.enabled is false"),
    ({"eks_llm_monitoring": {"enabled": False}, "eks_llm_verify": {"check_prometheus": True}}, "eks_llm_verify.check_prometheus",
     "true, but eks_llm_monitoring.enabled is false"),
    ({"eks_llm_open_webui": {"enabled": True}, "eks_llm_models": "triton only"}, "eks_llm_open_webui.enabled",
     "no model uses a NIM engine"),
])
def test_settings_that_need_each_other_are_named(changes, path, words):
    given = copy.deepcopy(BASE)
    for key, value in changes.items():
        if key == "eks_llm_models" and value == "autoscaled":
            given[key][1]["autoscaling"] = {"enabled": True}
        elif key == "eks_llm_models":
            given[key] = given[key][1:]
        else:
            given[key] = value
    text = problems(given)
    assert [line for line in text.splitlines() if line.startswith(path + ": ") and words in line], text


def test_monitoring_off_switches_the_prometheus_checks_off_unless_asked():
    given = copy.deepcopy(BASE)
    given["eks_llm_monitoring"] = {"enabled": False}
    config, found, dummy = inventory_model.validate(given)
    assert found == []
    assert config["verify"]["check_prometheus"] is False and config["verify"]["check_hpa"] is False


@pytest.mark.parametrize("variable, value, path, rule", [
    ("eks_llm_network", {"cidr": "10.0.0.0/24"}, "eks_llm_network.cidr", "/16 to /20"),
    ("eks_llm_network", {"cidr": "ten"}, "eks_llm_network.cidr", "/16 to /20 prefix"),
    ("eks_llm_network", {"vpc_id": "vpc-1", "private_subnet_ids": ["subnet-12345678", "subnet-87654321"]},
     "eks_llm_network.vpc_id", "8 or 17 hex digits"),
    ("eks_llm_cluster", {"admin_principal_arns": ["admin"]}, "eks_llm_cluster.admin_principal_arns", "arn:aws:iam::<12-digit account>:role/<name>"),
    ("eks_llm_cluster", {"log_retention_days": 13}, "eks_llm_cluster.log_retention_days", "allowed: 1, 3, 5, 7"),
    ("eks_llm_karpenter", {"replicas": 5}, "eks_llm_karpenter.replicas", "1-3"),
    ("eks_llm_karpenter", {"kwok_node_registration_delay": "75s"}, "eks_llm_karpenter.kwok_node_registration_delay",
     "node_class_kind is EC2NodeClass"),
    ("eks_llm_karpenter", {"node_class_kind": "KWOKNodeClass", "kwok_node_registration_delay": "1.5s"},
     "eks_llm_karpenter.kwok_node_registration_delay", "whole seconds, minutes or hours"),
    ("eks_llm_gpu_software", {"time_slicing_replicas": 17}, "eks_llm_gpu_software.time_slicing_replicas", "1 (no sharing) to 16"),
    ("eks_llm_verify", {"concurrency": 0}, "eks_llm_verify.concurrency", "allowed 1-256"),
    ("eks_llm_verify", {"storage_timeout_s": 5}, "eks_llm_verify.storage_timeout_s", "allowed 30-3600"),
    ("eks_llm_verify", {"time_to_serving_max_s": 10}, "eks_llm_verify.time_to_serving_max_s", "allowed 30-86400"),
    ("eks_llm_monitoring", {"thresholds": {"gpu_temperature_celsius": 200}}, "eks_llm_monitoring.thresholds.gpu_temperature_celsius",
     "allowed 40-110"),
    ("eks_llm_gpu_node_pools", [{"name": "G5", "instance_families": ["g5"]}], "eks_llm_gpu_node_pools[0] (G5).name",
     "starting with a letter, ending with a letter or digit, at most 40 characters"),
])
def test_messages_restate_the_rule(variable, value, path, rule):
    given = copy.deepcopy(BASE)
    given[variable] = value
    if variable == "eks_llm_gpu_node_pools":
        for model in given["eks_llm_models"]:
            model["node_pool"] = "G5"
    text = problems(given)
    assert [line for line in text.splitlines() if line.startswith(path + ": ") and rule in line], text
