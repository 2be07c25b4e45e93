"""The local stand-ins of one checkout, started and stopped together (`make local-up` / `make local-down`).

    python -m tests.standin.local start  --state-dir .cache/local
    python -m tests.standin.local stop   --state-dir .cache/local
    python -m tests.standin.local status --state-dir .cache/local

`start` runs the AWS stand-in, the local Kubernetes (tests/standin/k8s) and the LLM endpoint stand-in, every one
on ports picked free at start, so that several checkouts on one machine never meet. Then it writes two files:

- DIR/local.env: what the playbooks read (AWS endpoint and test credentials, chart directories, the LLM
  stand-in's URLs, and EKS_LLM_KUBE_DIR so that the collection's kubeconfig lives in this checkout);
- DIR/shell.sh: the same plus KUBECONFIG (the local cluster's admin) and PATH (this checkout's .venv/bin with
  helm and kubectl), for a person's shell: `source .cache/local/shell.sh`.

`stop` stops all three and checks that none of their processes is left.
"""
import argparse
import glob
import os
import shlex
import shutil
import sys

import yaml

from . import aws_server, llm_server
from .aws_server import REPO, process_alive
from .llm_server import _read_json  # pylint: disable=protected-access
from .k8s import cluster, cold_start

LLM_CONFIG = os.path.join(REPO, "tests", "standin", "llm_local.json")


def _paths(state_dir):
    state_dir = os.path.abspath(state_dir)
    return {"dir": state_dir, "local.env": os.path.join(state_dir, "local.env"), "shell.sh": os.path.join(state_dir, "shell.sh"),
            "aws.env": os.path.join(state_dir, "env.sh"), "k8s.state": os.path.join(state_dir, "k8s", "state.json"),
            "llm": os.path.join(state_dir, "llm_endpoints.json")}


def _exports(values):
    return "".join("export %s=%s\n" % (key, shlex.quote(str(value))) for key, value in values.items())


def read_env(path):
    """The variables of an env file written here (`export KEY=value` lines; comments skipped, quoting undone)."""
    values = {}
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            line = line.strip()
            if line.startswith("export "):
                key, dummy, value = line[len("export "):].partition("=")
                values[key] = shlex.split(value)[0] if value else ""
    return values


def environment(state_dir):
    """The variables the playbooks need, read from the running stand-ins' state files."""
    paths = _paths(state_dir)
    values = read_env(paths["aws.env"])
    llm = _read_json(paths["llm"])["endpoints"]["triton"]
    values.update({
        "EKS_LLM_UPSTREAM_CHARTS": cluster.upstream_charts(),
        "EKS_LLM_STANDIN_CHARTS": os.path.join(REPO, "tests", "standin", "charts"),
        # the collection's kubeconfig for this checkout's cluster, not one shared by every checkout in ~/.kube
        "EKS_LLM_KUBE_DIR": os.path.join(paths["dir"], "kube"),
        # and the files the collection renders on the controller (Triton's model repository before its sync)
        "EKS_LLM_WORK_DIR": os.path.join(paths["dir"], "work"),
        "EKS_LLM_LOCAL_LLM_URL": llm["base_url"],
        "EKS_LLM_LOCAL_LLM_METRICS_URL": llm["metrics_url"],
        # the simulated GPU instance boot (KWOKNodeClass nodeRegistrationDelay), scaled as the cluster's cold starts
        cold_start.REGISTRATION_DELAY_VARIABLE: (_read_json(paths["k8s.state"]).get("cold_start") or {}).get("node_registration_delay", ""),
    })
    return values


def inventory_folders():
    """The group_vars/all folder of every inventory of the repository (the local ones and the examples), sorted."""
    return sorted(glob.glob(os.path.join(REPO, "inventories", "*", "group_vars", "all"))
                  + glob.glob(os.path.join(REPO, "inventories", "examples", "*", "group_vars", "all")))


def inventory_variables(folder):
    """An inventory's group_vars/all (``folder``) read as Ansible reads it: every .yml file in name order, the later
    file's top-level keys winning."""
    data = {}
    for name in sorted(os.listdir(folder)):
        if name.endswith(".yml"):
            with open(os.path.join(folder, name), encoding="utf-8") as handle:
                data.update(yaml.safe_load(handle) or {})
    return data


