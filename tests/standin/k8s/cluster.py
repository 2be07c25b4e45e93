"""Local Kubernetes stand-in: a real control plane (kube-apiserver, etcd, controller-manager,
scheduler) run by kwokctl, KWOK simulating nodes and pods, and Karpenter's KWOK provider turning
NodePools into simulated GPU nodes.

CLI (run from the repository root):
    python -m tests.standin.k8s.cluster start  --state-dir DIR [--aws-endpoint URL] [--zones a,b,c]
    python -m tests.standin.k8s.cluster stop   --state-dir DIR
    python -m tests.standin.k8s.cluster status --state-dir DIR

`start` builds the binaries first if this machine has not (tests/standin/k8s/build.sh, cached
outside the repository), brings the cluster up, installs the upstream CRDs our objects depend on
(Karpenter's NodePool/NodeClaim/KWOKNodeClass, the AWS provider's EC2NodeClass, the Prometheus
Operator's), starts Karpenter with instance types generated from the collection's GPU catalog, and
tells the AWS stand-in (when given) to answer DescribeCluster with this API server's endpoint and
CA and to authenticate EKS tokens for it. It writes DIR/k8s/state.json and DIR/k8s/env.sh.
"""
import argparse
import base64
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

import yaml

from . import cold_start, instance_types
from ..aws_server import process_alive, terminate

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
CLUSTER_NAME = "eks-llm-local"
DEFAULT_ZONES = "us-west-2a,us-west-2b,us-west-2c"
STAGES_DIR = os.path.join(HERE, "stages")


def bin_dir():
    return subprocess.run([os.path.join(HERE, "build.sh"), "--print-bin-dir"], check=True, capture_output=True, text=True).stdout.strip()


def built():
    root = os.path.dirname(bin_dir())
    return os.path.exists(os.path.join(root, "bin", ".complete")) and os.path.exists(os.path.join(root, "upstream-crds", ".complete"))


def upstream_charts():
    """Charts the build took from upstream modules (the real Karpenter chart)."""
    return os.path.join(os.path.dirname(bin_dir()), "upstream-charts")


def _paths(state_dir):
    base = os.path.join(os.path.abspath(state_dir), "k8s")
    return {name: os.path.join(base, name) for name in (
        "", "kwok", "admin.kubeconfig", "authn-webhook.kubeconfig", "instance-types.json", "karpenter.pid",
        "karpenter.log", "state.json", "env.sh", "kwokctl.log")}


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _kwokctl(bins, paths, *args, check=True):
    env = dict(os.environ, KWOK_WORKDIR=paths["kwok"], PATH=bins + os.pathsep + os.environ.get("PATH", ""))
    with open(paths["kwokctl.log"], "a", encoding="utf-8") as log:
        return subprocess.run([os.path.join(bins, "kwokctl"), "--name", CLUSTER_NAME] + list(args), env=env, check=check,
                              stdout=log, stderr=subprocess.STDOUT)


def _kubectl(kubeconfig, *args, stdin=None):
    kubectl = os.path.join(os.path.dirname(sys.executable), "kubectl")
    proc = subprocess.run([kubectl, "--kubeconfig", kubeconfig] + list(args), input=stdin, check=False, capture_output=True, text=True)
    if proc.returncode != 0:
        raise subprocess.CalledProcessError(proc.returncode, proc.args, proc.stdout, "kubectl %s: %s" % (" ".join(args), proc.stderr))
    return proc


def _upstream_crds(bins):
    """CRD files the build fetched from the upstream modules (never committed to this repository)."""
    root = os.path.dirname(bins)
    files = []
    for sub in ("karpenter-crds", "upstream-crds", "kwok-stages"):
        folder = os.path.join(root, sub)
        if os.path.isdir(folder):
            files += [os.path.join(folder, name) for name in sorted(os.listdir(folder)) if name.endswith(".yaml")]
    return files


def _pod_ready_after_mounts(path):
    """Upstream kwok's pod-ready stage with two more selector terms (cold_start.GATE_SELECTOR): a pod with claims is
    readied once the volume stand-in (efs_csi_ext) has mounted them, a GPU pod once its engine has loaded."""
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    marker = "    matchExpressions:\n"
    if text.count(marker) != 1:
        raise RuntimeError("%s: unexpected layout, cannot add the mount and cold start gates" % path)
    return text.replace(marker, marker + cold_start.GATE_SELECTOR)


