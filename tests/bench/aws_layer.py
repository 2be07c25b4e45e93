"""Benchmark of the AWS layer against the local stand-in (a measurement, not a test).

Prints: first-run and no-op re-run wall time, task counts, and the modeled real-AWS duration of the
layer from the stand-in's scaled replay of slow operations (EKS cluster ~10 min, node group ~4 min,
NAT ~1.5 min, ...), compared with its longest single chain (cluster -> node group / add-ons).

Modeled duration: the first run's tasks are replayed on a virtual clock. A task costs its measured
wall time, except a task during which replayed operations finished and that took clearly longer than
the others (it was blocked waiting for them): it ends when the slowest of those operations would end
in real AWS (started at the same point of the virtual clock, lasting its real duration). Work that
overlaps a slow operation therefore costs nothing extra, as on AWS.

EKS Auto Mode (eks_llm_cluster.compute_mode: auto_mode) is measured the same way on the local inventory in that mode
(inventories/local-auto-mode), and printed beside Karpenter mode: its chain is cluster -> add-ons (no node group).

Run: make bench   (or .venv/bin/python tests/bench/aws_layer.py --time-scale 0.05 --compute-mode both)
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time


REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, REPO)

from tests.standin import local  # noqa: E402  pylint: disable=wrong-import-position
from tests.standin.aws_server import StandIn  # noqa: E402  pylint: disable=wrong-import-position

CHAIN_OPERATIONS = ("CreateCluster", "CreateNodegroup")
LOCAL_INVENTORY = "inventories/local"
# the local inventory of each compute mode (inventories/local-auto-mode: the local one in EKS Auto Mode)
INVENTORIES = {"karpenter": LOCAL_INVENTORY, "auto_mode": "inventories/local-auto-mode"}
# verify and benchmark read the LLM stand-in's URLs (make local-up); the AWS layer needs neither
AWS_LAYER_ONLY = {"eks_llm_verify": {"enabled": False}, "eks_llm_benchmark": {"enabled": False}}
# the budget of the whole empty-account -> first-answer path in Auto Mode (issue 14), of which this layer is the floor
AUTO_MODE_FIRST_ANSWER_TARGET_S = 12 * 60


STAMP_RE = re.compile(r"^TASK \[(?P<name>.*)\][^\n]*\n[^\n]*\s(?P<elapsed>\d+:\d\d:\d\d\.\d+) \*+ *$", re.M)


def seconds_of(stamp):
    hours, minutes, secs = stamp.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(secs)


def tasks_of(output, ended):
    """[(name, wall_start, wall_end)] from profile_tasks' timestamps (elapsed since the first task)."""
    marks = [(m.group("name"), seconds_of(m.group("elapsed"))) for m in STAMP_RE.finditer(output)]
    total = max(seconds_of(t) for t in re.findall(r"(\d+:\d\d:\d\d\.\d+) \*+", output))
    origin = ended - total
    bounds = [e for dummy, e in marks[1:]] + [total]
    return [(name, origin + start, origin + end) for (name, start), end in zip(marks, bounds)]


