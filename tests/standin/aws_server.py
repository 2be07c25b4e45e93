"""Local AWS stand-in: moto 5.2.5 in server mode plus our extensions.

CLI (run from the repository root):
    python -m tests.standin.aws_server start  --state-dir DIR [--port N] (default: a free port) [--time-scale F]
                                              [--throttle-rate R] [--throttle-seed N] [--region us-west-2]
    python -m tests.standin.aws_server stop   --state-dir DIR
    python -m tests.standin.aws_server status --state-dir DIR
    python -m tests.standin.aws_server serve  [same options as start]   (foreground)

In tests:  with StandIn() as aws: boto3.client("eks", endpoint_url=aws.endpoint_url, ...)
Control API on the same port (never throttled): POST /_standin/config, GET /_standin/config,
GET /_standin/timeline, GET /_standin/stats, POST /_standin/reset, GET /_standin/health,
POST /_standin/eks/tokenreview (the EKS token authenticator the local kube-apiserver calls),
POST /_standin/events/emit {"source": "aws.ec2", "detail-type": ..., "detail": {...}, "region": ...} (an AWS service
puts an event on the default bus; PutEvents refuses aws.* sources as AWS does).
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request

from . import config, throttle, timing

# moto itself is imported lazily (install(), the server classes): it takes seconds,
# and start/stop/status only talk to the running process.

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_PORT = 0  # a free port: several checkouts (and test sessions) run side by side


def install():
    """Patch moto (idempotent). Must run before the first request builds moto's Flask apps."""
    # AWS's managed policies exist in the stand-in's account as in AWS (moto reads this whenever it builds an IAM
    # backend). Set here, not at import: a test process that only imports this module (for REPO, terminate, ...) keeps
    # moto's default, and its in-process moto tests do not load ~1300 policies per IAM backend.
    os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
    from . import (auto_mode_ext, capacity_reservations_ext, ec2_ext, efs_csi_ext, efs_ext, eks_ext, events_ext,  # pylint: disable=import-outside-toplevel
                   kms_ext, nim_operator_ext, quotas_ext, fluent_bit_ext, iam_ext, pricing_ext, service_lb_ext, sts_ext)

    eks_ext.install()
    efs_csi_ext.install()
    nim_operator_ext.install()
    service_lb_ext.install()
    auto_mode_ext.install()
    efs_ext.install()
    ec2_ext.install()
    quotas_ext.install()
    kms_ext.install()
    events_ext.install()
    sts_ext.install()
    iam_ext.install()
    fluent_bit_ext.install()
    pricing_ext.install()
    capacity_reservations_ext.install()


def reset():
    """Forget all AWS state (moto's and ours: timeline, pending replays, throttle counters); settings stay.

    moto's own reset (/moto-api/reset) re-creates every live backend and then drops them, which
    costs seconds (IAM reloads ~1300 managed policies per partition, EC2 its AMIs). Dropping
    them is enough: moto builds a backend again on its first use.
    """
    # pylint: disable=import-outside-toplevel,protected-access
    from moto.core.base_backend import BackendDict, backend_lock
    from moto.core.model_instances import reset_model_data
    from moto.moto_api._internal.models import moto_api_backend

    from moto.s3.models import s3_backends

    with timing.LOCK, backend_lock:
        # S3 keeps a process-wide bucket -> account registry outside its backends; a stale entry makes
        # moto's get_bucket recurse forever once the backend that held the bucket is gone.
        s3_backends.bucket_accounts.clear()
        for backends in BackendDict._instances:
            backends.clear()
        BackendDict._instances.clear()
        reset_model_data()
        moto_api_backend.__init__(moto_api_backend.region_name, moto_api_backend.account_id)
        timing.reset()
        throttle.reset()
        from . import events_ext  # pylint: disable=import-outside-toplevel

        events_ext.reset()


