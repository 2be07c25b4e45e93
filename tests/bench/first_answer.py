"""Modeled empty account -> first answer, per compute mode (a measurement, not a test).

For each compute mode, starts stand-ins of its own (tests.standin.local, in .cache/bench-first-answer) with the AWS
stand-in's slow operations and the local cluster's GPU cold starts and node boots on the same time scale, runs site.yml
on that mode's local inventory (inventories/local, inventories/local-auto-mode; benchmark skipped) from an empty account
to the verify probe's first answers, and replays the run on a virtual clock (tests/bench/aws_layer.py): a task blocked
on a replayed operation ends when the operation would end on AWS. The operations are the AWS stand-in's timeline (EKS
cluster ~10 min, node group ~4 min, add-ons, NAT, EFS), every node Karpenter launched (its NodeClaim created -> node
Ready, lasting the real node boot: in EKS Auto Mode the platform's own pods wait for one) and each model's cold start,
read from the verify report's time to serving: its pod created -> engine ready, lasting on AWS the real node boot (when
a node was launched for it), image pull and engine load of tests/standin/k8s/cold_start.py plus what the run spent
around them. The first answer and everything else count at their measured wall time.

Run: make bench   (or .venv/bin/python tests/bench/first_answer.py [--time-scale 0.05] [--compute-mode both])
"""
import argparse
import datetime
import glob
import json
import os
import re
import subprocess
import sys
import time
import urllib.request


REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, REPO)

from tests.bench import aws_layer  # noqa: E402  pylint: disable=wrong-import-position
from tests.standin import local  # noqa: E402  pylint: disable=wrong-import-position
from tests.standin.k8s import cluster, cold_start  # noqa: E402  pylint: disable=wrong-import-position

STATE_DIR = os.path.join(REPO, ".cache", "bench-first-answer")
PLAY_RE = re.compile(r"^PLAY \[(?P<name>[^\]]*)\]", re.M)


def plays_of(output):
    """The play of every task of tasks_of's list, in the same order (play names cut at ' - ')."""
    plays = [(m.start(), m.group("name").split(" - ")[0]) for m in PLAY_RE.finditer(output)]
    names = []
    for task in aws_layer.STAMP_RE.finditer(output):
        names.append([name for position, name in plays if position < task.start()][-1])
    return names


