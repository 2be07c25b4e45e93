"""Benchmark of the AWS layer against the local stand-in (a measurement, not a test).

Prints: first-run and no-op re-run wall time, task counts, and the modeled real-AWS duration of the
layer from the stand-in's scaled replay of slow operations (EKS cluster ~10 min, node group ~4 min,
NAT ~1.5 min, ...), compared with its longest single chain (cluster -> node group / add-ons).

Modeled duration: wall time of the first run where at least one replayed AWS operation was in
flight counts as real AWS time (divided by the time scale); the rest (Ansible's own work) counts as is.

Run: make bench   (or .venv/bin/python tests/bench/aws_layer.py --time-scale 0.01)
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


def run(playbook, env):
    started = time.time()
    proc = subprocess.run([os.path.join(REPO, ".venv", "bin", "ansible-playbook"), playbook, "-i", "inventories/local"], cwd=REPO, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    ended = time.time()
    if proc.returncode:
        sys.exit("%s failed:\n%s" % (playbook, proc.stdout[-4000:]))
    recap = re.findall(r"ok=(\d+)\s+changed=(\d+)", proc.stdout)[-1]
    return started, ended, len(re.findall(r"^TASK \[", proc.stdout, re.M)), int(recap[1])


def modeled_seconds(timeline, started, ended, scale):
    """Union of replayed intervals scaled back to real AWS time, plus the uncovered (Ansible) wall time."""
    intervals = sorted((max(op["start"], started), min(op["end"], ended)) for op in timeline if op["end"] > started and op["start"] < ended)
    covered, cursor = 0.0, started
    for start, end in intervals:
        start = max(start, cursor)
        if end > start:
            covered += end - start
            cursor = end
    return covered / scale + (ended - started - covered)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-scale", type=float, default=0.01, help="stand-in seconds per real AWS second")
    args = parser.parse_args()
    with StandIn(time_scale=args.time_scale) as standin:
        env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"), **standin.env())
        first = run("site.yml", env)
        timeline = standin.timeline()
        second = run("site.yml", env)
        run("teardown.yml", env)
    seconds = {op["operation"]: op["real_seconds"] for op in timeline}
    chain = sum(seconds.get(name, 0) for name in CHAIN_OPERATIONS) + max(
        [op["real_seconds"] for op in timeline if op["operation"] == "CreateAddon"] or [0])
    modeled = modeled_seconds(timeline, first[0], first[1], args.time_scale)
    print("first run:   %6.1f s wall, %d tasks, %d changed" % (first[1] - first[0], first[2], first[3]))
    print("no-op rerun: %6.1f s wall, %d tasks, %d changed (target < 60 s)" % (second[1] - second[0], second[2], second[3]))
    print("replayed AWS operations: %d (time scale %s)" % (len(timeline), args.time_scale))
    print("modeled AWS-layer duration: %6.0f s real AWS; longest chain (cluster + node group + add-ons): %d s; ratio %.2f (target <= 1.15)"
          % (modeled, chain, modeled / chain if chain else float("nan")))


if __name__ == "__main__":
    main()