class StandinApp:
    """WSGI middleware around moto: control API, time-replay finalisers, throttling."""

    def __init__(self):
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app  # pylint: disable=import-outside-toplevel

        install()
        self.moto = DomainDispatcherApplication(create_backend_app)

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_standin/") or path == "/moto-api/reset":  # moto's reset must clear our state too
            return self.control(environ, start_response)
        if environ.get("HTTP_X_AMZ_TARGET", "").startswith("AWSPriceListService."):  # a service moto does not have
            from . import pricing_ext  # pylint: disable=import-outside-toplevel

            return pricing_ext.handle(environ, start_response)
        timing.run_due()
        if not path.startswith("/moto-api"):
            error = throttle.maybe_throttle(environ)
            if error is not None:
                self._drain(environ)
                status, headers, body = error
                start_response(f"{status} Throttled", headers + [("Content-Length", str(len(body)))])
                return [body]
        return self.moto(environ, start_response)

    @staticmethod
    def _drain(environ):
        # Read the unused request body so the client never sees a reset connection.
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if length:
            environ["wsgi.input"].read(length)

    def control(self, environ, start_response):
        method, path = environ["REQUEST_METHOD"], environ["PATH_INFO"].rstrip("/")
        status, result = 200, None
        try:
            if path == "/_standin/config" and method == "POST":
                length = int(environ.get("CONTENT_LENGTH") or 0)
                body = json.loads(environ["wsgi.input"].read(length) or b"{}") if length else {}
                result = config.update(body)
            elif path == "/_standin/eks/tokenreview" and method == "POST":
                from . import eks_auth_ext  # pylint: disable=import-outside-toplevel

                length = int(environ.get("CONTENT_LENGTH") or 0)
                result = eks_auth_ext.handle(json.loads(environ["wsgi.input"].read(length) or b"{}") if length else {})
            elif path == "/_standin/events/emit" and method == "POST":
                length = int(environ.get("CONTENT_LENGTH") or 0)
                result = emit_event(**(json.loads(environ["wsgi.input"].read(length) or b"{}") if length else {}))
            elif path == "/_standin/config":
                result = config.snapshot()
            elif path == "/_standin/timeline":
                timing.run_due()
                result = timing.timeline()
            elif path == "/_standin/stats":
                result = throttle.stats()
            elif path in ("/_standin/reset", "/moto-api/reset") and method == "POST":
                reset()
                result = {"status": "ok"}
            elif path == "/_standin/health":
                result = {"status": "ok", "pid": os.getpid()}
            else:
                status, result = 404, {"error": f"no such control endpoint {method} {path}"}
        except (ValueError, TypeError) as exc:
            status, result = 400, {"error": str(exc)}
        body = json.dumps(result).encode()
        start_response(f"{status} {'OK' if status == 200 else 'Error'}",
                       [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]


def make_standin_server(host, port, quiet=False):
    """A threaded werkzeug server (moto's request handler) running StandinApp."""
    # pylint: disable=import-outside-toplevel
    from moto.moto_server.werkzeug_app import MotoRequestHandler
    from werkzeug.serving import make_server

    class QuietHandler(MotoRequestHandler):
        def log_request(self, *args, **kwargs):  # pylint: disable=arguments-differ
            pass  # in-process use: no access log on the test's stderr

    return make_server(host, port, StandinApp(), threaded=True, request_handler=QuietHandler if quiet else MotoRequestHandler)


class StandIn:
    """In-process stand-in on a background thread. moto's state is per process, so use one at a time."""

    def __init__(self, port=0, time_scale=0.0, throttle_rate=0.0, region="us-west-2", throttle_seed=None):
        self.port, self.region = port, region
        self._settings = {"time_scale": time_scale, "throttle_rate": throttle_rate, "throttle_seed": throttle_seed}
        self._server = self._thread = None

    @property
    def endpoint_url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        config.update(self._settings)
        self._server = make_standin_server("127.0.0.1", self.port, quiet=True)
        self.port = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, name="aws-standin", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join()
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def env(self):
        """Environment for boto3 / Ansible / the AWS CLI in this or a child process."""
        return env_vars(self.endpoint_url, self.region)

    @staticmethod
    def reset():
        reset()

    @staticmethod
    def configure(time_scale=None, throttle_rate=None, quotas=None, cluster_endpoint=None, cluster_ca=None, throttle_seed=None,
                  kube_admin_kubeconfig=None, cluster_oidc_issuer=None, cluster_oidc_jwks=None, prices=None, capacity_reservations=None,
                  node_registration_delay=None):
        """Change settings; None leaves a setting alone, "" ({} for the JWKS) clears the cluster_* / kube_* ones."""
        given = {"time_scale": time_scale, "throttle_rate": throttle_rate, "quotas": quotas, "prices": prices,
                 "capacity_reservations": capacity_reservations,
                 "cluster_endpoint": cluster_endpoint, "cluster_ca": cluster_ca, "throttle_seed": throttle_seed,
                 "kube_admin_kubeconfig": kube_admin_kubeconfig, "cluster_oidc_issuer": cluster_oidc_issuer,
                 "cluster_oidc_jwks": cluster_oidc_jwks, "node_registration_delay": node_registration_delay}
        return config.update({key: value for key, value in given.items() if value is not None})

    @staticmethod
    def timeline():
        timing.run_due()
        return timing.timeline()

    @staticmethod
    def stats():
        return throttle.stats()

    def emit_event(self, source, detail_type, detail, resources=()):
        """An AWS service puts an event on the default bus (what EC2 does for a spot interruption warning)."""
        return emit_event(source, detail_type, detail, region=self.region, resources=resources)


def emit_event(source, detail_type=None, detail=None, region="us-west-2", resources=(), account=None, **other):
    """An AWS service (source aws.*) puts an event on the default bus of `account` in `region`: PutEvents' entry."""
    # pylint: disable=import-outside-toplevel
    from moto.core import DEFAULT_ACCOUNT_ID

    from . import events_ext

    detail_type = other.pop("detail-type", detail_type)
    if other or not detail_type or not str(source).startswith("aws."):
        raise ValueError("emit needs source (aws.*), detail-type and detail; unknown keys: %s" % sorted(other))
    return events_ext.emit(account or DEFAULT_ACCOUNT_ID, region, source, detail_type, detail or {}, resources)


def env_vars(endpoint, region):
    return {"AWS_ENDPOINT_URL": endpoint, "EKS_LLM_AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": region, "AWS_REGION": region}


# ---- CLI -------------------------------------------------------------------
def _paths(state_dir):
    state_dir = os.path.abspath(state_dir)
    return {name: os.path.join(state_dir, name) for name in ("server.pid", "server.port", "server.log", "env.sh")}


def _read(path):
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read().strip()
    except OSError:
        return None


def process_alive(pid):
    try:
        os.kill(pid, 0)
    except (OSError, TypeError):
        return False
    try:  # an exited child of ours: reap it
        if os.waitpid(pid, os.WNOHANG) != (0, 0):
            return False
    except ChildProcessError:
        pass
    # An exited process nobody reaped yet (containers without an init) is not running either.
    stat = _read(f"/proc/{pid}/stat")
    return not (stat and stat.rsplit(")", 1)[-1].split()[0] in ("Z", "X"))


def terminate(pid, grace=10):
    """SIGTERM the process, SIGKILL it if it is still there after `grace` seconds."""
    os.kill(pid, signal.SIGTERM)
    deadline = time.time() + grace
    while process_alive(pid) and time.time() < deadline:
        time.sleep(0.05)
    if process_alive(pid):
        os.kill(pid, signal.SIGKILL)


def _answers(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_standin/health", timeout=2) as response:
            return json.load(response).get("status") == "ok"
    except (OSError, ValueError):
        return False


def _running(paths):
    """(pid, port) of a live server for this state dir, else None."""
    pid, port = _read(paths["server.pid"]), _read(paths["server.port"])
    if pid and pid.isdigit() and process_alive(int(pid)):
        return int(pid), (int(port) if port and port.isdigit() else None)
    return None


def cmd_start(args):
    paths = _paths(args.state_dir)
    os.makedirs(os.path.dirname(paths["env.sh"]), exist_ok=True)
    running = _running(paths)
    if running and running[1] and _answers(running[1]):
        print(f"AWS stand-in already running (pid {running[0]}) on http://127.0.0.1:{running[1]}")
        return 0
    if running:  # alive but not answering: replace it
        cmd_stop(args)
    for name in ("server.port", "server.pid"):
        if os.path.exists(paths[name]):
            os.remove(paths[name])
    command = [sys.executable, "-m", "tests.standin.aws_server", "serve", "--state-dir", args.state_dir,
               "--port", str(args.port), "--time-scale", str(args.time_scale), "--throttle-rate", str(args.throttle_rate),
               "--region", args.region] + (["--throttle-seed", str(args.throttle_seed)] if args.throttle_seed is not None else [])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([REPO] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
    with open(paths["server.log"], "ab") as log:
        process = subprocess.Popen(command, cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                   start_new_session=True)  # survives the caller's session / Ctrl-C
    with open(paths["server.pid"], "w", encoding="utf-8") as handle:
        handle.write(f"{process.pid}\n")
    deadline = time.time() + 60
    while time.time() < deadline:
        if process.poll() is not None:
            print(f"AWS stand-in exited with {process.returncode}; see {paths['server.log']}", file=sys.stderr)
            os.remove(paths["server.pid"])
            return 1
        port = _read(paths["server.port"])
        if port and port.isdigit() and _answers(int(port)):
            endpoint = f"http://127.0.0.1:{port}"
            with open(paths["env.sh"], "w", encoding="utf-8") as handle:
                handle.writelines(f"export {key}={value}\n" for key, value in env_vars(endpoint, args.region).items())
            print(f"AWS stand-in running (pid {process.pid}) on {endpoint}; source {paths['env.sh']}")
            return 0
        time.sleep(0.1)
    print(f"AWS stand-in did not answer within 60 s; see {paths['server.log']}", file=sys.stderr)
    return 1


def cmd_stop(args):
    paths = _paths(args.state_dir)
    running = _running(paths)
    if running:
        pid = running[0]
        terminate(pid)
        print(f"AWS stand-in (pid {pid}) stopped")
    else:
        print("AWS stand-in not running")
    for name in ("server.pid", "server.port"):
        if os.path.exists(paths[name]):
            os.remove(paths[name])
    return 0


def cmd_status(args):
    paths = _paths(args.state_dir)
    running = _running(paths)
    if running and running[1] and _answers(running[1]):
        print(f"running (pid {running[0]}) on http://127.0.0.1:{running[1]}")
        return 0
    print("not running")
    return 3


def cmd_serve(args):
    config.update({"time_scale": args.time_scale, "throttle_rate": args.throttle_rate, "throttle_seed": args.throttle_seed})
    server = make_standin_server("127.0.0.1", args.port)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    if args.state_dir:
        paths = _paths(args.state_dir)
        with open(paths["server.port"] + ".tmp", "w", encoding="utf-8") as handle:
            handle.write(f"{server.server_port}\n")
        os.replace(paths["server.port"] + ".tmp", paths["server.port"])
    print(f"AWS stand-in serving on http://127.0.0.1:{server.server_port}", flush=True)
    server.serve_forever(poll_interval=0.1)
    server.server_close()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # skip ~1 s of interpreter teardown of moto's modules; there is nothing left to save


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tests.standin.aws_server", description=__doc__.split("\n", 1)[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("start", "stop", "status", "serve"):
        sub = commands.add_parser(name)
        sub.add_argument("--state-dir", required=name != "serve")
        if name in ("start", "serve"):
            sub.add_argument("--port", type=int, default=DEFAULT_PORT, help="0 = any free port")
            sub.add_argument("--time-scale", type=float, default=0.0)
            sub.add_argument("--throttle-rate", type=float, default=0.0)
            sub.add_argument("--throttle-seed", type=int, default=None)
            sub.add_argument("--region", default="us-west-2")
    args = parser.parse_args(argv)
    return {"start": cmd_start, "stop": cmd_stop, "status": cmd_status, "serve": cmd_serve}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
