"""The local Kubernetes' GPU pod cold start (tests/standin/k8s/cold_start.py): a chain of KWOK Stages the pod-ready
gate waits for, with the kubelet's event reasons and scaled real durations."""
import re

import pytest

from tests.standin.k8s import cold_start

from ansible_collections.eks_llm.inference.plugins.module_utils import inventory_model, time_to_serving


def phase_of(stage):
    term = next(t for t in stage["spec"]["selector"]["matchExpressions"] if cold_start.ANNOTATION in t["key"])
    return term["values"]


def next_phase(stage):
    patch = stage["spec"]["steps"][-1]["patch"]
    return re.search(r"%s: (\w+)" % re.escape(cold_start.ANNOTATION), patch["template"]).group(1)


def test_the_stages_chain_from_a_scheduled_pod_to_the_ready_gate():
    stages = cold_start.stages(0.02)
    phases = [phase_of(s) for s in stages]
    assert phases == [["pending"], ["pulling"], ["pulled"], ["loading"]]
    assert [next_phase(s) for s in stages] == ["pulling", "pulled", "loading", "loaded"]
    # the last phase is what upstream's pod-ready Stage is gated on; CPU pods pass the gate at once
    assert "- 'cpu'\n      - 'loaded'\n" in cold_start.GATE_SELECTOR
    assert [s["spec"]["steps"][0].get("event", {}).get("reason") for s in stages] == ["Pulling", "Pulled", "Started", None]
    for stage in stages:
        keys = [t["key"] for t in stage["spec"]["selector"]["matchExpressions"]]
        assert ".spec.nodeName" in keys and any("standin.eks-llm/volumes" in k for k in keys)  # scheduled and mounted first
        assert stage["apiVersion"] == "kwok.x-k8s.io/v1alpha1" and stage["spec"]["resourceRef"] == {"apiGroup": "v1", "kind": "Pod"}


def test_only_the_pull_and_the_load_wait_scaled_real_seconds():
    delays = [s["spec"].get("delay", {}).get("durationMilliseconds") for s in cold_start.stages(0.02)]
    assert delays == [None, 3000, None, 1800]
    assert [s["spec"].get("delay") for s in cold_start.stages(0)] == [None] * 4  # events only
    assert cold_start.durations(0.5) == {"node_boot": 37.5, "image_pull": 75.0, "engine_load": 45.0}


def test_the_pulled_message_says_how_long_as_the_kubelet_does():
    pulled = cold_start.stages(0.02)[1]["spec"]["steps"][0]["event"]
    event = {"reason": "Pulled", "message": pulled["message"], "firstTimestamp": "2026-12-05T10:00:04Z",
             "involvedObject": {"kind": "Pod", "name": "engine-0"}}
    pod = {"metadata": {"name": "engine-0"}, "spec": {"containers": [{"name": "vllm"}]}}
    assert time_to_serving._image_pulled(pod, [event])[1] == "pull took 3s"  # pylint: disable=protected-access


@pytest.mark.parametrize("scale, delay", [(0.02, "2s"), (0.001, "1s"), (1, "75s"), (0, "")])
def test_the_node_boot_is_a_delay_the_kwok_node_class_accepts(scale, delay):
    assert cold_start.registration_delay(scale) == delay
    assert delay == "" or inventory_model.KWOK_DURATION_RE.match(delay)


def test_the_scale_comes_from_the_argument_the_environment_or_the_default(monkeypatch):
    monkeypatch.delenv(cold_start.SCALE_VARIABLE, raising=False)
    assert cold_start.scale_from() == cold_start.DEFAULT_SCALE
    monkeypatch.setenv(cold_start.SCALE_VARIABLE, "0.1")
    assert cold_start.scale_from() == 0.1 and cold_start.scale_from("0") == 0.0
    with pytest.raises(ValueError, match="0 or more"):
        cold_start.scale_from("-1")
