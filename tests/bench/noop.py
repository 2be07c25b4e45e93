"""Benchmark of the everyday loop: a re-run of site.yml when everything is already deployed (a measurement, not a test).

Starts stand-ins of its own (tests.standin.local, in .cache/bench), deploys the local inventory once, then re-runs the
deploy layers (preflight, AWS, platform, inference; verify and benchmark skipped by tag) three times and prints, per
layer, the median wall time of the re-runs and whether any re-run changed something. Stops the stand-ins at the end.

Run: make bench   (or .venv/bin/python tests/bench/noop.py [--runs 3] [--keep]); the last re-run's output, with every
task's time, stays in .cache/bench/noop-last.log.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, REPO)

from tests.standin import local  # noqa: E402  pylint: disable=wrong-import-position

DEPLOY_LAYERS = ("Preflight", "AWS layer", "Platform layer", "Inference layer")
PLAY_RE = re.compile(r"^PLAY \[(?P<name>[^\]]*)\]")
ELAPSED_RE = re.compile(r"\s(\d+):(\d\d):(\d\d\.\d+) \*+ *$")
RECAP_RE = re.compile(r"ok=(\d+)\s+changed=(\d+)")


def layer_seconds(output):
    """Wall seconds per play, from profile_tasks' elapsed-time stamps: a play lasts from its first task's stamp to the
    next play's first stamp (the last play to the last stamp). Play names are cut at ' - '."""
    starts, last = [], 0.0
    play = None
    for line in output.splitlines():
        match = PLAY_RE.match(line)
        if match:
            play = match.group("name").split(" - ")[0]
            continue
        stamp = ELAPSED_RE.search(line)
        if stamp:
            last = int(stamp.group(1)) * 3600 + int(stamp.group(2)) * 60 + float(stamp.group(3))
            if play is not None:
                starts.append((play, last))
                play = None
    result = {}
    for index, (name, start) in enumerate(starts):
        end = starts[index + 1][1] if index + 1 < len(starts) else last
        result[name] = result.get(name, 0.0) + end - start
    return result


def playbook(env, *args):
    env = dict(env, PROFILE_TASKS_TASK_OUTPUT_LIMIT="all")
    proc = subprocess.run([os.path.join(REPO, ".venv", "bin", "ansible-playbook"), "site.yml", "-i", "inventories/local"] + list(args),
                          cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    if proc.returncode:
        sys.exit("site.yml failed:\n%s" % proc.stdout[-4000:])
    return proc.stdout


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="leave the stand-ins running")
    args = parser.parse_args()
    state_dir = os.path.join(REPO, ".cache", "bench")
    if local.main(["start", "--state-dir", state_dir]):
        sys.exit("the local stand-ins did not start")
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"), PWD=state_dir, **local.environment(state_dir))
    try:
        started = time.monotonic()
        playbook(env, "--skip-tags", "verify,benchmark")
        print("first deploy (preflight..inference): %.0f s" % (time.monotonic() - started))
        runs = []
        for dummy in range(args.runs):
            started = time.monotonic()
            output = playbook(env, "--skip-tags", "verify,benchmark")
            with open(os.path.join(state_dir, "noop-last.log"), "w") as handle:  # every task's time (profile_tasks)
                handle.write(output)
            runs.append((time.monotonic() - started, int(RECAP_RE.findall(output)[-1][1]), layer_seconds(output)))
        print("no-op re-run of the deploy layers, %d runs (median per layer):" % args.runs)
        for layer in DEPLOY_LAYERS:
            print("  %-16s %6.1f s" % (layer, statistics.median(r[2].get(layer, 0.0) for r in runs)))
        print("  %-16s %6.1f s  (wall, whole ansible-playbook process; changed per run: %s)"
              % ("total", statistics.median(r[0] for r in runs), ", ".join(str(r[1]) for r in runs)))
    finally:
        if not args.keep:
            local.main(["stop", "--state-dir", state_dir])


if __name__ == "__main__":
    main()
