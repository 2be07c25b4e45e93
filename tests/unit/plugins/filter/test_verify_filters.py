"""Filters of the verify role: Kubernetes objects judged into checks that can fail, probe output read back, the report."""
import json

from ansible_collections.eks_llm.inference.plugins.filter import verify

POOL = "eks-llm/node-pool"
TRITON = {"name": "opt-350m", "namespace": "llm", "engine": "triton_vllm", "node_pool": "gpu-g5", "autoscaling": {"enabled": True}}
NIM_OP = {"name": "llama3-8b", "namespace": "nim", "engine": "nim_operator", "node_pool": "gpu-g5", "autoscaling": {"enabled": False}}
METRICS = {"openai": "llm_requests_waiting", "triton": "triton_requests_waiting"}


def deployment(ready=1, replicas=1, generation=1, observed=1):
    return {"kind": "Deployment", "metadata": {"name": "opt-350m", "namespace": "llm", "generation": generation},
            "spec": {"replicas": replicas},
            "status": {"observedGeneration": observed, "readyReplicas": ready, "updatedReplicas": replicas, "availableReplicas": ready}}


def pod(name, node, ready=True):
    return {"metadata": {"name": name}, "spec": {"nodeName": node},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}


def node(name, pool):
    return {"metadata": {"name": name, "labels": {POOL: pool} if pool else {}}}


SERVICE = {"spec": {"selector": {"eks-llm/model": "opt-350m", "eks-llm/engine": "triton_vllm"}}}


def judge(workloads, services, pods, nodes, models=(TRITON,), events=None):
    workload_results = [{"item": {"name": m["name"], "namespace": m["namespace"], "kind": kind}, "resources": workloads.get((m["name"], kind), [])}
                        for m in models for kind in ("Deployment", "StatefulSet", "NIMCache", "NIMService")]
    service_results = [{"item": m, "resources": services.get(m["name"], [])} for m in models]
    pod_results = [{"item": {"name": m["name"], "namespace": m["namespace"], "selector": "x"}, "resources": pods.get(m["name"], [])}
                   for m in models]
    return dict((c["check"], c) for c in verify.workload_checks(list(models), workload_results, service_results, pod_results, nodes, POOL, events))


def test_a_rolled_out_model_on_its_pool_passes():
    checks = judge({("opt-350m", "Deployment"): [deployment()]}, {"opt-350m": [SERVICE]}, {"opt-350m": [pod("p1", "n1")]},
                   [node("n1", "gpu-g5")])
    assert [c["ok"] for c in checks.values()] == [True, True, True]
    assert checks["pods"]["got"] == "p1 on n1"


def test_missing_or_unready_things_fail_saying_what_came_back():
    checks = judge({}, {}, {}, [])
    assert checks["rollout"]["got"] == "neither a Deployment nor a StatefulSet llm/opt-350m"
    assert checks["service"]["got"] == "no Service llm/opt-350m"
    assert not any(c["ok"] for c in checks.values())
    checks = judge({("opt-350m", "Deployment"): [deployment(ready=0, generation=2, observed=1)]}, {"opt-350m": [SERVICE]},
                   {"opt-350m": []}, [])
    assert checks["rollout"]["got"] == "Deployment llm/opt-350m: 0/1 ready, 1 updated, 0 available, generation 2 not observed yet"
    assert checks["pods"]["got"] == "no pods match the Service's selector"


def test_a_pod_whose_efs_mount_is_refused_fails_naming_the_file_system_policy():
    refused = {"reason": "FailedMount", "involvedObject": {"kind": "Pod", "namespace": "llm", "name": "p1"}, "lastTimestamp": "2026-12-03T10:00:00Z",
               "message": "MountVolume.SetUp failed for volume \"pvc-1\" : mount.nfs4: access denied by server while mounting 127.0.0.1:/"}
    other = dict(refused, involvedObject={"kind": "Pod", "namespace": "llm", "name": "p2"}, message="timed out waiting for the condition")
    checks = judge({("opt-350m", "Deployment"): [deployment(ready=0)]}, {"opt-350m": [SERVICE]},
                   {"opt-350m": [pod("p1", "n1", ready=False), pod("p2", "n1", ready=False)]}, [node("n1", "gpu-g5")], events=[refused, other])
    got = checks["pods"]["got"]
    assert checks["pods"]["ok"] is False
    assert "pod p1 not Ready (phase Running): EFS mount denied by the file system policy" in got and "access denied by server" in got
    assert "pod p2 not Ready (phase Running): volume mount failed: timed out" in got


