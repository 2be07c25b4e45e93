"""The platform layer on a real local Kubernetes: kube-apiserver validates every object, the scheduler places
pods, Karpenter (its KWOK provider) turns our NodePools into simulated GPU nodes.

The AWS stand-in answers DescribeCluster with the local API server and authenticates EKS tokens for it, so the
collection connects exactly as it does to EKS (cluster -> kubeconfig with the EKS exec credential -> kubernetes.core).
"""
import json
import re

import pytest

from tests.system.conftest import LOCAL_INVENTORY, kube_objects, kubectl, leftovers, run_playbook, wait_for

GPU_POOL = "gpu-g5"
UP_TO_PLATFORM = "tests/system/playbooks/up_to_platform.yml"


def deploy(args=()):
    return run_playbook(UP_TO_PLATFORM, args=list(args))


def gpu_pod(name, tolerate=True):
    spec = {
        "containers": [{"name": "cuda", "image": "nvcr.io/nvidia/cuda:12.6.3-base-ubuntu24.04",
                        "resources": {"limits": {"nvidia.com/gpu": "1"}, "requests": {"cpu": "1", "memory": "2Gi"}}}],
        "nodeSelector": {"eks-llm/node-pool": GPU_POOL},
    }
    if tolerate:
        spec["tolerations"] = [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"}, "spec": spec}


@pytest.fixture(scope="module")
def deployed(aws_standin, local_kubernetes, tmp_path_factory):
    """The local inventory deployed once for the module, by the AWX Deploy job (the tests below run in file order; the
    last one tears down). Yields the local cluster's state."""
    from tests.standin.fixtures import DEFAULTS  # pylint: disable=import-outside-toplevel

    if not local_kubernetes.pop("aws_layer_up", False):  # else: test_inference_layer's AWS layer, converged below
        aws_standin.reset()
        kubectl(local_kubernetes, "delete", "nodes", "-l", "eks.amazonaws.com/nodegroup", "--wait=false")
    aws_standin.configure(**DEFAULTS)
    aws_standin.configure(**local_kubernetes["aws_settings"])
    deploy_as_awx_job(tmp_path_factory.mktemp("awx-deploy-job"))
    yield local_kubernetes
    aws_standin.configure(**DEFAULTS)


AWX_SECRETS = {"aws": "awx-job-secret-" + "8" * 25, "ngc": "nvapi-" + "AWXJOBKEY" * 4}


def awx_job(root, template, answers=None):
    """A job of one of roles/awx_config's templates run as AWX runs it: ansible-runner on a private data directory
    with the inventory imported from the project and the AWS and NGC credentials injected by AWX's own injector code
    (tests/awx/awx_job.py). Returns the job's stdout; fails when the job did, or when a secret shows in what AWX keeps."""
    from tests.awx.awx_job import artifacts_text, run_job, write_private_data_dir  # pylint: disable=import-outside-toplevel

    credentials = {"Amazon Web Services": {"username": "AKIAAWXJOBSTANDIN", "password": AWX_SECRETS["aws"]},
                   "NGC API key": {"ngc_api_key": AWX_SECRETS["ngc"]}}
    # the local inventory's verify/benchmark endpoints (validated even when the template skips those layers)
    local_llm = {"EKS_LLM_LOCAL_LLM_URL": "http://127.0.0.1:9", "EKS_LLM_LOCAL_LLM_METRICS_URL": "http://127.0.0.1:9/metrics"}
    playbook, shown = write_private_data_dir(str(root), template, LOCAL_INVENTORY, answers or {}, credentials, local_llm)
    assert shown["AWS_SECRET_ACCESS_KEY"] == shown["NGC_API_KEY"] == "**********"
    runner = run_job(str(root), playbook)
    output = runner.stdout.read()
    assert runner.status == "successful", output[-6000:]
    text = output + artifacts_text(str(root))
    assert all(value not in text for value in AWX_SECRETS.values())
    return output


def deploy_as_awx_job(root):
    """The first deploy is AWX's Deploy job (site.yml without verify and benchmark); the rest of the module checks what
    it made, re-runs the layers with ansible-playbook, and ends with AWX's Teardown job."""
    output = awx_job(root, "Deploy")
    plays = re.findall(r"^PLAY \[([^\]]*)\]", output, re.M)
    assert [p.split(" - ")[0] for p in plays][:4] == ["Preflight", "AWS layer", "Platform layer", "Inference layer"], plays
    assert not re.search(r"^TASK \[.*(verify|benchmark) :", output, re.M | re.I), "the Deploy template skips verify and benchmark"


def test_platform_objects_are_in_place_and_gpu_pods_get_a_node_of_their_pool(deployed):
    state = deployed
    pools = dict((p["metadata"]["name"], p) for p in kube_objects(state, "nodepools.karpenter.sh"))
    assert set(pools) == {GPU_POOL, "cpu"}
    gpu = pools[GPU_POOL]["spec"]["template"]
    assert gpu["spec"]["nodeClassRef"] == {"group": "karpenter.kwok.sh", "kind": "KWOKNodeClass", "name": "gpu-al2023"}
    assert {"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"} in gpu["spec"]["taints"]
    assert gpu["metadata"]["labels"]["eks-llm/gpu"] == "true"
    assert str(pools[GPU_POOL]["spec"]["limits"]["nvidia.com/gpu"]) == "8"
    classes = kube_objects(state, "ec2nodeclasses.karpenter.k8s.aws")
    assert sorted(c["metadata"]["name"] for c in classes) == ["cpu-al2023", "gpu-al2023"]
    assert all(c["spec"]["metadataOptions"]["httpTokens"] == "required" for c in classes)
    storage_class = json.loads(kubectl(state, "get", "storageclass", "efs-ap", "-o", "json"))
    assert storage_class["parameters"]["provisioningMode"] == "efs-ap"
    assert storage_class["parameters"]["fileSystemId"].startswith("fs-")
    # the EBS class Prometheus' volume binds to (EKS 1.30+ has no default class and no in-tree EBS provisioner)
    gp3 = json.loads(kubectl(state, "get", "storageclass", "gp3", "-o", "json"))
    assert gp3["provisioner"] == "ebs.csi.aws.com" and gp3["parameters"] == {"type": "gp3", "encrypted": "true"}
    assert gp3["volumeBindingMode"] == "WaitForFirstConsumer" and gp3["reclaimPolicy"] == "Delete" and gp3["allowVolumeExpansion"]
    prometheus = kube_objects(state, "prometheuses.monitoring.coreos.com", "-n", "monitoring")[0]
    assert prometheus["spec"]["storage"]["volumeClaimTemplate"]["spec"]["storageClassName"] == "gp3"
    daemonsets = [d["metadata"]["name"] for d in kube_objects(state, "daemonsets", "-n", "gpu-system")]
    assert sorted(daemonsets) == ["dcgm-exporter", "nvidia-device-plugin"]
    # monitoring: our ServiceMonitors and alert rules exist (Prometheus selects them; checked by the role's wiring check)
    monitors = [m["metadata"]["name"] for m in kube_objects(state, "servicemonitors.monitoring.coreos.com", "-A")]
    assert "dcgm-exporter" in monitors
    assert kube_objects(state, "prometheusrules.monitoring.coreos.com", "-n", "monitoring")
    # the core node group's nodes joined, and Karpenter runs on them
    core = kube_objects(state, "nodes", "-l", "eks.amazonaws.com/nodegroup")
    assert len(core) == 2
    karpenter = kube_objects(state, "pods", "-n", "karpenter")
    assert karpenter and all(p["spec"]["nodeName"] in [n["metadata"]["name"] for n in core] for p in karpenter)

    # a GPU pod with the toleration makes Karpenter create a g5 node of our pool, and runs there
    apply(state, gpu_pod("wants-a-gpu"))
    apply(state, gpu_pod("forgot-the-toleration", tolerate=False))

    def running():
        pod = json.loads(kubectl(state, "get", "pod", "wants-a-gpu", "-n", "default", "-o", "json"))
        return pod if pod["status"].get("phase") == "Running" else None
    pod = wait_for(running, timeout=180)
    assert pod, kubectl(state, "describe", "pod", "wants-a-gpu", "-n", "default")
    node = json.loads(kubectl(state, "get", "node", pod["spec"]["nodeName"], "-o", "json"))
    labels = node["metadata"]["labels"]
    assert labels["karpenter.sh/nodepool"] == GPU_POOL
    assert labels["node.kubernetes.io/instance-type"].startswith("g5.")
    assert labels["eks-llm/gpu"] == "true"
    assert node["status"]["allocatable"]["nvidia.com/gpu"] in ("1", "4", "8")
    untolerated = json.loads(kubectl(state, "get", "pod", "forgot-the-toleration", "-n", "default", "-o", "json"))
    assert not untolerated["spec"].get("nodeName"), "a pod without the GPU toleration was placed on %s" % untolerated["spec"].get("nodeName")
    kubectl(state, "delete", "pod", "wants-a-gpu", "forgot-the-toleration", "-n", "default", "--wait=false")


def test_a_second_run_changes_nothing(deployed):
    second = deploy()
    assert second.returncode == 0 and second.changed == 0, second
    # and runs no helm release: the drift check read the cluster once and found every release as wanted
    applied = re.findall(r"TASK \[eks_llm\.inference\.helm_release : Apply the Helm releases that differ\][^\n]*\n(?:[^\n]*\n)??(\w+):",
                         second.output)
    assert applied and set(applied) == {"skipping"}, applied


def apply(state, manifest):
    kubectl(state, "apply", "-f", "-", stdin=json.dumps(manifest))


def test_the_api_server_rejects_an_invalid_nodepool_and_the_play_says_so(deployed, tmp_path):
    pool = {"name": "gpu-bad", "instance_types": ["g5.xlarge"], "instance_families": [], "resolved_instance_types": ["g5.xlarge"],
            "capacity_types": ["on-demand"], "gpu_limit": 1, "ami_family": "al2023", "data_volume_gib": 100, "weight": 10,
            "consolidate_after": "ten minutes", "expire_after": "720h"}
    extra = tmp_path / "extra.json"
    extra.write_text(json.dumps({"karpenter_gpu_node_pools": [pool]}))
    result = run_playbook("playbooks/platform.yml", args=["-e", "@%s" % extra])
    assert result.returncode != 0
    assert "gpu-bad" in result.output, result
    assert "spec.disruption.consolidateAfter" in result.output, result
    assert "gpu-bad" not in [p["metadata"]["name"] for p in kube_objects(deployed, "nodepools.karpenter.sh")]


def test_the_wiring_check_fails_when_the_gpu_daemonset_label_is_broken(deployed, tmp_path):
    broken = {"gpu_taint": {"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}, "gpu_node_label": "eks-llm/gpu-typo",
              "pool_label": "eks-llm/node-pool", "labels": {}}
    extra = tmp_path / "extra.json"
    extra.write_text(json.dumps({"gpu_software_platform": broken}))
    result = run_playbook("playbooks/platform.yml", args=["-e", "@%s" % extra])
    assert result.returncode != 0
    assert "DaemonSet gpu-system/nvidia-device-plugin on NodePool gpu-g5" in result.output, result
    assert "eks-llm/gpu-typo" in result.output, result


def test_teardown_removes_the_platform_before_the_cluster_and_leaves_nothing(deployed, tmp_path):
    state = deployed
    # a claim like the one Prometheus' StatefulSet leaves (no operator runs locally; WaitForFirstConsumer keeps it
    # Pending): the monitoring teardown deletes the claims of its namespace before the cluster goes
    apply(state, {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                  "metadata": {"name": "prometheus-db-standin-0", "namespace": "monitoring"},
                  "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "gp3", "resources": {"requests": {"storage": "1Gi"}}}})
    # AWX's Teardown job, its survey answered with the deployment's name (teardown.yml behind a confirmation)
    teardown = awx_job(tmp_path / "awx-teardown-job", "Teardown", {"eks_llm_teardown_confirm": "llm-local"})
    assert "prometheus-db-standin-0" in teardown, teardown[-6000:]
    assert kube_objects(state, "persistentvolumeclaims", "-n", "monitoring") == []
    assert "gp3" not in [c["metadata"]["name"] for c in kube_objects(state, "storageclasses")]
    assert kube_objects(state, "nodepools.karpenter.sh") == []
    assert kube_objects(state, "nodeclaims.karpenter.sh") == []
    assert kube_objects(state, "nodes", "-l", "karpenter.sh/nodepool") == []
    assert kube_objects(state, "ec2nodeclasses.karpenter.k8s.aws") == []
    assert kube_objects(state, "daemonsets", "-n", "gpu-system") == []
    assert leftovers() == []
