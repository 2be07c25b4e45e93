"""The README's commands exactly as a new user types them: `make deploy`, again (nothing changes), `make teardown`
(proves nothing is left), `make local-down` (no process left) - and a second checkout of the repository doing the
same on the same machine at the same time, without the two meeting (ports, kubeconfigs, reports are per checkout).

Run by `make readme` (part of `make test`). It uses this checkout's .cache/local: do not run it while your own
`make local-up` stand-ins hold state you care about.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import time

import boto3
import pytest

from tests.bench.noop import layer_seconds
from tests.standin import local
from tests.standin.aws_server import process_alive
from tests.system.conftest import REPO, RECAP_RE, PlaybookResult, leftovers

pytestmark = pytest.mark.readme
TIMINGS = os.path.join(REPO, ".cache", "readme-timings.json")


def user_env(checkout):
    """The environment of a user's shell in `checkout`: no virtualenv on PATH, no test variables."""
    venv_bin = os.path.dirname(sys.executable)
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith(("AWS_", "EKS_LLM_", "KUBECONFIG", "K8S_AUTH_", "MAKE")))
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if os.path.realpath(p) != os.path.realpath(venv_bin))
    env["PWD"] = checkout
    env.pop("NGC_API_KEY", None)
    env.pop("HF_TOKEN", None)
    return env


def make(checkout, target, timeout=3600, extra=()):
    """`make <target>` in checkout; returns (returncode, output, seconds)."""
    started = time.monotonic()
    proc = subprocess.run(["make", target] + list(extra), cwd=checkout, env=user_env(checkout), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True, timeout=timeout, check=False)
    seconds = time.monotonic() - started
    log_dir = os.environ.get("EKS_LLM_TEST_LOG_DIR")
    if log_dir:
        os.makedirs(log_dir, exist_ok=True)
        with open(os.path.join(log_dir, "%s-make-%s-%s.log" % (time.strftime("%H%M%S"), target, os.path.basename(checkout))), "w") as handle:
            handle.write(proc.stdout)
    return proc.returncode, proc.stdout, seconds


def recap(output):
    result = PlaybookResult(0, output)
    assert RECAP_RE.findall(output), output[-3000:]
    return {"ok": result.ok, "changed": result.changed, "unreachable": result.unreachable, "failed": result.failed}


def changed_tasks(output):
    return PlaybookResult(0, output).changed_tasks()


def second_checkout(tmp_path):
    """A copy of this checkout's tracked files (mtimes kept, so make sees the shared virtualenvs as up to date)."""
    target = str(tmp_path / "second-checkout")
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO, check=True,
                           stdout=subprocess.PIPE).stdout.decode().split("\0")
    for name in filter(None, files):
        source = os.path.join(REPO, name)
        if not os.path.lexists(source):
            continue
        os.makedirs(os.path.dirname(os.path.join(target, name)), exist_ok=True)
        shutil.copy2(source, os.path.join(target, name), follow_symlinks=False)
    # This checkout's virtualenvs, linked rather than installed again (a second `pip install` would only cost time;
    # the isolation under test is of the stand-ins, kubeconfigs, rendered files and reports).
    os.makedirs(os.path.join(target, ".cache"))
    os.symlink(os.path.join(REPO, ".venv"), os.path.join(target, ".venv"))
    os.symlink(os.path.join(REPO, ".cache", "aiperf-venv"), os.path.join(target, ".cache", "aiperf-venv"))
    return target


def env_file(checkout):
    return local.read_env(os.path.join(checkout, ".cache", "local", "local.env"))