def test_pods_off_their_pool_or_not_ready_fail():
    checks = judge({("opt-350m", "Deployment"): [deployment(replicas=2, ready=2)]}, {"opt-350m": [SERVICE]},
                   {"opt-350m": [pod("p1", "n1", ready=False), pod("p2", "cpu-1")]}, [node("n1", "gpu-g5"), node("cpu-1", None)])
    assert checks["pods"]["ok"] is False
    assert checks["pods"]["got"] == "pod p1 not Ready (phase Running); pod p2 on node cpu-1 (eks-llm/node-pool=unlabelled)"


def test_nim_operator_needs_ready_nimcache_and_nimservice():
    cache = {"status": {"state": "Ready"}}
    service = {"status": {"state": "NotReady", "conditions": [{"type": "Ready", "status": "False", "message": "pull back-off"}]}}
    checks = judge({("llama3-8b", "NIMCache"): [cache], ("llama3-8b", "NIMService"): [service]}, {}, {}, [], models=(NIM_OP,))
    assert checks["nimcache"]["ok"] is True
    assert checks["nimservice"]["ok"] is False and checks["nimservice"]["got"] == "NIMService nim/llama3-8b: state NotReady (pull back-off)"


def hpa(value=None, active=None, metrics=("triton_requests_waiting",), values=None):
    values = dict(values or {}, **({"triton_requests_waiting": value} if value is not None else {}))
    spec = {"metrics": [{"type": "Pods", "pods": {"metric": {"name": name}, "target": {"type": "AverageValue", "averageValue": "1"}}}
                        for name in metrics]}
    status = {"currentMetrics": [{"type": "Pods", "pods": {"metric": {"name": name}, "current": {"averageValue": number}}}
                                 for name, number in values.items()]}
    if active:
        status["conditions"] = [{"type": "ScalingActive", "status": "False", "reason": "FailedGetPodsMetric", "message": active}]
    return {"spec": spec, "status": status}


def test_hpa_metric_must_have_a_value():
    models = [TRITON, NIM_OP]
    ok = verify.hpa_checks(models, [{"item": TRITON, "resources": [hpa("250m")]}], METRICS)
    assert [(c["model"], c["ok"], c["got"]) for c in ok] == [("opt-350m", True, "triton_requests_waiting = 250m")]
    unknown = verify.hpa_checks(models, [{"item": TRITON, "resources": [hpa(active="no metrics returned")]}], METRICS)[0]
    assert unknown["ok"] is False
    assert unknown["got"] == "triton_requests_waiting is <unknown> (ScalingActive FailedGetPodsMetric: no metrics returned)"
    assert verify.hpa_checks(models, [{"item": TRITON, "resources": []}], METRICS)[0]["got"] == "no HPA llm/opt-350m"
    assert verify.hpa_value([hpa("250m")], "triton_requests_waiting") == "triton_requests_waiting = 250m"
    assert verify.hpa_value([hpa()], "triton_requests_waiting") == ""


def test_every_hpa_metric_must_have_a_value_and_the_engine_metric_must_be_one():
    two = hpa("1", metrics=("triton_requests_waiting", "gpu_busy"))
    check = verify.hpa_checks([TRITON], [{"item": TRITON, "resources": [two]}], METRICS)[0]
    assert check["ok"] is False and check["got"] == "gpu_busy is <unknown>"
    assert verify.hpa_value([two], "triton_requests_waiting") == ""
    both = hpa("1", metrics=("triton_requests_waiting", "gpu_busy"), values={"gpu_busy": "3"})
    assert verify.hpa_checks([TRITON], [{"item": TRITON, "resources": [both]}], METRICS)[0]["got"] == "triton_requests_waiting = 1, gpu_busy = 3"
    old = hpa(metrics=("triton_queue_compute_ratio",), values={"triton_queue_compute_ratio": "0"})
    check = verify.hpa_checks([TRITON], [{"item": TRITON, "resources": [old]}], METRICS)[0]
    assert check["ok"] is False and check["got"] == "HPA llm/opt-350m scales on triton_queue_compute_ratio, not on triton_requests_waiting"


def test_probe_result_is_read_from_noisy_output_or_is_a_failed_check():
    line = verify.RESULT_MARKER + json.dumps({"ok": True, "checks": [{"model": "m", "check": "c", "ok": True}], "prompts": {}})
    assert verify.probe_result("Model m - Request 1: 0.1s\n" + line + "\n", "x")["ok"] is True
    missing = verify.probe_result("Traceback (most recent call last):\nImportError: boom\n", "Job llm-verify/llm-probe-1")
    assert missing["checks"][0]["ok"] is False
    assert missing["checks"][0]["got"].endswith("last output: Traceback (most recent call last): | ImportError: boom")
    assert "unreadable" in verify.probe_result(verify.RESULT_MARKER + "{trunc", "x")["checks"][0]["got"]


