"""The inference layer against the local stand-ins: real kube-apiserver, scheduler, KWOK and Karpenter's KWOK provider.

Each seed's example inventory (its models, pools, front end) is deployed (platform + inference layers on one AWS layer per module) on top of the local
inventory's settings (endpoints, stand-in charts), re-run for changed=0, read back from the API server and the
bucket, and torn down. Without the local Kubernetes stand-in (fixture ``local_kubernetes`` from
tests/system/conftest.py, which yields the kubeconfig path) the cluster tests are skipped with the reason;
the placement test needs no cluster.
"""
import json
import os
import time

import pytest
import yaml

from tests.system.conftest import DEPLOYMENT, LOCAL_INVENTORY, REPO, aws, run_playbook

FAKE_NGC_KEY = "nvapi-" + "INFERENCETEST-" + "0123456789" * 3
FAKE_HF_TOKEN = "hf_" + "INFERENCETEST" + "abcdefghij" * 3
SECRETS_ENV = {"NGC_API_KEY": FAKE_NGC_KEY, "HF_TOKEN": FAKE_HF_TOKEN}
EXAMPLES = os.path.join(REPO, "inventories", "examples")
STANDIN_CHARTS = os.path.join(REPO, "tests", "standin", "charts")
# what an example inventory contributes; everything else (endpoints, platform stand-ins) comes from the local one
EXAMPLE_KEYS = ("eks_llm_gpu_node_pools", "eks_llm_models", "eks_llm_open_webui", "eks_llm_exposure")
SELECTOR = "app.kubernetes.io/managed-by=eks_llm.inference,eks-llm/layer=inference"
KINDS = (("autoscaling/v2", "HorizontalPodAutoscaler"), ("monitoring.coreos.com/v1", "ServiceMonitor"),
         ("apps.nvidia.com/v1alpha1", "NIMService"), ("apps.nvidia.com/v1alpha1", "NIMCache"), ("apps/v1", "Deployment"),
         ("apps/v1", "DaemonSet"), ("v1", "Service"), ("v1", "PersistentVolumeClaim"), ("v1", "ServiceAccount"),
         ("v1", "Secret"), ("v1", "Namespace"))


KUBE_LAYERS = "tests/system/playbooks/platform_and_inference.yml"
INFERENCE = "playbooks/inference.yml"
G_QUOTAS = {"L-DB2E81BA": 384, "L-3819A6DF": 384}


@pytest.fixture(scope="module")
def kubeconfig(aws_standin, local_kubernetes):
    """The AWS layer, created once for the module on the AWS stand-in pointed at the local API server; yields the
    admin kubeconfig (the tests' own view). Each test deploys the Kubernetes layers on it and tears down its
    inference layer; the AWS layer and platform are left to test_platform_layer."""
    from tests.standin.fixtures import DEFAULTS  # pylint: disable=import-outside-toplevel

    aws_standin.reset()
    aws_standin.configure(**DEFAULTS)
    aws_standin.configure(**local_kubernetes["aws_settings"])
    # an account whose G-instance vCPU quotas were raised: the seeds' largest pool (g5.24xlarge) needs 96 vCPUs
    aws_standin.configure(quotas=G_QUOTAS)
    created = run_playbook("playbooks/aws.yml", env=SECRETS_ENV)
    assert created.returncode == 0, created
    yield local_kubernetes["kubeconfig"]
    # The AWS layer and the platform stay for test_platform_layer (next in the session), which deploys the local
    # inventory over them and ends with teardown.yml: one AWS layer and one whole teardown per session, and that
    # teardown proves nothing is left after the seeds' history too. Alone, this module leaves them to the session end.
    local_kubernetes["aws_layer_up"] = True
    aws_standin.configure(**DEFAULTS)


