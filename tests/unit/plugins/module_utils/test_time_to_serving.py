"""Time to serving from Kubernetes objects, events and the probe (plugins/module_utils/time_to_serving.py)."""
import xml.dom.minidom

import pytest

from ansible_collections.eks_llm.inference.plugins.module_utils import time_to_serving as tts

MODEL = {"name": "llama", "namespace": "llm"}


def pod(name="llama-0", created="2026-12-05T10:00:00Z", ready="2026-12-05T10:06:00Z", node="gpu-1", started=None,
        restarts=0, deleting=False):
    conditions = [{"type": "Ready", "status": "True" if ready else "False", "lastTransitionTime": ready or created}]
    status = {"conditions": conditions, "containerStatuses": [
        {"name": "engine", "restartCount": restarts, "state": {"running": {"startedAt": started}} if started else {"waiting": {}}}]}
    meta = {"name": name, "namespace": "llm", "creationTimestamp": created}
    if deleting:
        meta["deletionTimestamp"] = "2026-12-05T11:00:00Z"
    return {"metadata": meta, "spec": {"nodeName": node, "containers": [{"name": "engine"}, {"name": "sidecar"}]}, "status": status}


def node(name="gpu-1", ready="2026-12-05T10:01:30Z"):
    return {"metadata": {"name": name, "creationTimestamp": "2026-12-05T10:00:40Z"},
            "status": {"conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": ready}]}}


def claim(node_name="gpu-1", created="2026-12-05T10:00:05Z"):
    return {"metadata": {"name": "gpu-abcde", "creationTimestamp": created}, "status": {"nodeName": node_name}}


def event(reason, at, pod_name="llama-0", container="engine", message=""):
    return {"reason": reason, "firstTimestamp": at, "lastTimestamp": at, "message": message,
            "involvedObject": {"kind": "Pod", "name": pod_name, "namespace": "llm", "fieldPath": "spec.containers{%s}" % container}}


EVENTS = [
    event("Pulling", "2026-12-05T10:01:35Z"),
    event("Pulled", "2026-12-05T10:03:35Z", message='Successfully pulled image "nvcr.io/nim/llama:1.0" in 2m0.1s (2m0.1s including waiting)'),
    event("Pulled", "2026-12-05T10:01:33Z", container="sidecar", message='Container image "busybox" already present on machine'),
    event("Created", "2026-12-05T10:03:36Z"),
    event("Started", "2026-12-05T10:03:37Z"),
]
ANSWER = {"check": "completion", "sent": "2026-12-05T10:06:01.000Z", "answered": "2026-12-05T10:06:02.500Z"}


def seconds(result):
    return dict((p["phase"], p["seconds"]) for p in result["phases"])


def notes(result):
    return dict((p["phase"], p["note"]) for p in result["phases"])


def test_a_cold_start_is_broken_down_phase_by_phase():
    result = tts.for_model(MODEL, [pod()], EVENTS, [node()], [claim()], ANSWER)
    assert seconds(result) == {"nodeclaim_created": 5.0, "node_ready": 85.0, "image_pulled": 125.0, "container_started": 2.0,
                               "engine_ready": 143.0, "first_answer": 1.5}
    assert result["total_s"] == 361.5 and result["problem"] is None
    assert result["pod"] == "llama-0" and result["node"] == "gpu-1" and result["started"] == "2026-12-05T10:00:00.000Z"
    assert notes(result)["image_pulled"] == "pull took 2m0.1s"  # the engine container's pull, not the sidecar's


def test_a_node_that_was_already_there_is_said_so_and_not_counted():
    result = tts.for_model(MODEL, [pod()], EVENTS, [node(ready="2026-12-05T09:00:00Z")], [claim(created="2026-12-05T08:59:00Z")], ANSWER)
    assert seconds(result)["nodeclaim_created"] is None and seconds(result)["node_ready"] is None
    assert notes(result)["node_ready"] == "node already there (before the pod)"
    assert seconds(result)["image_pulled"] == 215.0  # from the pod's creation
    assert result["total_s"] == 361.5


def test_a_nodeclaim_created_in_the_pod_s_second_was_asked_for_it():
    # creationTimestamp keeps whole seconds: Karpenter can create the claim within the second the pod was created in,
    # which is not "before the pod"
    result = tts.for_model(MODEL, [pod()], EVENTS, [node()], [claim(created="2026-12-05T10:00:00Z")], ANSWER)
    assert seconds(result)["nodeclaim_created"] == 0.0 and notes(result)["nodeclaim_created"] is None
    assert seconds(result)["node_ready"] == 90.0 and result["total_s"] == 361.5


def test_a_node_without_nodeclaim_and_expired_events():
    only_status = pod(started="2026-12-05T10:03:40Z", restarts=2)
    result = tts.for_model(MODEL, [only_status], [], [node()], [], ANSWER)
    assert notes(result)["nodeclaim_created"] == "no Karpenter NodeClaim for node gpu-1"
    assert seconds(result)["image_pulled"] is None and "Events expire" in notes(result)["image_pulled"]
    assert seconds(result)["container_started"] == 130.0  # from node Ready: the last known phase
    assert "restarted 2 time(s)" in notes(result)["container_started"]
    assert result["total_s"] == 361.5