def test_report_fails_on_any_failure_and_never_on_nothing():
    good = {"model": "m", "check": "health_ready", "ok": True, "expected": "HTTP 200", "got": "HTTP 200"}
    bad = {"model": "m", "check": "metrics", "ok": False, "expected": "series a|b", "got": "missing series a|b"}
    meta = {"deployment": "d", "run": "r", "mode": "controller"}
    assert verify.report([good], {}, meta)["ok"] is True
    assert verify.report([], {}, meta)["ok"] is False
    assert verify.report(verify.skipped([TRITON], ["pods"], "check_workloads"), {}, meta)["ok"] is False
    failed = verify.report([good, bad], {}, meta)
    assert failed["ok"] is False and failed["failures"] == ["m: metrics: expected series a|b; got missing series a|b"]
    assert "| m | metrics | **FAIL** | series a\\|b | missing series a\\|b |" in failed["markdown"]


def test_answers_text_has_one_block_a_prompt():
    text = verify.answers_text({"answers": [
        {"index": 0, "prompt": "p0", "latency_ms": 12.5, "ok": True, "text": "a0", "error": ""},
        {"index": 1, "prompt": "p1", "latency_ms": 3.0, "ok": False, "text": "", "error": "HTTP 500"}]})
    assert text == "Request 0 (12.50 ms): p0\n\na0\n\n=========\n\nRequest 1 (3.00 ms): p1\n\nFAILED: HTTP 500\n\n=========\n"