def inventory_from(tmp_path, example, **changes):
    """The local inventory with the models, pools and front end of one example (a name) or of several together
    (a list: their lists are concatenated, the other keys taken from the first example that sets them), NIM charts
    pointed at the stand-ins."""
    examples = [example] if isinstance(example, str) else list(example)
    target = tmp_path / (examples[0] if len(examples) == 1 else "combined")
    target.mkdir()
    (target / "group_vars" / "all").mkdir(parents=True)
    with open(os.path.join(LOCAL_INVENTORY, "hosts.yml")) as handle:
        (target / "hosts.yml").write_text(handle.read())
    with open(os.path.join(LOCAL_INVENTORY, "group_vars", "all", "main.yml")) as handle:
        data = yaml.safe_load(handle)
    # these tests run the platform and inference playbooks only: the local inventory's verify and benchmark
    # settings (endpoints of its own model on the controller) do not describe the examples' models
    data.pop("eks_llm_verify", None)
    data.pop("eks_llm_benchmark", None)
    taken = set()
    for name in examples:
        with open(os.path.join(EXAMPLES, name, "group_vars", "all", "main.yml")) as handle:
            seed = yaml.safe_load(handle)
        if len(examples) > 1:  # a seed's models run on its only pool without naming it; together they must
            pools = [p["name"] for p in seed.get("eks_llm_gpu_node_pools") or []]
            seed["eks_llm_models"] = [dict(m, node_pool=m.get("node_pool") or pools[0]) for m in seed.get("eks_llm_models") or []]
        for key in EXAMPLE_KEYS:
            if key not in seed:
                continue
            if isinstance(seed[key], list) and key in taken:
                data[key] = data[key] + seed[key]
            elif key not in taken:
                data[key] = seed[key]
            taken.add(key)
    overrides = dict(data.get("eks_llm_chart_overrides") or {})
    overrides["k8s-nim-operator"] = {"chart_ref": os.path.join(STANDIN_CHARTS, "k8s-nim-operator")}
    # the nim-llm stand-in chart comes from the stand-in of NGC's chart repository, which refuses anonymous pulls
    # (tests without the local Kubernetes only validate: any URL will do there)
    overrides["nim-llm"] = {"repo_url": os.environ.get("EKS_LLM_NGC_CHARTS", "http://127.0.0.1:9/nim")}
    data["eks_llm_chart_overrides"] = overrides
    # verify and benchmark (their own tests) are pointed at the LLM stand-in for the local inventory's model only
    data["eks_llm_verify"] = {"enabled": False}
    data["eks_llm_benchmark"] = {"enabled": False}
    data.update(changes)
    (target / "group_vars" / "all" / "main.yml").write_text(yaml.safe_dump(data, sort_keys=False))
    return str(target), data


def k8s_client(kubeconfig):
    kubernetes = pytest.importorskip("kubernetes")
    return kubernetes.dynamic.DynamicClient(kubernetes.config.new_client_from_config(config_file=kubeconfig))


def labelled(client, owned=False):
    """{'Kind ns/name': object} of everything the inference layer created; with owned=True also what controllers made
    from it (the NIM Operator's Deployment and Service of a NIMService carry the NIMService's labels)."""
    found = {}
    for api_version, kind in KINDS:
        try:
            # a discovery cache left by an earlier cluster on the same port may still list a kind: 404 = not served
            items = client.resources.get(api_version=api_version, kind=kind).get(label_selector=SELECTOR).items
        except Exception:  # pylint: disable=broad-except  # kind not served (CRD absent): nothing of it exists
            continue
        for item in items:
            item = item.to_dict()
            if item["metadata"].get("ownerReferences") and not owned:
                continue
            found["%s %s/%s" % (kind, item["metadata"].get("namespace") or "", item["metadata"]["name"])] = item
    return found


def pods_of(client, namespace, selector):
    return [p.to_dict() for p in client.resources.get(api_version="v1", kind="Pod").get(namespace=namespace, label_selector=selector).items]