def test_a_probe_that_asked_long_after_ready_counts_from_its_request():
    late = {"check": "generate", "sent": "2026-12-05T12:00:00Z", "answered": "2026-12-05T12:00:00.800Z"}
    result = tts.for_model(MODEL, [pod()], EVENTS, [node()], [claim()], late)
    assert seconds(result)["first_answer"] == 0.8 and result["total_s"] == 360.8
    assert "asked 6840 s after the engine was ready" in notes(result)["first_answer"]


def test_the_first_pod_to_become_ready_is_the_serving_pod():
    later = pod(name="llama-1", created="2026-12-05T09:00:00Z", ready="2026-12-05T10:30:00Z")
    gone = pod(name="llama-2", created="2026-12-05T08:00:00Z", ready="2026-12-05T08:01:00Z", deleting=True)
    assert tts.serving_pod([later, pod(), gone])["metadata"]["name"] == "llama-0"
    assert tts.serving_pod([pod(ready=None), pod(name="old", created="2026-12-05T09:00:00Z", ready=None)])["metadata"]["name"] == "old"
    assert tts.serving_pod([]) is None


@pytest.mark.parametrize("pods, answer, problem", [
    ([], ANSWER, "no pod of the model's Service"),
    ([pod(ready=None)], None, "pod llama-0 is not Ready"),
    ([pod()], None, "no generated answer from the probe"),
])
def test_no_total_without_a_ready_pod_and_an_answer(pods, answer, problem):
    result = tts.for_model(MODEL, pods, EVENTS, [node()], [claim()], answer)
    assert result["total_s"] is None and result["problem"] == problem
    check, = tts.checks([result], 600)
    assert check == {"model": "llama", "check": "time_to_serving", "ok": False,
                     "expected": "first answer within 600 s of the serving pod's creation", "got": problem}


def test_the_check_compares_the_total_with_the_limit():
    result = tts.for_model(MODEL, [pod()], EVENTS, [node()], [claim()], ANSWER)
    within, = tts.checks([result], 362)
    over, = tts.checks([result], 361)
    assert within["ok"] is True and over["ok"] is False
    assert within["got"].startswith("361.5 s from pod llama-0 created (NodeClaim created +5.0 s, node Ready +85.0 s,")


def test_times_in_every_form_kubernetes_and_the_probe_write():
    assert tts.parse_time("2026-12-05T10:00:00Z") == tts.parse_time("2026-12-05T10:00:00.000000Z")
    assert tts.iso(tts.parse_time("2026-12-05T10:00:00.123456789Z")) == "2026-12-05T10:00:00.123Z"
    assert tts.iso(tts.parse_time("2026-12-05T12:00:00+02:00")) == "2026-12-05T10:00:00.000Z"
    assert tts.parse_time("") is None and tts.iso(None) is None


def test_the_report_table_and_the_chart():
    ready = tts.for_model(MODEL, [pod()], EVENTS, [node(ready="2026-12-05T09:00:00Z")], [claim(created="2026-12-05T08:00:00Z")], ANSWER)
    waiting = tts.for_model(dict(MODEL, name="mistral"), [], [], [], [], None)
    lines = tts.markdown([ready, waiting], tts.PLOT_FILE)
    assert "## Time to serving" in lines and "![time to serving per model](time-to-serving.svg)" in lines
    row = next(line for line in lines if line.startswith("| llama |"))
    assert row.split(" | ")[2:4] == ["node already there (before the pod)", "node already there (before the pod)"]
    assert "| 361.5 |" in row and "image pulled: pull took 2m0.1s" in row
    assert next(line for line in lines if line.startswith("| mistral |")).endswith("| - | no pod of the model's Service |")
    chart = tts.svg([ready, waiting])
    document = xml.dom.minidom.parseString(chart)  # well-formed
    assert len(document.getElementsByTagName("rect")) == 4 + len(tts.PHASES)  # four known phases + the legend
    assert "llama" in chart and "mistral" not in chart
    assert tts.svg([waiting]) == "" and tts.markdown([], None) == []


def test_a_cold_start_long_before_this_run_is_not_judged_again():
    result = tts.for_model(MODEL, [pod()], EVENTS, [node()], [claim()], ANSWER)  # Ready 10:06:00, 361.5 s
    soon, = tts.checks([result], 300, verify_started="2026-12-05T10:07:00Z")
    assert soon["ok"] is False  # judged by the run that saw it
    week_later, = tts.checks([result], 300, verify_started="2026-12-12T10:00:00Z")
    assert week_later["ok"] is None
    assert week_later["got"] == ("not judged again: pod llama-0 has served since 2026-12-05T10:06:00.000Z, before this run"
                                 " (361.5 s then)")
    waiting = tts.for_model(MODEL, [pod(ready=None)], EVENTS, [node()], [claim()], None)
    assert tts.checks([waiting], 300, verify_started="2026-12-12T10:00:00Z")[0]["ok"] is False  # not serving: always judged
