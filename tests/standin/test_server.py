"""The stand-in itself: control API over HTTP, reset, and the daemonising CLI."""
import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request

import boto3
import pytest

from tests.standin.aws_server import REPO, process_alive
from tests.standin.helpers import ROLE


def call(url, body=None):
    request = urllib.request.Request(url, data=None if body is None else json.dumps(body).encode(),
                                     method="GET" if body is None else "POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def test_control_api_config_and_timeline(aws, aws_standin, subnets):
    base = aws_standin.endpoint_url + "/_standin"
    settings = call(base + "/config", {"time_scale": 0.001, "cluster_endpoint": "https://127.0.0.1:6443/"})
    assert settings["time_scale"] == 0.001 and settings["cluster_endpoint"] == "https://127.0.0.1:6443"
    eks = aws("eks")
    arn = eks.create_cluster(name="timeline-http", roleArn=ROLE, resourcesVpcConfig={"subnetIds": subnets})["cluster"]["arn"]
    assert eks.describe_cluster(name="timeline-http")["cluster"]["endpoint"] == "https://127.0.0.1:6443"
    [entry] = [e for e in call(base + "/timeline") if e["resource"] == arn]
    assert entry["service"] == "eks" and entry["operation"] == "CreateCluster" and entry["real_seconds"] == 600
    assert entry["end"] - entry["start"] == pytest.approx(0.6)
    for bad in ({"time_scale": -1}, {"throttle_rate": 2}, {"no_such_knob": 1}, {"cluster_ca": "bm90IGEgY2VydA=="}):
        with pytest.raises(urllib.error.HTTPError) as refused:
            call(base + "/config", bad)
        assert refused.value.code == 400, bad
    with pytest.raises(urllib.error.HTTPError) as unknown:
        call(base + "/nothing-here")
    assert unknown.value.code == 404


def test_reset_forgets_everything(aws, aws_standin_clean):
    sqs, efs = aws("sqs"), aws("efs")
    aws_standin_clean.configure(time_scale=0.5)
    for path in ("/_standin/reset", "/moto-api/reset"):  # moto's own reset path clears our state too
        sqs.create_queue(QueueName="doomed")
        efs.create_file_system(CreationToken="doomed")  # replayed: lands in the timeline
        assert aws_standin_clean.timeline() and aws_standin_clean.stats()["requests"] > 0
        call(aws_standin_clean.endpoint_url + path, {})
        assert aws_standin_clean.timeline() == [] and aws_standin_clean.stats()["requests"] == 0
        assert "QueueUrls" not in sqs.list_queues() and efs.describe_file_systems()["FileSystems"] == []
    assert call(aws_standin_clean.endpoint_url + "/_standin/config")["time_scale"] == 0.5  # settings survive a reset


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "tests.standin.aws_server", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=120, check=False)


def test_cli_start_status_stop_round_trip(tmp_path):
    state = str(tmp_path / "state")
    started = run_cli("start", "--state-dir", state, "--port", "0", "--time-scale", "0.25", "--region", "eu-west-1")
    pid_file = os.path.join(state, "server.pid")
    try:
        assert started.returncode == 0, started.stderr
        with open(os.path.join(state, "env.sh"), encoding="utf-8") as handle:
            env = dict(line.removeprefix("export ").strip().split("=", 1) for line in handle)
        endpoint = env["AWS_ENDPOINT_URL"]
        assert endpoint.startswith("http://127.0.0.1:") and endpoint != "http://127.0.0.1:0"
        assert env["EKS_LLM_AWS_ENDPOINT_URL"] == endpoint
        assert (env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]) == ("testing", "testing")
        assert env["AWS_DEFAULT_REGION"] == env["AWS_REGION"] == "eu-west-1"
        with open(pid_file, encoding="utf-8") as handle:
            pid = int(handle.read())

        sts = boto3.client("sts", endpoint_url=endpoint, region_name="eu-west-1", aws_access_key_id="testing",
                           aws_secret_access_key="testing")
        assert sts.get_caller_identity()["Account"] == "123456789012"
        assert call(endpoint + "/_standin/config")["time_scale"] == 0.25
        assert call(endpoint + "/_standin/health")["pid"] == pid

        again = run_cli("start", "--state-dir", state, "--port", "0")
        assert again.returncode == 0 and "already running" in again.stdout
        with open(pid_file, encoding="utf-8") as handle:
            assert int(handle.read()) == pid
        assert run_cli("status", "--state-dir", state).returncode == 0

        stopped = run_cli("stop", "--state-dir", state)
        assert stopped.returncode == 0 and not os.path.exists(pid_file)
        assert not process_alive(pid)
        status = run_cli("status", "--state-dir", state)
        assert status.returncode == 3 and "not running" in status.stdout
        assert run_cli("stop", "--state-dir", state).returncode == 0  # stopping twice is fine
    finally:
        if os.path.exists(pid_file):  # clean up our own server if an assertion failed midway
            with open(pid_file, encoding="utf-8") as handle:
                try:
                    os.kill(int(handle.read()), signal.SIGKILL)
                except (OSError, ValueError):
                    pass


def test_reset_forgets_buckets_and_s3_still_works(aws_standin):
    s3 = boto3.client("s3", endpoint_url=aws_standin.endpoint_url, region_name="us-west-2")
    s3.create_bucket(Bucket="reset-probe-bucket", CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
    aws_standin.reset()
    assert s3.list_buckets()["Buckets"] == []
    s3.create_bucket(Bucket="reset-probe-bucket", CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
    s3.head_bucket(Bucket="reset-probe-bucket")
    aws_standin.reset()
