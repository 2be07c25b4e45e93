"""The verify role's objects in the cluster (plugins/module_utils/verify_objects.py)."""
import json

from ansible_collections.eks_llm.inference.plugins.module_utils import verify_objects

LABELS = {"app.kubernetes.io/managed-by": "eks_llm.inference"}
PROBES = [{"name": "storage-probe-gpu-a10g", "pool": "gpu-a10g", "storage_class": "efs-models",
           "node_selector": {"eks-llm/pool": "gpu-a10g"},
           "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]}]


def _pod(job):
    return job["spec"]["template"]["spec"]


def _hardened(job):
    pod = _pod(job)
    container = pod["containers"][0]
    assert pod["automountServiceAccountToken"] is False and pod["restartPolicy"] == "Never"
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] == 65534
    assert container["securityContext"] == {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                            "capabilities": {"drop": ["ALL"]}}
    assert "nvidia.com/gpu" not in json.dumps(container["resources"])  # probes never hold a GPU
    assert job["spec"]["backoffLimit"] == 0


def test_llm_probe_names_both_objects_after_the_run_and_mounts_its_files():
    made = verify_objects.llm_probe({"run": "20261205T070000Z", "namespace": "eks-llm-verify", "labels": LABELS,
                                     "image": "python:3.12-slim", "deadline_s": "600", "probe": "print(1)\n",
                                     "prompts": "Hello\n", "spec": {"models": [{"name": "m"}], "timeout_s": 30}})
    assert made["name"] == "llm-probe-20261205t070000z"  # object names are lower case
    config_map, job = made["config_map"], made["job"]
    assert config_map["metadata"]["name"] == job["metadata"]["name"] == made["name"]
    assert config_map["metadata"]["labels"] == dict(LABELS, **{"app.kubernetes.io/component": "verify"})
    assert json.loads(config_map["data"]["spec.json"]) == {"models": [{"name": "m"}], "timeout_s": 30}
    assert set(config_map["data"]) == {"llm_probe.py", "prompts.txt", "spec.json"}
    _hardened(job)
    assert job["spec"]["activeDeadlineSeconds"] == 600 and job["spec"]["ttlSecondsAfterFinished"] == 86400
    assert _pod(job)["volumes"] == [{"name": "probe", "configMap": {"name": made["name"]}}]
    command = _pod(job)["containers"][0]["command"]
    assert command[:2] == ["python3", "/probe/llm_probe.py"] and "/probe/spec.json" in command and "/probe/prompts.txt" in command


def test_storage_probe_per_pool_claims_its_class_and_runs_on_its_pool():
    made = verify_objects.storage_probes(PROBES, {"namespace": "eks-llm-verify", "labels": LABELS, "image": "python:3.12-slim",
                                                  "timeout_s": 180, "script": "open('/data/x', 'w')\n"})
    (claim,), (job,) = made["claims"], made["jobs"]
    assert claim["spec"] == {"accessModes": ["ReadWriteMany"], "storageClassName": "efs-models",
                             "resources": {"requests": {"storage": "1Gi"}}}
    for obj in (claim, job, job["spec"]["template"]):
        assert obj["metadata"]["labels"][verify_objects.STORAGE_PROBE_LABEL] == "storage-probe-gpu-a10g"
        assert obj["metadata"]["labels"]["app.kubernetes.io/component"] == "verify-storage"
    _hardened(job)
    pod = _pod(job)
    assert pod["nodeSelector"] == {"eks-llm/pool": "gpu-a10g"} and pod["tolerations"] == PROBES[0]["tolerations"]
    assert {"name": "data", "persistentVolumeClaim": {"claimName": "storage-probe-gpu-a10g"}} in pod["volumes"]
    assert job["spec"]["activeDeadlineSeconds"] == 300  # outlasts the role's 180 s wait: the pods are still there to judge
    assert "ttlSecondsAfterFinished" not in job["spec"]  # the role removes them itself
    assert made["config_map"]["data"] == {"storage_probe.py": "open('/data/x', 'w')\n"}


def test_no_probes_no_claims_or_jobs():
    made = verify_objects.storage_probes([], {"namespace": "v", "labels": {}, "image": "i", "timeout_s": 60, "script": ""})
    assert made["claims"] == [] and made["jobs"] == []
