"""Benchmark of the AWS layer against the local stand-in (a measurement, not a test).

Prints: first-run and no-op re-run wall time, task counts, and the modeled real-AWS duration of the
layer from the stand-in's scaled replay of slow operations (EKS cluster ~10 min, node group ~4 min,
NAT ~1.5 min, ...), compared with its longest single chain (cluster -> node group / add-ons).

Modeled duration: the first run's tasks are replayed on a virtual clock. A task costs its measured
wall time, except a task during which replayed operations finished and that took clearly longer than
the others (it was blocked waiting for them): it ends when the slowest of those operations would end
in real AWS (started at the same point of the virtual clock, lasting its real duration). Work that
overlaps a slow operation therefore costs nothing extra, as on AWS.

Run: make bench   (or .venv/bin/python tests/bench/aws_layer.py --time-scale 0.05)
"""
import argparse
import os
import re
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, REPO)

from tests.standin.aws_server import StandIn  # noqa: E402  pylint: disable=wrong-import-position

CHAIN_OPERATIONS = ("CreateCluster", "CreateNodegroup")


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


def run(playbook, env):
    started = time.time()
    proc = subprocess.run([os.path.join(REPO, ".venv", "bin", "ansible-playbook"), playbook, "-i", "inventories/local"], cwd=REPO, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    ended = time.time()
    if proc.returncode:
        sys.exit("%s failed:\n%s" % (playbook, proc.stdout[-4000:]))
    recap = re.findall(r"ok=(\d+)\s+changed=(\d+)", proc.stdout)[-1]
    return started, ended, len(re.findall(r"^TASK \[", proc.stdout, re.M)), int(recap[1]), tasks_of(proc.stdout, ended)


def modeled_seconds(timeline, tasks):
    """Virtual-clock replay of the run with real AWS durations (see the module docstring)."""
    durations = sorted(end - start for dummy, start, end in tasks)
    typical = durations[len(durations) // 2] if durations else 0.0
    virtual_end = {}
    clock = 0.0
    for dummy, start, end in tasks:
        for op in timeline:
            if start <= op["start"] < end:
                virtual_end[id(op)] = clock + (op["start"] - start) + op["real_seconds"]
        finished = [virtual_end[id(op)] for op in timeline if start <= op["end"] < end and id(op) in virtual_end]
        if finished and end - start > 2 * typical:
            clock = max(clock + typical, *finished)
        else:
            clock += end - start
    return clock


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-scale", type=float, default=0.05, help="stand-in seconds per real AWS second")
    args = parser.parse_args()
    with StandIn(time_scale=args.time_scale) as standin:
        env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"), **standin.env())
        first = run("playbooks/aws.yml", env)
        timeline = standin.timeline()
        second = run("playbooks/aws.yml", env)
        run("playbooks/teardown_aws.yml", env)
    seconds = {op["operation"]: op["real_seconds"] for op in timeline}
    chain = sum(seconds.get(name, 0) for name in CHAIN_OPERATIONS) + max(
        [op["real_seconds"] for op in timeline if op["operation"] == "CreateAddon"] or [0])
    modeled = modeled_seconds(timeline, first[4])
    print("first run:   %6.1f s wall, %d tasks, %d changed" % (first[1] - first[0], first[2], first[3]))
    print("no-op rerun: %6.1f s wall, %d tasks, %d changed (target < 60 s)" % (second[1] - second[0], second[2], second[3]))
    print("replayed AWS operations: %d (time scale %s)" % (len(timeline), args.time_scale))
    print("modeled AWS-layer duration: %6.0f s real AWS; longest chain (cluster + node group + add-ons): %d s; ratio %.2f (target <= 1.15)"
          % (modeled, chain, modeled / chain if chain else float("nan")))


if __name__ == "__main__":
    main()