def assert_on_pool(client, pods, pool, gpus):
    """Every pod is bound to a node of the named GPU pool and asks for the GPUs of its model."""
    assert pods, "no pods"
    for pod in pods:
        node_name = pod["spec"].get("nodeName")
        assert node_name, "pod %s is not scheduled" % pod["metadata"]["name"]
        node = client.resources.get(api_version="v1", kind="Node").get(name=node_name).to_dict()
        assert node["metadata"]["labels"].get("eks-llm/node-pool") == pool
        assert node["metadata"]["labels"].get("eks-llm/gpu") == "true"
        requested = pod["spec"]["containers"][0]["resources"]["limits"]["nvidia.com/gpu"]
        assert str(requested) == str(gpus)


def assert_internal_nlbs(client, data, services):
    """internal_nlb exposure (the mistral seed's): every model Service got an internal NLB from the cloud provider
    (tests/standin/service_lb_ext.py plays it), tagged with the deployment so teardown's leftover scan finds it."""
    assert data["eks_llm_exposure"]["mode"] == "internal_nlb"
    assert services and all(s["spec"]["type"] == "LoadBalancer" for s in services), [s["metadata"]["name"] for s in services]
    api = client.resources.get(api_version="v1", kind="Service")
    deadline = time.time() + 30  # the controller polls every second; applied Services are not waited for
    while True:
        current = [api.get(namespace=s["metadata"]["namespace"], name=s["metadata"]["name"]).to_dict() for s in services]
        if all((s.get("status") or {}).get("loadBalancer", {}).get("ingress") for s in current) or time.time() > deadline:
            break
        time.sleep(1)
    elbv2 = aws("elbv2")
    balancers = dict((b["DNSName"], b) for b in elbv2.describe_load_balancers()["LoadBalancers"])
    for service in current:
        hostname = service["status"]["loadBalancer"]["ingress"][0]["hostname"]
        balancer = balancers[hostname]
        assert balancer["Scheme"] == "internal" and balancer["Type"] == "network"
        tags = elbv2.describe_tags(ResourceArns=[balancer["LoadBalancerArn"]])["TagDescriptions"][0]["Tags"]
        assert {"Key": "eks-llm:deployment", "Value": data["eks_llm_name"]} in tags


def assert_no_secret(*results):
    for result in results:
        assert FAKE_NGC_KEY not in result.output and FAKE_HF_TOKEN not in result.output


def test_a_placement_that_cannot_fit_fails_preflight_with_the_numbers(tmp_path):
    inventory, dummy = inventory_from(tmp_path, "triton-vllm-opt-350m-hpa-s3", eks_llm_models=[{
        "name": "llama-70b", "engine": "triton_vllm", "parameters_billion": 70, "precision": "bf16",
        "vllm": {"model_id": "meta-llama/Llama-3.1-70B-Instruct"}}])
    result = run_playbook("site.yml", inventory=inventory, env=SECRETS_ENV)
    assert result.returncode != 0
    assert "cannot be placed on node pool 'gpu-g4dn'" in result.output, result
    assert "130.4 GiB of bf16 weights" in result.output and "leaving" in result.output
    assert "nothing was created" in result.output
    assert_no_secret(result)


SEEDS = {
    # example: {model: (namespace, engine, pool, gpus)}
    "triton-vllm-opt-350m-hpa-s3": {"opt-350m": ("triton", "triton_vllm", "gpu-g4dn", 1)},
    "triton-vllm-mistral-llama2-g5-24xlarge": {"mistral7b": ("triton-vllm", "triton_vllm", "g5-24xlarge", 1),
                                               "llama2": ("triton-vllm", "triton_vllm", "g5-24xlarge", 1)},
    "nim-llama3-8b-g5-spot-efs": {"llama3-8b-instruct": ("nim", "nim_chart", "g5-gpu-karpenter", 1)},
    "nim-operator-llama3-8b-tp2-g5-12xlarge": {"meta-llama3-8b-instruct": ("nim-service", "nim_operator", "g5-12xlarge", 2)},
}