def run(playbook, env, inventory=LOCAL_INVENTORY):
    started = time.time()
    proc = subprocess.run([os.path.join(REPO, ".venv", "bin", "ansible-playbook"), playbook, "-i", inventory], cwd=REPO, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    ended = time.time()
    if proc.returncode:
        sys.exit("%s failed:\n%s" % (playbook, proc.stdout[-4000:]))
    recap = re.findall(r"ok=(\d+)\s+changed=(\d+)", proc.stdout)[-1]
    return started, ended, len(re.findall(r"^TASK \[", proc.stdout, re.M)), int(recap[1]), tasks_of(proc.stdout, ended)


def virtual_ends(timeline, tasks):
    """Virtual-clock replay of the run with real AWS durations (see the module docstring): each task's end on it."""
    durations = sorted(end - start for dummy, start, end in tasks)
    typical = durations[len(durations) // 2] if durations else 0.0
    virtual_end = {}
    clock, ends = 0.0, []
    for dummy, start, end in tasks:
        for op in timeline:
            if start <= op["start"] < end:
                virtual_end[id(op)] = clock + (op["start"] - start) + op["real_seconds"]
        finished = [virtual_end[id(op)] for op in timeline if start <= op["end"] < end and id(op) in virtual_end]
        if finished and end - start > 2 * typical:
            clock = max(clock + typical, *finished)
        else:
            clock += end - start
        ends.append(clock)
    return ends


def modeled_seconds(timeline, tasks):
    """The run's duration on the virtual clock (virtual_ends)."""
    return (virtual_ends(timeline, tasks) or [0.0])[-1]


def measure_layer(time_scale, inventory=LOCAL_INVENTORY):
    """First run, no-op re-run and teardown of the AWS layer on a fresh stand-in: (first, second, timeline)."""
    with StandIn(time_scale=time_scale) as standin:
        env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"), **standin.env())
        first = run("playbooks/aws.yml", env, inventory)
        timeline = standin.timeline()
        second = run("playbooks/aws.yml", env, inventory)
        run("playbooks/teardown_aws.yml", env, inventory)
    return first, second, timeline


def longest_chain(timeline):
    """cluster + node group (none in Auto Mode) + the slowest add-on, in real AWS seconds."""
    seconds = {op["operation"]: op["real_seconds"] for op in timeline}
    return sum(seconds.get(name, 0) for name in CHAIN_OPERATIONS) + max(
        [op["real_seconds"] for op in timeline if op["operation"] == "CreateAddon"] or [0])


def report_auto_mode(time_scale, karpenter_modeled=None):
    """EKS Auto Mode's AWS layer, measured and modeled as Karpenter mode's, printed beside it."""
    with tempfile.TemporaryDirectory(prefix="bench-auto-mode-") as directory:
        inventory, dummy = local.inventory_copy(INVENTORIES["auto_mode"], os.path.join(directory, "inventory"), AWS_LAYER_ONLY)
        first, second, timeline = measure_layer(time_scale, inventory)
    chain = longest_chain(timeline)
    modeled = modeled_seconds(timeline, first[4])
    print("auto mode first run:   %6.1f s wall, %d tasks, %d changed" % (first[1] - first[0], first[2], first[3]))
    print("auto mode no-op rerun: %6.1f s wall, %d tasks, %d changed" % (second[1] - second[0], second[2], second[3]))
    print("auto mode modeled AWS-layer duration: %6.0f s real AWS; longest chain (cluster + add-ons, no node group): %d s;"
          " ratio %.2f" % (modeled, chain, modeled / chain if chain else float("nan")))
    if karpenter_modeled is not None:
        print("AWS layer, karpenter vs auto_mode: %6.0f s vs %6.0f s (%+.0f s); the layer leaves %.0f s of the %d s"
              " empty-account -> first-answer budget for platform and inference" % (
                  karpenter_modeled, modeled, modeled - karpenter_modeled, AUTO_MODE_FIRST_ANSWER_TARGET_S - modeled,
                  AUTO_MODE_FIRST_ANSWER_TARGET_S))
    return modeled


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-scale", type=float, default=0.05, help="stand-in seconds per real AWS second")
    parser.add_argument("--compute-mode", choices=["karpenter", "auto_mode", "both"], default="both",
                        help="eks_llm_cluster.compute_mode to measure (both: Karpenter mode, then EKS Auto Mode beside it)")
    args = parser.parse_args()
    if args.compute_mode == "auto_mode":
        report_auto_mode(args.time_scale)
        return
    first, second, timeline = measure_layer(args.time_scale)
    chain = longest_chain(timeline)
    modeled = modeled_seconds(timeline, first[4])
    print("first run:   %6.1f s wall, %d tasks, %d changed" % (first[1] - first[0], first[2], first[3]))
    print("no-op rerun: %6.1f s wall, %d tasks, %d changed (target < 60 s)" % (second[1] - second[0], second[2], second[3]))
    print("replayed AWS operations: %d (time scale %s)" % (len(timeline), args.time_scale))
    print("modeled AWS-layer duration: %6.0f s real AWS; longest chain (cluster + node group + add-ons): %d s; ratio %.2f (target <= 1.15)"
          % (modeled, chain, modeled / chain if chain else float("nan")))
    if args.compute_mode == "both":
        report_auto_mode(args.time_scale, modeled)


if __name__ == "__main__":
    main()