def _write_webhook_config(path, aws_endpoint):
    config = {
        "apiVersion": "v1", "kind": "Config",
        "clusters": [{"name": "eks-authenticator", "cluster": {"server": aws_endpoint.rstrip("/") + "/_standin/eks/tokenreview"}}],
        "users": [{"name": "kube-apiserver", "user": {}}],
        "contexts": [{"name": "webhook", "context": {"cluster": "eks-authenticator", "user": "kube-apiserver"}}],
        "current-context": "webhook",
    }
    with open(path, "w", encoding="utf-8") as handle:
        yaml.safe_dump(config, handle)


def _cluster_facts(kubeconfig):
    with open(kubeconfig, encoding="utf-8") as handle:
        config = yaml.safe_load(handle)
    cluster = [c for c in config["clusters"] if CLUSTER_NAME in c["name"]][0]["cluster"]
    ca = cluster.get("certificate-authority-data")
    if not ca:
        with open(cluster["certificate-authority"], "rb") as handle:
            ca = base64.b64encode(handle.read()).decode()
    return cluster["server"], ca


def _oidc_facts(kubeconfig):
    """The issuer and public keys of the API server's service account tokens (what EKS publishes for IRSA)."""
    discovery = json.loads(_kubectl(kubeconfig, "get", "--raw", "/.well-known/openid-configuration").stdout)
    jwks = json.loads(_kubectl(kubeconfig, "get", "--raw", "/openid/v1/jwks").stdout)
    return {"cluster_oidc_issuer": discovery["issuer"], "cluster_oidc_jwks": jwks}


def _start_karpenter(bins, paths):
    old = _read_pid(paths["karpenter.pid"])
    if old and process_alive(old):
        return old
    env = dict(os.environ, KUBECONFIG=paths["admin.kubeconfig"], SYSTEM_NAMESPACE="kube-system", DISABLE_LEADER_ELECTION="true",
               INSTANCE_TYPES_FILE_PATH=paths["instance-types.json"], METRICS_PORT=str(_free_port()),
               HEALTH_PROBE_PORT=str(_free_port()), LOG_LEVEL="info", KUBERNETES_MIN_VERSION="1.19.0-0",
               BATCH_MAX_DURATION="2s", BATCH_IDLE_DURATION="200ms")
    with open(paths["karpenter.log"], "ab") as log:
        process = subprocess.Popen([os.path.join(bins, "karpenter-kwok")], env=env, stdin=subprocess.DEVNULL, stdout=log,
                                   stderr=log, start_new_session=True)
    with open(paths["karpenter.pid"], "w", encoding="utf-8") as handle:
        handle.write("%d\n" % process.pid)
    return process.pid


def _karpenter_running(paths):
    pid = _read_pid(paths["karpenter.pid"])
    return bool(pid) and process_alive(pid)


def _read_pid(path):
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read().strip()
        return int(text) if text.isdigit() else None
    except OSError:
        return None