def model_pods(client, namespace, name, engine):
    if engine == "nim_chart":
        return pods_of(client, namespace, "app.kubernetes.io/instance=%s" % name)
    return pods_of(client, namespace, "eks-llm/model=%s,eks-llm/engine=%s" % (name, engine))


def test_all_seeds_together_converge_are_idempotent_and_tear_down(tmp_path, kubeconfig, local_kubernetes):
    """The four seeds' models, pools and front ends in one inventory (one deployment, so the module stays within
    the CI budget): every model where its seed says, the bucket holding the rendered Triton repository, a second
    run changing nothing, and the inference teardown leaving nothing of the layer."""
    inventory, data = inventory_from(tmp_path, sorted(SEEDS))
    expected = dict((name, spec) for models in SEEDS.values() for name, spec in models.items())
    assert sorted(m["name"] for m in data["eks_llm_models"]) == sorted(expected)
    ngc_charts = local_kubernetes["ngc_charts"]
    ngc_charts.key, ngc_charts.served[:], ngc_charts.refused[:] = FAKE_NGC_KEY, [], []
    first = run_playbook(KUBE_LAYERS, inventory=inventory, env=SECRETS_ENV)
    assert first.returncode == 0, first
    # the nim_chart model's chart came from the NGC stand-in, with the NGC credentials on every request
    assert ngc_charts.refused == [] and any(p.endswith("/nim-llm-1.7.0.tgz") for p in ngc_charts.served), ngc_charts.served
    client = k8s_client(kubeconfig)
    objects = labelled(client)
    for name, (namespace, engine, pool, gpus) in sorted(expected.items()):
        if engine == "nim_operator":
            # the NIMCache's name carries a hash of its image:tag (modelPuller is immutable): found through the service
            cache_name = objects["NIMService %s/%s" % (namespace, name)]["spec"]["storage"]["nimCache"]["name"]
            assert cache_name.startswith(name + "-"), cache_name
            for key in ("NIMCache %s/%s" % (namespace, cache_name), "NIMService %s/%s" % (namespace, name)):
                status = objects[key].get("status") or {}
                assert status.get("state") == "Ready", (key, status)
            service = objects["NIMService %s/%s" % (namespace, name)]["spec"]
            assert service["resources"]["limits"]["nvidia.com/gpu"] == str(gpus)
            assert service["nodeSelector"] == {"eks-llm/node-pool": pool}
        assert_on_pool(client, model_pods(client, namespace, name, engine), pool, gpus)
    triton = [m for m in data["eks_llm_models"] if m["engine"] == "triton_vllm"]
    # Triton's AWS SDK reads S3 through IRSA only: each namespace's service account names the account's reader role
    account = aws("sts").get_caller_identity()["Account"]
    for namespace in sorted(set(ns for ns, engine, dummy_pool, dummy_gpus in expected.values() if engine == "triton_vllm")):
        annotations = objects["ServiceAccount %s/triton" % namespace]["metadata"].get("annotations") or {}
        assert annotations.get("eks.amazonaws.com/role-arn") == "arn:aws:iam::%s:role/%s-triton-model-reader" % (
            account, data["eks_llm_name"]), (namespace, annotations)
    bucket = [b["Name"] for b in aws("s3").list_buckets()["Buckets"] if b["Name"].startswith(data["eks_llm_name"] + "-models-")][0]
    listed = aws("s3").list_objects_v2(Bucket=bucket, Prefix="triton/model_repository/").get("Contents", [])
    keys = sorted(o["Key"] for o in listed)
    assert keys == sorted("triton/model_repository/%s/%s" % (m["name"], f) for m in triton for f in ("config.pbtxt", "1/model.json"))
    for model in triton:
        body = aws("s3").get_object(Bucket=bucket, Key="triton/model_repository/%s/1/model.json" % model["name"])["Body"].read()
        engine_args = json.loads(body)
        assert engine_args["model"] == model["vllm"]["model_id"]
        assert engine_args["tensor_parallel_size"] == model.get("tensor_parallel", 1)
        assert engine_args["disable_log_stats"] is False
    assert_internal_nlbs(client, data, [o for k, o in objects.items() if k.startswith("Service ")])
    second = run_playbook(KUBE_LAYERS, inventory=inventory, env=SECRETS_ENV)
    assert second.returncode == 0 and second.changed == 0, second
    gone = run_playbook("playbooks/teardown_inference.yml", inventory=inventory, env=SECRETS_ENV)
    assert gone.returncode == 0, gone
    assert labelled(client, owned=True) == {}
    assert aws("elbv2").describe_load_balancers()["LoadBalancers"] == []  # the Services took their NLBs along
    assert_no_secret(first, second, gone)


