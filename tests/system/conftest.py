"""Run the collection's playbooks against the local AWS stand-in and read the result back.

These are system tests: real ansible-playbook processes, the real amazon.aws / community.aws
modules and ours, and a stateful stand-in of AWS (tests/standin) instead of an account.
"""
import json
import os
import re
import signal
import subprocess
import sys
import time

import boto3
import pytest

pytest_plugins = ["tests.standin.fixtures"]

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
AIPERF_VENV = os.path.join(REPO, ".cache", "aiperf-venv")  # `make tokenizer` (make test does) installs AIPerf here


def installed_aiperf():
    """AIPerf's executable from its own virtualenv; the test is skipped where it is not installed."""
    aiperf = os.path.join(AIPERF_VENV, "bin", "aiperf")
    if not os.access(aiperf, os.X_OK):
        pytest.skip("AIPerf is not installed in %s: run `make tokenizer` (make test does)" % AIPERF_VENV)
    return aiperf


def make_tokenizer(directory):
    """The word-level tokenizer AIPerf counts tokens with the way the LLM stand-in does, written into ``directory``."""
    subprocess.run([os.path.join(AIPERF_VENV, "bin", "python"), os.path.join(REPO, "tests", "system", "tiny_tokenizer.py"), directory],
                   check=True, timeout=120)
    return directory


LOCAL_INVENTORY = os.path.join(REPO, "inventories", "local")
DEPLOYMENT = "llm-local"
RECAP_RE = re.compile(r"^localhost\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)


class PlaybookResult(object):
    def __init__(self, returncode, output):
        self.returncode = returncode
        self.output = output
        found = RECAP_RE.findall(output)
        self.ok, self.changed, self.unreachable, self.failed = (int(v) for v in found[-1]) if found else (0, 0, 0, 0)

    def __repr__(self):
        lines = self.output.splitlines()
        errors = [i for i, line in enumerate(lines) if line.startswith(("[ERROR]", "fatal:", "failed:"))]
        context = "\n".join("\n".join(lines[i:i + 25]) for i in errors[:3])
        if not context and self.changed:  # an idempotence failure: say which tasks changed what
            context = "\n".join(self.changed_tasks())
        return "<rc=%s ok=%s changed=%s failed=%s>\n%s" % (self.returncode, self.ok, self.changed, self.failed, context or self.output[-6000:])

    def changed_tasks(self):
        """'TASK [...] -> changed: ...' for every task that reported a change."""
        found, task = [], ""
        for line in self.output.splitlines():
            if line.startswith("TASK ["):
                task = line.rstrip("* ")
            elif line.startswith("changed:"):
                found.append("%s -> %s" % (task, line[:300]))
        return found


def playbook_env(extra=None):
    env = dict(os.environ)
    env["ANSIBLE_CONFIG"] = os.path.join(REPO, "ansible.cfg")
    env["ANSIBLE_FORCE_COLOR"] = "0"
    env["ANSIBLE_NOCOLOR"] = "1"
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    env.pop("NGC_API_KEY", None)
    env.pop("HF_TOKEN", None)
    # The local inventory's verify/benchmark read the LLM stand-in's URLs that `make local-up` writes; tests that run
    # those layers give their own endpoints, the others only need the inventory to validate (port 9: discard).
    env.setdefault("EKS_LLM_LOCAL_LLM_URL", "http://127.0.0.1:9")
    env.setdefault("EKS_LLM_LOCAL_LLM_METRICS_URL", "http://127.0.0.1:9/metrics")
    env.update(extra or {})
    return env


def playbook_command(playbook, inventory, args):
    return [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), os.path.join(REPO, playbook), "-i", inventory] + list(args)


def run_playbook(playbook, inventory=LOCAL_INVENTORY, args=(), env=None, timeout=1800):
    proc = subprocess.run(playbook_command(playbook, inventory, args), cwd=REPO, env=playbook_env(env),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, timeout=timeout, check=False)
    log_dir = os.environ.get("EKS_LLM_TEST_LOG_DIR")  # keep every run's full output for debugging
    if log_dir:
        os.makedirs(log_dir, exist_ok=True)
        name = "%s-%s.log" % (time.strftime("%H%M%S"), os.path.basename(playbook))
        with open(os.path.join(log_dir, name), "w", encoding="utf-8") as handle:
            handle.write(proc.stdout)
    return PlaybookResult(proc.returncode, proc.stdout)