def configure_aws(aws_endpoint, settings):
    """Change the AWS stand-in's settings through its control API (POST /_standin/config)."""
    request = urllib.request.Request(aws_endpoint.rstrip("/") + "/_standin/config", data=json.dumps(settings).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


def _aws_endpoint_from_state(state_dir):
    try:
        with open(os.path.join(state_dir, "server.port"), encoding="utf-8") as handle:
            return "http://127.0.0.1:%s" % handle.read().strip()
    except OSError:
        return None


def _api_ready(kubeconfig, deadline):
    while time.time() < deadline:
        try:
            _kubectl(kubeconfig, "get", "--raw", "/readyz")
            return True
        except subprocess.CalledProcessError:
            time.sleep(0.5)
    return False


def _create_cluster(bins, paths, args, attempts=3):
    """kwokctl create cluster, on ports taken free just before. kwokctl's own picks (and the etcd peer port, which
    cannot be given) can collide with a cluster another checkout or test session starts at the same moment; the
    loser's etcd exits with 'address already in use', so a failed attempt is deleted and retried on new ports."""
    for attempt in range(1, attempts + 1):
        ports = ["--kube-apiserver-port", str(_free_port()), "--etcd-port", str(_free_port()),
                 "--controller-port", str(_free_port()), "--kube-controller-manager-port", str(_free_port()),
                 "--kube-scheduler-port", str(_free_port())]
        _kwokctl(bins, paths, "delete", "cluster", check=False)
        created = _kwokctl(bins, paths, "create", "cluster", "--runtime", "binary", "--kube-authorization", "--wait", "90s",
                           "--enable-crds", "Stage", "--kubeconfig", paths["admin.kubeconfig"], *ports, *args, check=False)
        if created.returncode == 0 and _api_ready(paths["admin.kubeconfig"], time.time() + 90):
            return True
        print("local Kubernetes: attempt %d of %d did not come up (see %s)%s"
              % (attempt, attempts, paths["kwokctl.log"], "; retrying on other ports" if attempt < attempts else ""), file=sys.stderr)
    return False


def cmd_start(args):
    started = time.time()
    scale = cold_start.scale_from(args.cold_start_scale)
    if not built():
        print("building the local Kubernetes stand-in (once per machine, ~20-30 min cold)...", flush=True)
        subprocess.run([os.path.join(HERE, "build.sh")], check=True)
    bins = bin_dir()
    paths = _paths(args.state_dir)
    os.makedirs(paths[""], exist_ok=True)
    aws_endpoint = args.aws_endpoint or _aws_endpoint_from_state(args.state_dir)
    state = _read_state(paths)
    # A cluster whose token webhook points at another AWS stand-in (restarted on a new port) is replaced.
    same_aws = state and (not aws_endpoint or state.get("aws_endpoint") == aws_endpoint)
    if state and same_aws and _api_answers(paths) and _karpenter_running(paths):
        print("local Kubernetes already running at %s" % state["endpoint"])
        if aws_endpoint:
            configure_aws(aws_endpoint, state["aws_settings"])
        return 0
    instance_types.write(paths["instance-types.json"], args.zones.split(","))
    extra = []
    if aws_endpoint:
        _write_webhook_config(paths["authn-webhook.kubeconfig"], aws_endpoint)
        extra = ["--extra-args", "kube-apiserver=authentication-token-webhook-config-file=" + paths["authn-webhook.kubeconfig"]]
    binaries = ["--kube-apiserver-binary", os.path.join(bins, "kube-apiserver"),
                "--kube-controller-manager-binary", os.path.join(bins, "kube-controller-manager"),
                "--kube-scheduler-binary", os.path.join(bins, "kube-scheduler"),
                "--etcd-binary", os.path.join(bins, "etcd"),
                "--kwok-controller-binary", os.path.join(bins, "kwok")]
    old_karpenter = _read_pid(paths["karpenter.pid"])
    if old_karpenter and process_alive(old_karpenter):  # it would keep talking to the cluster deleted below
        terminate(old_karpenter)
    if not _create_cluster(bins, paths, binaries + extra):
        print("the API server did not become ready; see %s" % paths["kwokctl.log"], file=sys.stderr)
        return 1
    for crd in _upstream_crds(bins):
        if os.path.basename(crd) == "pod-ready.yaml":
            _kubectl(paths["admin.kubeconfig"], "apply", "--server-side", "-f", "-", stdin=_pod_ready_after_mounts(crd))
        else:
            _kubectl(paths["admin.kubeconfig"], "apply", "--server-side", "-f", crd)
    if os.path.isdir(STAGES_DIR):
        for stage in sorted(os.listdir(STAGES_DIR)):
            if stage.endswith(".yaml"):
                _kubectl(paths["admin.kubeconfig"], "apply", "--server-side", "-f", os.path.join(STAGES_DIR, stage))
    _kubectl(paths["admin.kubeconfig"], "apply", "--server-side", "-f", "-", stdin=yaml.safe_dump_all(cold_start.stages(scale)))
    _kubectl(paths["admin.kubeconfig"], "wait", "--for=condition=Established", "--timeout=60s", "crd", "--all")
    pid = _start_karpenter(bins, paths)
    endpoint, ca = _cluster_facts(paths["admin.kubeconfig"])
    settings = {"cluster_endpoint": endpoint, "cluster_ca": ca, "kube_admin_kubeconfig": paths["admin.kubeconfig"],
                "node_registration_delay": cold_start.registration_delay(scale)}
    settings.update(_oidc_facts(paths["admin.kubeconfig"]))
    if aws_endpoint:
        configure_aws(aws_endpoint, settings)
    state = {"endpoint": endpoint, "kubeconfig": paths["admin.kubeconfig"], "karpenter_pid": pid, "bin_dir": bins,
             "aws_endpoint": aws_endpoint, "aws_settings": settings,
             "cold_start": {"scale": scale, "seconds": cold_start.durations(scale),
                            "node_registration_delay": cold_start.registration_delay(scale)}}
    with open(paths["state.json"], "w", encoding="utf-8") as handle:
        json.dump(state, handle, indent=1)
    with open(paths["env.sh"], "w", encoding="utf-8") as handle:
        handle.write("export EKS_LLM_LOCAL_KUBECONFIG=%s\n" % paths["admin.kubeconfig"])
        handle.write("export EKS_LLM_UPSTREAM_CHARTS=%s\n" % upstream_charts())
        handle.write("export EKS_LLM_STANDIN_CHARTS=%s\n" % os.path.join(os.path.dirname(HERE), "charts"))
        handle.write("export %s=%s\n" % (cold_start.REGISTRATION_DELAY_VARIABLE, state["cold_start"]["node_registration_delay"]))
    print("local Kubernetes running at %s (Karpenter KWOK provider pid %d) in %.0f s; admin kubeconfig %s"
          % (endpoint, pid, time.time() - started, paths["admin.kubeconfig"]))
    return 0


def _read_state(paths):
    try:
        with open(paths["state.json"], encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


def _api_answers(paths):
    try:
        _kubectl(paths["admin.kubeconfig"], "get", "--raw", "/readyz")
        return True
    except (subprocess.CalledProcessError, OSError):
        return False


def cmd_stop(args):
    paths = _paths(args.state_dir)
    pid = _read_pid(paths["karpenter.pid"])
    if pid and process_alive(pid):
        terminate(pid)
    if built() and os.path.isdir(paths["kwok"]):
        _kwokctl(bin_dir(), paths, "delete", "cluster", check=False)
    for name in ("karpenter.pid", "state.json"):
        if os.path.exists(paths[name]):
            os.remove(paths[name])
    aws_endpoint = _aws_endpoint_from_state(args.state_dir)
    if aws_endpoint:
        try:
            configure_aws(aws_endpoint, {"cluster_endpoint": "", "cluster_ca": "", "kube_admin_kubeconfig": "", "cluster_oidc_issuer": "",
                                         "cluster_oidc_jwks": {}, "node_registration_delay": ""})
        except OSError:
            pass  # the AWS stand-in is already gone
    print("local Kubernetes stopped")
    return 0


def cmd_status(args):
    paths = _paths(args.state_dir)
    state = _read_state(paths)
    if state and _api_answers(paths):
        karpenter = "running" if _karpenter_running(paths) else "NOT running"
        print("running at %s; Karpenter %s" % (state["endpoint"], karpenter))
        return 0 if karpenter == "running" else 3
    print("not running")
    return 3


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tests.standin.k8s.cluster", description=__doc__.split("\n", 1)[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("start", "stop", "status"):
        sub = commands.add_parser(name)
        sub.add_argument("--state-dir", required=True)
        if name == "start":
            sub.add_argument("--aws-endpoint", default=None, help="the AWS stand-in (default: the one in --state-dir)")
            sub.add_argument("--zones", default=DEFAULT_ZONES)
            sub.add_argument("--cold-start-scale", default=None, help="wall seconds per real second of a GPU pod's cold start"
                             " (default: $%s, else %s; 0: events only)" % (cold_start.SCALE_VARIABLE, cold_start.DEFAULT_SCALE))
    args = parser.parse_args(argv)
    return {"start": cmd_start, "stop": cmd_stop, "status": cmd_status}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
