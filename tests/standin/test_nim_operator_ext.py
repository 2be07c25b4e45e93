"""The NIM Operator stand-in places the caching Job and reports states as NIM Operator v3.0.2 does."""
from types import SimpleNamespace

from tests.standin import nim_operator_ext

CACHE = {"apiVersion": "apps.nvidia.com/v1alpha1", "kind": "NIMCache",
         "metadata": {"name": "llama-0a1b2c3d", "namespace": "llm", "uid": "u1"},
         "spec": {"source": {"ngc": {"modelPuller": "nvcr.io/nim/meta/llama3:1.0.3", "pullSecret": "ngc-registry", "authSecret": "ngc-api"}},
                  "storage": {"pvc": {"create": True, "size": "50Gi"}},
                  "tolerations": [{"key": "nvidia.com/gpu", "operator": "Equal", "value": "true", "effect": "NoSchedule"}]}}


def test_caching_job_goes_to_nfd_labelled_gpu_nodes_unless_the_cache_selects_nodes():
    job = nim_operator_ext.cache_job(CACHE, "llama-0a1b2c3d-pvc")
    pod = job["spec"]["template"]["spec"]
    assert job["metadata"]["name"] == "llama-0a1b2c3d-job" and job["metadata"]["ownerReferences"][0]["kind"] == "NIMCache"
    assert pod["nodeSelector"] == {"feature.node.kubernetes.io/pci-10de.present": "true"}
    assert pod["tolerations"] == CACHE["spec"]["tolerations"]
    assert pod["volumes"][0]["persistentVolumeClaim"]["claimName"] == "llama-0a1b2c3d-pvc"
    selected = dict(CACHE, spec=dict(CACHE["spec"], nodeSelector={"eks-llm/node-pool": "g5"}))
    assert nim_operator_ext.cache_job(selected, "c")["spec"]["template"]["spec"]["nodeSelector"] == {"eks-llm/node-pool": "g5"}
    untolerated = dict(CACHE, spec=dict(CACHE["spec"], tolerations=None))
    assert nim_operator_ext.cache_job(untolerated, "c")["spec"]["template"]["spec"]["tolerations"] == []


def _job(active=0, succeeded=0, failed=0):
    return SimpleNamespace(active=active, succeeded=succeeded, failed=failed)


def test_cache_state_follows_the_job_with_the_real_states_and_conditions():
    def summary(status):
        return status["state"], [(c["type"], c["status"], c["reason"]) for c in status["conditions"]]
    created = [("NIM_CACHE_PVC_CREATED", "True", "PVCCreated"), ("NIM_CACHE_JOB_CREATED", "True", "JobCreated")]
    assert summary(nim_operator_ext.cache_status(None, "c")) == ("Started", created)
    assert summary(nim_operator_ext.cache_status(_job(active=1), "c")) == ("InProgress", created + [("NIM_CACHE_JOB_PENDING", "False", "JobRunning")])
    assert summary(nim_operator_ext.cache_status(_job(succeeded=1), "c")) == ("Ready", created + [("NIM_CACHE_JOB_COMPLETED", "True", "JobCompleted")])
    assert summary(nim_operator_ext.cache_status(_job(failed=1), "c")) == ("Failed", created + [("NIM_CACHE_JOB_COMPLETED", "False", "JobFailed")])
    assert nim_operator_ext.cache_status(_job(succeeded=1), "c")["pvc"] == "c"