def inventory_copy(source, target, overrides):
    """A copy of one of the local inventories (inventories/local, inventories/local-auto-mode; symbolic links followed)
    whose variables (inventory_variables) are written back as one main.yml with some replaced: ``overrides`` is a
    dict, or a function of the variables returning one (a value None removes the key). Returns (target, variables)."""
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source if os.path.isabs(source) else os.path.join(REPO, source), target)
    folder = os.path.join(target, "group_vars", "all")
    data = inventory_variables(folder)
    for name in os.listdir(folder):
        if name.endswith(".yml"):
            os.remove(os.path.join(folder, name))
    for key, value in (overrides(data) if callable(overrides) else overrides).items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    with open(os.path.join(folder, "main.yml"), "w", encoding="utf-8") as handle:
        yaml.safe_dump(data, handle, sort_keys=False)
    return target, data


def write_env_files(state_dir):
    paths = _paths(state_dir)
    values = environment(state_dir)
    kube = _read_json(paths["k8s.state"])
    with open(paths["local.env"], "w", encoding="utf-8") as handle:
        handle.write("# Written by `make local-up` for this checkout's stand-ins; read by `make deploy` / `make teardown`.\n")
        handle.write(_exports(values))
    with open(paths["shell.sh"], "w", encoding="utf-8") as handle:
        handle.write("# source me: the local stand-ins of this checkout, kubectl/helm on the local cluster as its admin.\n")
        handle.write(_exports(values))
        handle.write(_exports({"KUBECONFIG": kube["kubeconfig"]}))
        handle.write('export PATH=%s:"$PATH"\n' % shlex.quote(os.path.dirname(sys.executable)))


def cmd_start(args):
    state_dir = args.state_dir
    steps = (
        lambda: aws_server.main(["start", "--state-dir", state_dir, "--port", "0"]),
        lambda: cluster.main(["start", "--state-dir", state_dir]),
        lambda: llm_server.main(["start", "--config", LLM_CONFIG, "--state-dir", state_dir]),
    )
    for step in steps:
        code = step()
        if code:
            return code
    write_env_files(state_dir)
    paths = _paths(state_dir)
    shell = os.path.relpath(paths["shell.sh"])
    print("\nlocal stand-ins up. In your shell:  source %s\n  (kubectl and helm on the local cluster; AWS calls go to the stand-in)"
          % (paths["shell.sh"] if shell.startswith("..") else shell))
    return 0


def _pids(state_dir):
    """Every process the stand-ins of state_dir started that is still alive: name -> pid."""
    paths = _paths(state_dir)
    found = {}
    for name, path in (("aws", os.path.join(paths["dir"], "server.pid")), ("llm", os.path.join(paths["dir"], "llm_server.pid")),
                       ("karpenter", os.path.join(paths["dir"], "k8s", "karpenter.pid"))):
        try:
            with open(path, encoding="utf-8") as handle:
                pid = int(handle.read().strip())
        except (OSError, ValueError):
            continue
        if process_alive(pid):
            found[name] = pid
    # kwokctl's binary runtime keeps one pid file per component under its workdir
    kwok_dir = os.path.join(paths["dir"], "k8s", "kwok")
    for root, _dirs, files in os.walk(kwok_dir):
        for name in files:
            if name.endswith(".pid"):
                try:
                    with open(os.path.join(root, name), encoding="utf-8") as handle:
                        pid = int(handle.read().strip())
                except (OSError, ValueError):
                    continue
                if process_alive(pid):
                    found[name[:-4]] = pid
    return found


def cmd_stop(args):
    state_dir = args.state_dir
    llm_server.main(["stop", "--state-dir", state_dir])
    cluster.main(["stop", "--state-dir", state_dir])
    aws_server.main(["stop", "--state-dir", state_dir])
    left = _pids(state_dir)
    for name in ("local.env", "shell.sh"):
        path = _paths(state_dir)[name]
        if os.path.exists(path):
            os.remove(path)
    if left:
        print("still running after stop: %s" % ", ".join("%s (pid %d)" % item for item in sorted(left.items())), file=sys.stderr)
        return 1
    print("local stand-ins stopped; no process left")
    return 0


def cmd_status(args):
    codes = [aws_server.main(["status", "--state-dir", args.state_dir]), cluster.main(["status", "--state-dir", args.state_dir]),
             llm_server.main(["status", "--state-dir", args.state_dir])]
    return 0 if not any(codes) else 3


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tests.standin.local", description=__doc__.split("\n", 1)[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("start", "stop", "status"):
        commands.add_parser(name).add_argument("--state-dir", required=True)
    args = parser.parse_args(argv)
    return {"start": cmd_start, "stop": cmd_stop, "status": cmd_status}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