VLLM_ENDPOINT = {"name": "vllm", "flavor": "vllm", "models": ["facebook/opt-350m"], "ttft_ms": 5, "itl_ms": 1}
TRITON_ONLY = {"ServiceAccount llm/triton", "DaemonSet llm/triton-prefetch-gpu-g4dn"}


def assert_vllm_objects(objects, model_id):
    """Engine vllm's objects as the pinned vLLM server needs them: its CLI, probes, metrics, HPA metric, EFS cache, and
    the model bucket streamed by the Run:ai streamer under its own service account."""
    pod = objects["Deployment llm/opt-350m"]["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["image"].startswith("vllm/vllm-openai:v") and container["command"] == ["vllm", "serve"]
    assert container["args"][:2] == [model_id, "--served-model-name=facebook/opt-350m"]
    assert "--load-format=runai_streamer" in container["args"] and pod["serviceAccountName"] == "vllm"
    assert "ServiceAccount llm/vllm" in objects
    assert "--max-model-len=2048" in container["args"] and "--tensor-parallel-size=1" in container["args"]
    assert container["startupProbe"]["httpGet"]["path"] == "/health"
    monitor = objects["ServiceMonitor llm/opt-350m"]["spec"]
    assert monitor["endpoints"][0]["path"] == "/metrics" and monitor["endpoints"][0]["port"] == "http"
    hpa = objects["HorizontalPodAutoscaler llm/opt-350m"]["spec"]
    assert hpa["metrics"][0]["pods"]["metric"]["name"] == "llm_requests_waiting"
    assert objects["PersistentVolumeClaim llm/opt-350m-cache"]["spec"]["storageClassName"] == "efs-ap"


def verify_vllm(tmp_path, inventory, base_url):
    """verify.yml on engine vllm: the probe speaks vLLM's API to the stand-in, the workload check reads the local API
    server; returns the report's checks of the model, its prompt verdict, its time to serving and the run's directory."""
    group_vars = os.path.join(inventory, "group_vars", "all", "main.yml")
    with open(group_vars) as handle:
        data = yaml.safe_load(handle)
    data["eks_llm_verify"] = {
        "mode": "controller", "check_workloads": True, "check_prometheus": False, "check_hpa": False,
        "check_interruption": False, "check_storage": False, "check_identity": False, "check_logs": False,
        "timeout_s": 10, "concurrency": 5, "max_tokens": 8, "results_dir": str(tmp_path / "reports"),
        "endpoint_overrides": {"opt-350m": {"base_url": base_url}}}
    with open(group_vars, "w") as handle:
        handle.write(yaml.safe_dump(data, sort_keys=False))
    verified = run_playbook("playbooks/verify.yml", inventory=inventory, env=SECRETS_ENV, timeout=900)
    assert verified.returncode == 0, verified
    runs = sorted(os.listdir(tmp_path / "reports" / "verify"))
    run_dir = tmp_path / "reports" / "verify" / runs[-1]
    report = json.loads((run_dir / "verify-report.json").read_text())
    serving, = [s for s in report["time_to_serving"] if s["model"] == "opt-350m"]
    return (dict((c["check"], c) for c in report["checks"] if c["model"] == "opt-350m"), report["prompts"]["opt-350m"]["verdict"],
            serving, run_dir)


def assert_cold_start_measured(serving, run_dir, cold_start_seconds):
    """The vLLM pod's time to serving, phase by phase, as the local cluster's scaled cold start produced it: the pull
    and the engine load took at least their scaled durations (less a second: Kubernetes keeps whole seconds in
    creationTimestamp, conditions and events), the probe's first answer closes it, the report shows it."""
    phases = dict((p["phase"], p) for p in serving["phases"])
    assert [p["phase"] for p in serving["phases"]] == [
        "nodeclaim_created", "node_ready", "image_pulled", "container_started", "engine_ready", "first_answer"]
    for phase in ("nodeclaim_created", "node_ready"):  # a new node, or Triton's still there
        assert phases[phase]["seconds"] is not None or phases[phase]["note"] == "node already there (before the pod)", phases[phase]
    assert phases["image_pulled"]["seconds"] >= cold_start_seconds["image_pull"] - 1.0, phases["image_pulled"]
    assert phases["image_pulled"]["note"].startswith("pull took "), phases["image_pulled"]
    assert phases["container_started"]["seconds"] is not None
    assert phases["engine_ready"]["seconds"] >= cold_start_seconds["engine_load"] - 1.0, phases["engine_ready"]
    assert phases["first_answer"]["at"] and phases["first_answer"]["seconds"] >= 0  # the stand-in answers in milliseconds
    assert serving["total_s"] >= cold_start_seconds["image_pull"] + cold_start_seconds["engine_load"] - 1.0, serving
    markdown = (run_dir / "verify-report.md").read_text()
    assert "## Time to serving" in markdown and "| opt-350m | %s |" % serving["pod"] in markdown
    assert (run_dir / "time-to-serving.svg").read_text().startswith("<svg")


def test_switching_engines_leaves_nothing_stale(tmp_path, kubeconfig, local_kubernetes):
    """One model moved through every engine on the local cluster (one deployment, to stay within the CI budget):
    triton_vllm -> nim_operator -> a new NIM tag -> vllm (verified against the vLLM stand-in) -> triton_vllm. Each
    step leaves only the objects of its engine; the last equals the first."""
    from tests.standin.llm_server import running_llm_server  # pylint: disable=import-outside-toplevel

    triton_model = {"name": "opt-350m", "engine": "triton_vllm", "namespace": "llm", "parameters_billion": 0.35,
                    "precision": "fp16", "vllm": {"model_id": "facebook/opt-350m"}}
    nim_model = {"name": "opt-350m", "engine": "nim_operator", "namespace": "llm", "parameters_billion": 0.35,
                 "precision": "fp16", "nim": {"image": "nvcr.io/nim/facebook/opt-350m", "tag": "1.0.0"}}
    # a new NIM tag: the real NIMCache CRD makes modelPuller immutable, so the layer makes a new cache, moves the
    # NIMService to it, and only then removes the old cache (its claim is in use until the service moved)
    retagged = dict(nim_model, nim=dict(nim_model["nim"], tag="1.0.1"))
    # vLLM streams the weights from the model bucket: the folder as a user copies it there (the role lists it first)
    bucket = [b["Name"] for b in aws("s3").list_buckets()["Buckets"] if b["Name"].startswith(DEPLOYMENT + "-models-")][0]
    for name in ("config.json", "tokenizer.json", "model.safetensors"):
        aws("s3").put_object(Bucket=bucket, Key="models/opt-350m/" + name, Body=b"{}")
    vllm_model = {"name": "opt-350m", "engine": "vllm", "namespace": "llm", "parameters_billion": 0.35, "precision": "fp16",
                  "max_model_len": 2048, "served_model_name": "facebook/opt-350m",
                  "vllm": {"model_id": "s3://%s/models/opt-350m" % bucket},
                  "autoscaling": {"enabled": True, "min_replicas": 1, "max_replicas": 2, "target": 4}}
    steps = (("triton", triton_model), ("nim", nim_model), ("retag", retagged), ("vllm", vllm_model), ("back", triton_model))
    client = None
    seen = {}
    with running_llm_server([VLLM_ENDPOINT], process=True) as llm:
        for step, model in steps:
            (tmp_path / step).mkdir()
            # models converge in seconds on the stand-ins: a model that cannot be placed fails in minutes, not 30
            inventory, dummy = inventory_from(tmp_path / step, "triton-vllm-opt-350m-hpa-s3", eks_llm_models=[model], models_wait_timeout=300)
            result = run_playbook(KUBE_LAYERS if step == "triton" else INFERENCE, inventory=inventory, env=SECRETS_ENV)
            assert result.returncode == 0, result
            assert_no_secret(result)
            client = client or k8s_client(kubeconfig)
            objects = labelled(client)
            seen[step] = set(objects)
            assert any(" llm/" in k for k in seen[step]), seen[step]
            if step in ("nim", "retag"):  # the service reads the cache of its tag, both Ready
                service = objects["NIMService llm/opt-350m"]
                cache = objects["NIMCache llm/" + service["spec"]["storage"]["nimCache"]["name"]]
                assert cache["spec"]["source"]["ngc"]["modelPuller"] == "%s:%s" % (model["nim"]["image"], model["nim"]["tag"])
                assert [o["status"]["state"] for o in (service, cache)] == ["Ready", "Ready"]
                continue
            assert_on_pool(client, model_pods(client, "llm", "opt-350m", model["engine"]), "gpu-g4dn", 1)
            assert objects["Deployment llm/opt-350m"]["metadata"]["labels"]["eks-llm/engine"] == model["engine"]
            if step == "vllm":
                assert_vllm_objects(objects, vllm_model["vllm"]["model_id"])
                checks, verdict, serving, run_dir = verify_vllm(tmp_path, inventory, llm.url("vllm"))
                for check in ("health_ready", "model_list", "completion", "chat_completion", "chat_stream", "prompt_set",
                              "metrics", "rollout", "service", "pods", "time_to_serving"):
                    assert checks[check]["ok"] is True, checks[check]
                assert checks["health_ready"]["expected"] == "HTTP 200 from GET %s/health" % llm.url("vllm")
                assert "vllm:num_requests_waiting" in checks["metrics"]["got"]  # what the HPA's adapter rule reads
                assert verdict.startswith("PASS: opt-350m answered 20/20 prompts")
                assert_cold_start_measured(serving, run_dir, local_kubernetes["cold_start"]["seconds"])
    caches = dict((step, [k for k in seen[step] if k.startswith("NIMCache ")]) for step in ("nim", "retag"))
    assert len(caches["nim"]) == 1 and len(caches["retag"]) == 1 and caches["nim"] != caches["retag"], caches
    assert seen["retag"] - set(caches["retag"]) == seen["nim"] - set(caches["nim"])
    assert not any(k.startswith(("Deployment llm/", "PersistentVolumeClaim llm/opt-350m-cache")) for k in seen["nim"])
    assert "Namespace /nim-operator" in seen["nim"]
    for step in ("vllm", "back"):  # nothing of the NIM Operator's engine stays behind
        assert not any(k.startswith(("NIMService", "NIMCache")) for k in seen[step]) and "Namespace /nim-operator" not in seen[step]
    # vLLM reuses Triton's object names (its Deployment replaced Triton's: new selector), drops Triton's own objects;
    # its service account goes with it
    assert TRITON_ONLY <= seen["triton"] and not seen["vllm"] & TRITON_ONLY
    assert "ServiceAccount llm/vllm" not in seen["back"]
    assert seen["back"] == seen["triton"]
    assert run_playbook("playbooks/teardown_inference.yml", inventory=inventory, env=SECRETS_ENV).returncode == 0
    assert labelled(client, owned=True) == {}