def run_playbook_until(playbook, marker, inventory=LOCAL_INVENTORY, env=None, timeout=900):
    """Start a playbook and kill it (SIGKILL, like a lost session) as soon as `marker` shows in its output."""
    proc = subprocess.Popen(playbook_command(playbook, inventory, []), cwd=REPO, env=playbook_env(env), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, universal_newlines=True, start_new_session=True)
    seen = []
    deadline = time.monotonic() + timeout
    for line in proc.stdout:
        seen.append(line)
        if marker in line or time.monotonic() > deadline:
            break
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    return "".join(seen)


def write_inventory(tmp_path, changes=None, remove=(), source=LOCAL_INVENTORY):
    """A copy of the local inventory (or of ``source``) with some variables changed or removed."""
    from tests.standin.local import inventory_copy  # pylint: disable=import-outside-toplevel

    overrides = dict((key, None) for key in remove)
    if "eks_llm_models" in (changes or {}):
        # the local inventory's verify and benchmark point at the LLM stand-in for its own model only
        overrides.update(eks_llm_verify={"enabled": False}, eks_llm_benchmark={"enabled": False})
    overrides.update(changes or {})
    target, dummy = inventory_copy(source, str(tmp_path / "inventory"), overrides)
    return target


def wait_for(predicate, timeout=120, interval=1.0):
    """predicate()'s first truthy value within timeout seconds, else its last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


def aws(service):
    return boto3.client(service, region_name="us-west-2", endpoint_url=os.environ["AWS_ENDPOINT_URL"])


def leftovers(name=DEPLOYMENT):
    """Everything of deployment `name` still in the stand-in, found independently of the collection's own scan."""
    tag_filter = [{"Name": "tag:eks-llm:deployment", "Values": [name]}]
    ec2 = aws("ec2")
    found = []
    found += ["vpc " + v["VpcId"] for v in ec2.describe_vpcs(Filters=tag_filter)["Vpcs"]]
    found += ["subnet " + s["SubnetId"] for s in ec2.describe_subnets(Filters=tag_filter)["Subnets"]]
    found += ["nat " + n["NatGatewayId"] for n in ec2.describe_nat_gateways(Filter=tag_filter)["NatGateways"] if n["State"] != "deleted"]
    found += ["eip " + a["AllocationId"] for a in ec2.describe_addresses(Filters=tag_filter)["Addresses"]]
    found += ["sg " + g["GroupId"] for g in ec2.describe_security_groups(Filters=tag_filter)["SecurityGroups"]]
    found += ["route-table " + r["RouteTableId"] for r in ec2.describe_route_tables(Filters=tag_filter)["RouteTables"]]
    found += ["igw " + i["InternetGatewayId"] for i in ec2.describe_internet_gateways(Filters=tag_filter)["InternetGateways"]]
    found += ["volume " + v["VolumeId"] for v in ec2.describe_volumes(Filters=tag_filter)["Volumes"] if v["State"] not in ("deleting", "deleted")]
    found += ["eks " + c for c in aws("eks").list_clusters()["clusters"] if c == name]
    found += ["efs " + f["FileSystemId"] for f in aws("efs").describe_file_systems()["FileSystems"] if f.get("Name", "").startswith(name)]
    found += ["s3 " + b["Name"] for b in aws("s3").list_buckets()["Buckets"] if b["Name"].startswith(name)]
    found += ["iam " + r["RoleName"] for r in aws("iam").list_roles()["Roles"] if r["RoleName"].startswith(name + "-")]
    iam = aws("iam")
    found += ["oidc-provider " + p["Arn"] for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]
              if {"Key": "eks-llm:deployment", "Value": name} in iam.get_open_id_connect_provider(OpenIDConnectProviderArn=p["Arn"]).get("Tags", [])]
    found += ["sqs " + q for q in aws("sqs").list_queues().get("QueueUrls", []) if ("/" + name + "-") in q]
    found += ["rule " + r["Name"] for r in aws("events").list_rules(NamePrefix=name + "-")["Rules"]]
    found += ["log-group " + g["logGroupName"] for g in aws("logs").describe_log_groups(logGroupNamePrefix="/aws/eks/" + name + "/")["logGroups"]]
    found += ["secret " + s["Name"] for s in aws("secretsmanager").list_secrets()["SecretList"] if s["Name"].startswith(name + "/")]
    return found


