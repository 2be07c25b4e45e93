"""Modeled empty account -> first answer, per compute mode (a measurement, not a test).

Starts stand-ins of its own (tests.standin.local, in .cache/bench-first-answer) with the AWS stand-in's slow
operations and the local cluster's GPU cold starts on the same time scale, runs site.yml on the local inventory
(benchmark skipped) from an empty account to the verify probe's first answers, and replays the run on a virtual
clock (tests/bench/aws_layer.py): a task blocked on a replayed operation ends when the operation would end on AWS.
The operations are the AWS stand-in's timeline (EKS cluster ~10 min, node group ~4 min, add-ons, NAT, EFS) and each
model's cold start, read from the verify report's time to serving: its pod created -> engine ready, lasting on AWS
the real node boot (when a node was launched for it), image pull and engine load of tests/standin/k8s/cold_start.py
plus what the run spent around them. The first answer and everything else count at their measured wall time.

EKS Auto Mode cannot run the platform and inference layers on the local stand-ins (Karpenter's KWOK provider
ignores Auto Mode's NodeClasses), so its figure is composed: its own AWS layer, measured and replayed the same way
(no node group on the chain), plus this run's platform -> first answer part, plus one node boot (Auto Mode has no
node group: the platform's pods wait for a node it launches). The platform tasks Auto Mode skips (Karpenter chart,
device plugin) stay counted: an upper bound.

Run: make bench   (or .venv/bin/python tests/bench/first_answer.py [--time-scale 0.05] [--compute-mode both])
"""
import argparse
import datetime
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, REPO)

from tests.bench import aws_layer  # noqa: E402  pylint: disable=wrong-import-position
from tests.standin import local  # noqa: E402  pylint: disable=wrong-import-position
from tests.standin.k8s import cluster, cold_start  # noqa: E402  pylint: disable=wrong-import-position

STATE_DIR = os.path.join(REPO, ".cache", "bench-first-answer")
PLAY_RE = re.compile(r"^PLAY \[(?P<name>[^\]]*)\]", re.M)
FIRST_LAYER_AFTER_AWS = "Platform layer"


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


def bench_inventory(directory):
    """The local inventory with the benchmark switched off and the verify reports kept apart."""
    target = os.path.join(directory, "inventory")
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(os.path.join(REPO, aws_layer.LOCAL_INVENTORY), target)
    path = os.path.join(target, "group_vars", "all", "main.yml")
    with open(path, encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    data["eks_llm_benchmark"] = {"enabled": False}
    data["eks_llm_verify"] = dict(data["eks_llm_verify"], results_dir=os.path.join(directory, "reports"))
    with open(path, "w", encoding="utf-8") as handle:
        yaml.safe_dump(data, handle, sort_keys=False)
    return target, os.path.join(directory, "reports")


def measure_karpenter_mode(time_scale):
    """site.yml from an empty account on fresh stand-ins: (run, tasks, plays, timeline, serving)."""
    os.environ[cold_start.SCALE_VARIABLE] = str(time_scale)  # read by the cluster start below
    if local.main(["start", "--state-dir", STATE_DIR]):
        sys.exit("the local stand-ins did not start")
    try:
        values = local.environment(STATE_DIR)
        endpoint = values["AWS_ENDPOINT_URL"]
        cluster.configure_aws(endpoint, {"time_scale": time_scale})
        inventory, reports = bench_inventory(STATE_DIR)
        env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"), PROFILE_TASKS_TASK_OUTPUT_LIMIT="all", **values)
        started = time.time()
        proc = subprocess.run([os.path.join(REPO, ".venv", "bin", "ansible-playbook"), "site.yml", "-i", inventory], cwd=REPO, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False)
        ended = time.time()
        with open(os.path.join(STATE_DIR, "first-answer.log"), "w", encoding="utf-8") as handle:
            handle.write(proc.stdout)
        if proc.returncode:
            sys.exit("site.yml failed (log: %s):\n%s" % (os.path.join(STATE_DIR, "first-answer.log"), proc.stdout[-4000:]))
        timeline = _get_json(endpoint.rstrip("/") + "/_standin/timeline")
        report = sorted(glob.glob(os.path.join(reports, "verify", "*", "verify-report.json")))[-1]
        with open(report, encoding="utf-8") as handle:
            serving = json.load(handle)["time_to_serving"]
    finally:  # the stand-ins and everything deployed on them go together
        local.main(["stop", "--state-dir", STATE_DIR])
    return (started, ended), aws_layer.tasks_of(proc.stdout, ended), plays_of(proc.stdout), timeline, serving


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-scale", type=float, default=0.05, help="stand-in seconds per real second (AWS and cold starts)")
    parser.add_argument("--compute-mode", choices=["karpenter", "auto_mode", "both"], default="both")
    args = parser.parse_args()
    (started, ended), tasks, plays, timeline, serving = measure_karpenter_mode(args.time_scale)
    operations = timeline + cold_start_operations(serving, args.time_scale)
    ends = aws_layer.virtual_ends(operations, tasks)
    total = ends[-1]
    after_aws = total - ends[plays.index(FIRST_LAYER_AFTER_AWS) - 1]
    layers = []
    for index, play in enumerate(plays):
        if not layers or layers[-1][0] != play:
            layers.append([play, 0.0])
        layers[-1][1] += ends[index] - (ends[index - 1] if index else 0.0)
    print("site.yml on the stand-ins: %.0f s wall at time scale %s, %d tasks" % (ended - started, args.time_scale, len(tasks)))
    print("cold start on AWS assumed (tests/standin/k8s/cold_start.py): node boot %(node_boot)d s, image pull %(image_pull)d s,"
          " engine load %(engine_load)d s" % cold_start.REAL_SECONDS)
    for entry in serving:
        print("  %s: time to serving here %s s (%s)" % (entry["model"], entry["total_s"], ", ".join(
            "%s %s" % (p["label"], p["seconds"] if p["seconds"] is not None else p["note"]) for p in entry["phases"])))
    print("modeled empty account -> first answer, by play:")
    for play, seconds in layers:
        print("  %-16s %6.0f s" % (play, seconds))
    target = aws_layer.AUTO_MODE_FIRST_ANSWER_TARGET_S
    if args.compute_mode in ("karpenter", "both"):
        print("karpenter mode: %6.0f s (%.1f min)" % (total, total / 60))
    if args.compute_mode in ("auto_mode", "both"):
        auto_aws = aws_layer.report_auto_mode(args.time_scale)
        auto_total = auto_aws + after_aws + cold_start.REAL_SECONDS["node_boot"]
        print("auto_mode:      %6.0f s (%.1f min) = AWS layer %.0f s + platform -> first answer %.0f s + a node boot for the"
              " platform's pods %d s; target %d s (%d min): %s" % (
                  auto_total, auto_total / 60, auto_aws, after_aws, cold_start.REAL_SECONDS["node_boot"], target, target // 60,
                  "met" if auto_total <= target else "missed by %.0f s" % (auto_total - target)))


if __name__ == "__main__":
    main()