def leftovers_of(checkout):
    values = env_file(checkout)
    saved = dict((k, os.environ.get(k)) for k in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"))
    os.environ.update(AWS_ENDPOINT_URL=values["AWS_ENDPOINT_URL"], AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
    try:
        return leftovers()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def start_make(checkout, target, extra=()):
    started = time.monotonic()
    proc = subprocess.Popen(["make", target] + list(extra), cwd=checkout, env=user_env(checkout), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, universal_newlines=True)
    return proc, started


def finish_make(running, timeout=3600):
    proc, started = running
    output = proc.communicate(timeout=timeout)[0]
    return proc.returncode, output, time.monotonic() - started


def assert_torn_down_and_stopped(checkout, timings, name):
    code, out, timings["make teardown (%s)" % name] = make(checkout, "teardown")
    assert code == 0 and recap(out)["failed"] == 0, out[-6000:]
    assert leftovers_of(checkout) == []
    state = os.path.join(checkout, ".cache", "local")
    pids = list(local._pids(state).values())  # pylint: disable=protected-access
    assert pids, "no stand-in process recorded before local-down"
    code, out, timings["make local-down (%s)" % name] = make(checkout, "local-down")
    assert code == 0, out
    assert "no process left" in out
    assert local._pids(state) == {}  # pylint: disable=protected-access
    assert not [pid for pid in pids if process_alive(pid)]


def test_readme_commands_as_written_and_two_checkouts_side_by_side(tmp_path):
    timings = {}
    first, second = REPO, second_checkout(tmp_path)
    # Two checkouts on one machine deploy at the same time; neither may see the other (ports, kubeconfigs, reports).
    other = start_make(second, "deploy")
    code, out, timings["make deploy (first checkout)"] = make(first, "deploy")
    other_code, other_out, timings["make deploy (second checkout, at the same time)"] = finish_make(other)
    assert code == 0 and recap(out)["failed"] == 0, out[-6000:]
    assert other_code == 0 and recap(other_out)["failed"] == 0, other_out[-6000:]
    assert "Failed to find required executable" not in out
    for checkout in (first, second):
        for report in ("verify-report.md", "report.md", "results.csv"):
            assert [f for f in _report_files(checkout) if os.path.basename(f) == report], "no %s under %s/reports" % (report, checkout)
    first_env, second_env = env_file(first), env_file(second)
    for key in ("AWS_ENDPOINT_URL", "EKS_LLM_LOCAL_LLM_URL", "EKS_LLM_LOCAL_LLM_METRICS_URL"):
        assert first_env[key] != second_env[key]
        assert not re.search(r":(5055|18000|18002)\b", first_env[key])
    for checkout, values in ((first, first_env), (second, second_env)):
        assert values["EKS_LLM_KUBE_DIR"].startswith(os.path.join(checkout, ".cache"))

    # The first checkout deploys again - nothing changes - while the second one tears down beside it.
    other = start_make(second, "teardown")
    code, again, timings["make deploy (first, no-op, beside a teardown)"] = make(first, "deploy")
    other_code, other_out, timings["make teardown (second)"] = finish_make(other)
    assert code == 0, again[-6000:]
    assert recap(again)["changed"] == 0, "a second make deploy changed: %s" % changed_tasks(again)
    timings["no-op re-run per layer"] = layer_seconds(again)
    assert other_code == 0 and recap(other_out)["failed"] == 0, other_out[-6000:]
    assert leftovers_of(second) == []
    pids = list(local._pids(os.path.join(second, ".cache", "local")).values())  # pylint: disable=protected-access
    code, out, timings["make local-down (second)"] = make(second, "local-down")
    assert code == 0 and "no process left" in out, out
    assert not [pid for pid in pids if process_alive(pid)]

    assert_torn_down_and_stopped(first, timings, "first")
    with open(TIMINGS, "w", encoding="utf-8") as handle:
        json.dump(timings, handle, indent=1)
    print(json.dumps(timings, indent=1))


def _report_files(checkout):
    found = []
    for root, _dirs, files in os.walk(os.path.join(checkout, "reports")):
        found += [os.path.join(root, name) for name in files]
    return found


@pytest.fixture(autouse=True)
def _no_aws_from_tests(monkeypatch):
    """The stand-ins under test are the checkouts' own, not the test session's."""
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