@pytest.fixture
def standin(aws_standin_clean):
    return aws_standin_clean


@pytest.fixture(scope="session")
def local_kubernetes(aws_standin, tmp_path_factory):
    """The local Kubernetes stand-in (kube-apiserver + KWOK + Karpenter's KWOK provider) wired to the AWS stand-in.

    Skipped, saying how to build it, on a machine without the binaries; `make test` builds them first.
    """
    from tests.standin.k8s import cluster  # pylint: disable=import-outside-toplevel
    from tests.standin.ngc_charts import NgcChartRepo  # pylint: disable=import-outside-toplevel

    if not cluster.built():
        pytest.skip("local Kubernetes stand-in not built on this machine: run `make local-k8s-build` (tests/standin/k8s/build.sh)")
    state_dir = str(tmp_path_factory.mktemp("local-stand-ins"))
    assert cluster.main(["start", "--state-dir", state_dir, "--aws-endpoint", aws_standin.endpoint_url]) == 0
    with open(os.path.join(state_dir, "k8s", "state.json"), encoding="utf-8") as handle:
        state = json.load(handle)
    # NGC's private chart repositories (helm.ngc.nvidia.com/nim) refuse anonymous pulls; so does their stand-in
    ngc_charts = NgcChartRepo([os.path.join(REPO, "tests", "standin", "charts", "nim-llm")], org="nim").start()
    state["ngc_charts"] = ngc_charts
    charts = {"EKS_LLM_UPSTREAM_CHARTS": cluster.upstream_charts(),
              "EKS_LLM_STANDIN_CHARTS": os.path.join(REPO, "tests", "standin", "charts"),
              "EKS_LLM_NGC_CHARTS": ngc_charts.url,
              # the collection's kubeconfig for this cluster, apart from any other local cluster on the machine
              "EKS_LLM_KUBE_DIR": os.path.join(state_dir, "kube"),
              "EKS_LLM_WORK_DIR": os.path.join(state_dir, "work"),
              # the simulated GPU instance boot the local inventory gives its KWOKNodeClass
              "EKS_LLM_STANDIN_NODE_REGISTRATION_DELAY": state["cold_start"]["node_registration_delay"]}
    saved = dict((key, os.environ.get(key)) for key in charts)
    os.environ.update(charts)
    try:
        yield state
    finally:
        ngc_charts.stop()
        cluster.main(["stop", "--state-dir", state_dir])
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture
def platform_standin(aws_standin, local_kubernetes):
    """A blank AWS account whose EKS clusters answer with the local API server, and a cluster without nodes."""
    from tests.standin.fixtures import DEFAULTS  # pylint: disable=import-outside-toplevel

    aws_standin.reset()
    aws_standin.configure(**DEFAULTS)
    aws_standin.configure(**local_kubernetes["aws_settings"])
    kubectl(local_kubernetes, "delete", "nodes", "-l", "eks.amazonaws.com/nodegroup", "--wait=false")
    yield local_kubernetes
    aws_standin.configure(**DEFAULTS)


def kubectl(state, *args, check=True, stdin=None):
    """kubectl as the cluster admin of the local stand-in (the tests' own view, independent of the collection)."""
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), "kubectl"), "--kubeconfig", state["kubeconfig"]] + list(args),
                          input=stdin, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False, timeout=120)
    if check and proc.returncode != 0:
        raise AssertionError("kubectl %s failed: %s" % (" ".join(args), proc.stdout))
    return proc.stdout


def kube_objects(state, kind, *args):
    return json.loads(kubectl(state, "get", kind, "-o", "json", *args))["items"]


def pytest_collection_modifyitems(items):
    """Tests that need the local Kubernetes stand-in are marked `kubernetes`, so `make system` can run the others
    while the stand-in's first build is still going (CI starts it in the background)."""
    for item in items:
        if "local_kubernetes" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.kubernetes)


def pytest_configure(config):
    config.addinivalue_line("markers", "kubernetes: needs the local Kubernetes stand-in (tests/standin/k8s)")
    config.addinivalue_line("markers", "readme: runs the README's make commands in this checkout (make readme)")
    config.addinivalue_line("markers", "auto_mode: EKS Auto Mode end to end on the local stand-ins (make system-auto-mode)")