def epoch(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def cold_start_operations(serving, scale):
    """One replayed operation a model: its serving pod created -> engine ready. On AWS it lasts the real node boot (if a
    node was launched for it), pull and load, plus the wall time the run spent beyond their scaled waits."""
    took = cold_start.durations(scale)
    boot_wall = cold_start.registration_seconds(scale)
    operations = []
    for entry in serving:
        phases = dict((p["phase"], p) for p in entry["phases"])
        if entry["total_s"] is None or not phases["engine_ready"]["at"]:
            sys.exit("model %s has no time to serving: %s" % (entry["model"], entry["problem"]))
        started, ready = epoch(entry["started"]), epoch(phases["engine_ready"]["at"])
        new_node = phases["node_ready"]["seconds"] is not None
        waited = took["image_pull"] + took["engine_load"] + (boot_wall if new_node else 0.0)
        real = cold_start.REAL_SECONDS["image_pull"] + cold_start.REAL_SECONDS["engine_load"] + (
            cold_start.REAL_SECONDS["node_boot"] if new_node else 0)
        operations.append({"service": "kubernetes", "operation": "ColdStart", "resource": entry["model"], "start": started,
                           "end": ready, "real_seconds": real + max(ready - started - waited, 0.0)})
    return operations


def _get_json(url):
    with urllib.request.urlopen(url, timeout=30) as answer:
        return json.load(answer)


def node_boot_operations(kubeconfig, scale):
    """One replayed operation a node Karpenter launched: its NodeClaim created -> registered, the real node boot on AWS
    plus what the run spent beyond the scaled boot."""
    proc = subprocess.run([os.path.join(REPO, ".venv", "bin", "kubectl"), "--kubeconfig", kubeconfig, "get", "nodeclaims.karpenter.sh",
                           "-o", "json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, check=True)
    operations = []
    for claim in json.loads(proc.stdout)["items"]:
        registered = [c["lastTransitionTime"] for c in (claim.get("status") or {}).get("conditions") or []
                      if c["type"] == "Registered" and c["status"] == "True"]
        if not registered:
            continue
        started, ended = epoch(claim["metadata"]["creationTimestamp"]), epoch(registered[0])
        operations.append({"service": "kubernetes", "operation": "NodeBoot", "resource": claim["metadata"]["name"], "start": started,
                           "end": ended, "real_seconds": cold_start.REAL_SECONDS["node_boot"] + max(
                               ended - started - cold_start.registration_seconds(scale), 0.0)})
    return operations


def measure(compute_mode, time_scale):
    """site.yml in one compute mode from an empty account on fresh stand-ins: (run, tasks, plays, operations, serving)."""
    os.environ[cold_start.SCALE_VARIABLE] = str(time_scale)  # read by the cluster start below
    if local.main(["start", "--state-dir", STATE_DIR]):
        sys.exit("the local stand-ins did not start")
    log = os.path.join(STATE_DIR, "first-answer-%s.log" % compute_mode)
    try:
        values = local.environment(STATE_DIR)
        endpoint = values["AWS_ENDPOINT_URL"]
        cluster.configure_aws(endpoint, {"time_scale": time_scale})
        reports = os.path.join(STATE_DIR, "reports-" + compute_mode)
        inventory, dummy = local.inventory_copy(
            aws_layer.INVENTORIES[compute_mode], os.path.join(STATE_DIR, "inventory-" + compute_mode),
            lambda data: {"eks_llm_benchmark": {"enabled": False}, "eks_llm_verify": dict(data["eks_llm_verify"], results_dir=reports)})
        env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"), PROFILE_TASKS_TASK_OUTPUT_LIMIT="all", **values)
        started = time.time()
        proc = subprocess.run([os.path.join(REPO, ".venv", "bin", "ansible-playbook"), "site.yml", "-i", inventory], cwd=REPO, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False)
        ended = time.time()
        with open(log, "w", encoding="utf-8") as handle:
            handle.write(proc.stdout)
        if proc.returncode:
            sys.exit("site.yml (%s) failed (log: %s):\n%s" % (compute_mode, log, proc.stdout[-4000:]))
        operations = _get_json(endpoint.rstrip("/") + "/_standin/timeline")
        with open(os.path.join(STATE_DIR, "k8s", "state.json"), encoding="utf-8") as handle:
            operations += node_boot_operations(json.load(handle)["kubeconfig"], time_scale)
        report = sorted(glob.glob(os.path.join(reports, "verify", "*", "verify-report.json")))[-1]
        with open(report, encoding="utf-8") as handle:
            serving = json.load(handle)["time_to_serving"]
    finally:  # the stand-ins and everything deployed on them go together
        local.main(["stop", "--state-dir", STATE_DIR])
    return (started, ended), aws_layer.tasks_of(proc.stdout, ended), plays_of(proc.stdout), operations, serving


def report(compute_mode, time_scale):
    """Measure one compute mode and print its modeled empty account -> first answer; returns the modeled seconds."""
    (started, ended), tasks, plays, operations, serving = measure(compute_mode, time_scale)
    ends = aws_layer.virtual_ends(operations + cold_start_operations(serving, time_scale), tasks)
    total = ends[-1]
    layers = []
    for index, play in enumerate(plays):
        if not layers or layers[-1][0] != play:
            layers.append([play, 0.0])
        layers[-1][1] += ends[index] - (ends[index - 1] if index else 0.0)
    print("%s: site.yml on the stand-ins %.0f s wall at time scale %s, %d tasks, %d nodes launched" % (
        compute_mode, ended - started, time_scale, len(tasks), len([op for op in operations if op["operation"] == "NodeBoot"])))
    for entry in serving:
        print("  %s: time to serving here %s s (%s)" % (entry["model"], entry["total_s"], ", ".join(
            "%s %s" % (p["label"], p["seconds"] if p["seconds"] is not None else p["note"]) for p in entry["phases"])))
    print("  modeled empty account -> first answer, by play:")
    for play, seconds in layers:
        print("    %-16s %6.0f s" % (play, seconds))
    print("  %s: %6.0f s (%.1f min)" % (compute_mode, total, total / 60))
    return total


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-scale", type=float, default=0.05, help="stand-in seconds per real second (AWS and cold starts)")
    parser.add_argument("--compute-mode", choices=["karpenter", "auto_mode", "both"], default="both")
    args = parser.parse_args()
    print("cold start on AWS assumed (tests/standin/k8s/cold_start.py): node boot %(node_boot)d s, image pull %(image_pull)d s,"
          " engine load %(engine_load)d s" % cold_start.REAL_SECONDS)
    modes = ["karpenter", "auto_mode"] if args.compute_mode == "both" else [args.compute_mode]
    totals = dict((mode, report(mode, args.time_scale)) for mode in modes)
    if "auto_mode" in totals:
        target = aws_layer.AUTO_MODE_FIRST_ANSWER_TARGET_S
        floor = 600 + 60 + sum(cold_start.REAL_SECONDS.values())
        print("auto_mode target %d s (%d min): %s (the assumed real durations alone - EKS cluster 600 s, add-ons 60 s, node boot,"
              " image pull, engine load - make %d s)" % (target, target // 60, "met" if totals["auto_mode"] <= target else
                                                         "missed by %.0f s" % (totals["auto_mode"] - target), floor))
    if len(totals) == 2:
        print("karpenter -> auto_mode: %+.0f s" % (totals["auto_mode"] - totals["karpenter"]))


if __name__ == "__main__":
    main()