TAINT = {"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}


def probe_pod(probe, phase, node="n1", terminated=None, waiting=None, name=None):
    status = {"phase": phase}
    if terminated or waiting:
        status["containerStatuses"] = [{"name": "probe", "state": {"terminated": terminated} if terminated else {"waiting": waiting}}]
    return {"metadata": {"name": name or probe + "-abcde", "labels": {"eks-llm/storage-probe": probe}},
            "spec": {"nodeName": node}, "status": status}


def test_one_storage_probe_per_gpu_pool_the_models_use_pinned_to_it():
    other = dict(NIM_OP, name="mistral", node_pool="gpu-g6e")
    probes = verify.storage_probes([TRITON, NIM_OP, other], "efs-ap", POOL, TAINT)
    assert [(p["name"], p["pool"], p["storage_class"]) for p in probes] == [
        ("storage-probe-gpu-g5", "gpu-g5", "efs-ap"), ("storage-probe-gpu-g6e", "gpu-g6e", "efs-ap")]
    assert probes[0]["node_selector"] == {POOL: "gpu-g5"}
    assert probes[0]["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    assert verify.storage_probes([], "efs-ap", POOL, TAINT) == []


def test_storage_probe_passes_only_when_its_pod_succeeded_and_says_why_not():
    probes = verify.storage_probes([TRITON, dict(NIM_OP, node_pool="gpu-g6e"), dict(NIM_OP, name="x", node_pool="gpu-p4d"),
                                    dict(NIM_OP, name="y", node_pool="gpu-p5")], "efs-ap", POOL, TAINT)
    refused = {"reason": "FailedMount", "lastTimestamp": "2026-12-03T10:00:00Z",
               "involvedObject": {"kind": "Pod", "namespace": "llm-verify", "name": "storage-probe-gpu-g6e-abcde"},
               "message": "MountVolume.SetUp failed for volume \"pvc-9\" : mount.nfs4: access denied by server while mounting 127.0.0.1:/"}
    pods = [probe_pod("storage-probe-gpu-g5", "Succeeded", terminated={"exitCode": 0, "message": "wrote, read back and removed 131072 bytes in /data"}),
            probe_pod("storage-probe-gpu-g6e", "Pending", waiting={"reason": "ContainerCreating"}),
            probe_pod("storage-probe-gpu-p4d", "Failed", terminated={"exitCode": 1, "message": "I/O error on /data: [Errno 13] Permission denied"})]
    checks = dict((c["model"], c) for c in verify.storage_checks(probes, pods, [refused], "llm-verify", 300))
    assert checks["pool gpu-g5"]["ok"] is True and "wrote, read back" in checks["pool gpu-g5"]["got"]
    assert checks["pool gpu-g6e"]["ok"] is False
    assert "EFS mount denied by the file system policy" in checks["pool gpu-g6e"]["got"]
    assert checks["pool gpu-p4d"]["ok"] is False and "Permission denied" in checks["pool gpu-p4d"]["got"]
    assert checks["pool gpu-p5"] == {"model": "pool gpu-p5", "check": "storage", "ok": False,
                                     "expected": checks["pool gpu-p5"]["expected"], "got": "no pod of Job llm-verify/storage-probe-gpu-p5"}
    assert "storage class efs-ap" in checks["pool gpu-p5"]["expected"]
    unscheduled = {"metadata": {"name": "storage-probe-gpu-g5-x", "labels": {"eks-llm/storage-probe": "storage-probe-gpu-g5"}},
                   "spec": {}, "status": {"phase": "Pending", "conditions": [
                       {"type": "PodScheduled", "status": "False", "message": "pod has unbound immediate PersistentVolumeClaims"}]}}
    stuck = verify.storage_checks(probes[:1], [unscheduled], [], "llm-verify", 300)[0]
    assert stuck["ok"] is False and "still Pending after 300 s: not scheduled: pod has unbound immediate PersistentVolumeClaims" in stuck["got"]


def test_storage_probes_settle_on_this_runs_job_or_a_refused_mount_only():
    probes = verify.storage_probes([TRITON], "efs-ap", POOL, TAINT)
    job = {"metadata": {"name": "storage-probe-gpu-g5", "uid": "u2", "creationTimestamp": "2026-12-04T00:10:00Z"}}

    def event(kind, name, reason, when, uid="", message=""):
        return {"involvedObject": {"kind": kind, "name": name, "uid": uid}, "reason": reason, "lastTimestamp": when, "message": message}

    earlier = [event("Job", "storage-probe-gpu-g5", "Completed", "2026-12-04T00:01:00Z", uid="u1"),
               event("Pod", "storage-probe-gpu-g5-old", "FailedMount", "2026-12-04T00:02:00Z", message="access denied by server")]
    assert verify.storage_settled(probes, earlier, [job]) is False
    assert verify.storage_settled(probes, earlier, []) is False
    timeout = event("Pod", "storage-probe-gpu-g5-new", "FailedMount", "2026-12-04T00:10:30Z", message="timed out waiting for the condition")
    assert verify.storage_settled(probes, earlier + [timeout], [job]) is False
    refused = dict(timeout, message="mount.nfs4: access denied by server while mounting")
    assert verify.storage_settled(probes, earlier + [refused], [job]) is True
    done = event("Job", "storage-probe-gpu-g5", "Completed", "2026-12-04T00:10:05Z", uid="u2")
    assert verify.storage_settled(probes, earlier + [done], [job]) is True


def test_time_to_serving_reads_the_registered_pod_reads_and_goes_into_the_report():
    created, ready = "2026-12-05T10:00:00Z", "2026-12-05T10:02:00Z"
    serving_pod = {"metadata": {"name": "opt-350m-0", "creationTimestamp": created}, "spec": {"nodeName": "gpu-1", "containers": [{"name": "triton"}]},
                   "status": {"conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": ready}]}}
    pod_reads = [{"item": {"name": "opt-350m", "namespace": "llm", "selector": "eks-llm/model=opt-350m"}, "resources": [serving_pod]}]
    answers = {"opt-350m": {"check": "generate", "sent": "2026-12-05T10:02:00.000Z", "answered": "2026-12-05T10:02:01.000Z"}}
    serving = verify.time_to_serving([TRITON, NIM_OP], pod_reads, [], [], [], answers)
    assert [s["total_s"] for s in serving] == [121.0, None]
    checks = verify.time_to_serving_checks(serving, "600")
    assert [(c["model"], c["ok"]) for c in checks] == [("opt-350m", True), ("llama3-8b", False)]
    report = verify.report(checks, {}, {"deployment": "demo", "run": "r", "mode": "in_cluster"}, serving)
    assert "## Time to serving" in report["markdown"] and "![time to serving per model](time-to-serving.svg)" in report["markdown"]
    assert report["serving_svg"].startswith("<svg") and report["document"]["time_to_serving"] == serving
    assert report["serving_summary"] == ["opt-350m: time to serving 121.0 s from pod opt-350m-0 created (engine ready +120.0 s,"
                                         " first answer +1.0 s)", "llama3-8b: time to serving no pod of the model's Service"]
    assert verify.report(checks, {}, {})["serving_svg"] == "" and "Time to serving" not in verify.report(checks, {}, {})["markdown"]
