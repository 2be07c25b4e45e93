"""Job templates of roles/awx_config run as AWX runs them (tests/awx/awx_job.py: ansible-runner, a private data
directory with the survey answers, the credentials' injected environment and the inventory imported from its SCM
source) against the local stand-ins: moto (AWS) and the LLM endpoint stand-in. No Kubernetes needed."""
import json
import os

import boto3

from tests.awx.awx_job import artifacts_text, custom_stats, read_json, run_job, write_private_data_dir
from tests.standin.llm_server import running_llm_server
from tests.system.conftest import installed_aiperf, leftovers, make_tokenizer, write_inventory

pytest_plugins = ["tests.standin.fixtures"]

SECRETS = {"ngc": "nvapi-" + "AWXJOB" * 6, "hf": "hf_" + "awxjob" * 6, "aws": "awx-job-secret-" + "7" * 24}


def credentials():
    return {"Amazon Web Services": {"username": "AKIAAWXJOBSTANDIN", "password": SECRETS["aws"]},
            "NGC API key": {"ngc_api_key": SECRETS["ngc"]}, "Hugging Face token": {"hf_token": SECRETS["hf"]}}


def stand_in_env(standin, **more):
    # what the local inventory reads to reach the stand-ins (on AWX these are unset: real AWS)
    return dict({"EKS_LLM_AWS_ENDPOINT_URL": standin.endpoint_url, "AWS_ENDPOINT_URL": standin.endpoint_url,
                 "AWS_DEFAULT_REGION": "us-west-2", "AWS_REGION": "us-west-2",
                 "EKS_LLM_LOCAL_LLM_URL": "http://127.0.0.1:9", "EKS_LLM_LOCAL_LLM_METRICS_URL": "http://127.0.0.1:9/metrics"}, **more)


def assert_no_secret(root, runner):
    text = runner.stdout.read() + artifacts_text(root) + repr(custom_stats(runner))
    for value in SECRETS.values():
        assert value not in text


def job(tmp_path, name, template, inventory, answers, env):
    root = str(tmp_path / name)
    playbook, shown = write_private_data_dir(root, template, inventory, answers, credentials(), env)
    # what AWX stores and shows as the job's environment: the secrets masked by AWX's own code
    assert shown["NGC_API_KEY"] == shown["HF_TOKEN"] == shown["AWS_SECRET_ACCESS_KEY"] == "**********"
    return root, run_job(root, playbook)


def failures(runner):
    """(task, message) of every failed task, from the job's events (what AWX shows per task)."""
    return [(e["event_data"]["task"], e["event_data"]["res"].get("msg", "")) for e in runner.events if e.get("event") == "runner_on_failed"]


def test_a_bad_survey_answer_fails_deploy_in_preflight_like_the_inventory_and_creates_nothing(tmp_path, aws_standin_clean):
    env = stand_in_env(aws_standin_clean)
    inventory = write_inventory(tmp_path)
    root, runner = job(tmp_path, "survey", "Deploy", inventory, {"eks_llm_run_replicas": 9}, env)
    assert runner.status == "failed" and runner.rc != 0
    ((task, from_survey),) = failures(runner)  # one failure: the validation, before any AWS call
    assert task == "Validate the inventory (every problem at once, nothing touched yet)"
    assert from_survey.startswith("The inventory has 2 problem(s); nothing was created:")
    assert "eks_llm_gpu_node_pools[0] (gpu-g5).gpu_limit: 8: the models on this pool need at least 9 GPUs" in from_survey
    assert leftovers() == []
    assert_no_secret(root, runner)

    # the same value written in the inventory: the same problems, word for word
    changed = write_inventory(tmp_path / "inventory-changed", changes={"eks_llm_models": [dict(
        name="opt-350m", engine="triton_vllm", parameters_billion=0.35, precision="fp16", vllm={"model_id": "facebook/opt-350m"},
        autoscaling={"enabled": True, "min_replicas": 9, "max_replicas": 4}, replicas=9)]})
    dummy_root, plain = job(tmp_path, "inventory", "Deploy", changed, {}, env)
    assert plain.status == "failed" and failures(plain) == [(task, from_survey)]


def test_verify_template_passes_on_the_llm_standin_returns_its_stats_and_copies_the_report_to_s3(tmp_path, aws_standin_clean):
    s3 = boto3.client("s3", region_name="us-west-2", endpoint_url=aws_standin_clean.endpoint_url)
    s3.create_bucket(Bucket="llm-local-reports", CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
    with running_llm_server([{"name": "triton", "flavor": "triton", "models": ["opt-350m"], "ttft_ms": 5, "itl_ms": 1}]) as llm:
        inventory = write_inventory(tmp_path, changes={
            "eks_llm_benchmark": {"enabled": False},
            "eks_llm_reports_s3_uri": "s3://llm-local-reports/awx/runs",
            "eks_llm_verify": {"mode": "controller", "check_workloads": False, "check_prometheus": False, "check_hpa": False,
                               "check_interruption": False, "check_storage": False, "check_identity": False, "check_logs": False,
                               "endpoint_overrides": {"opt-350m": {"base_url": llm.url("triton"), "metrics_url": llm.url("triton", "metrics_url")}},
                               "timeout_s": 2, "concurrency": 4, "max_tokens": 8, "results_dir": str(tmp_path / "reports")}})
        root, runner = job(tmp_path, "verify", "Verify", inventory, {}, stand_in_env(aws_standin_clean))
    assert runner.status == "successful", runner.stdout.read()[-4000:]
    stats = custom_stats(runner)["eks_llm_verify"]
    assert stats["ok"] is True and stats["failed"] == 0 and stats["passed"] > 0
    run_dir = os.path.dirname(stats["report"])
    assert run_dir.startswith(str(tmp_path / "reports" / "verify")) and read_json(os.path.join(run_dir, "verify-report.json"))["ok"] is True
    files = sorted(os.listdir(run_dir))
    prefix = "awx/runs/verify/%s/" % os.path.basename(run_dir)
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket="llm-local-reports")["Contents"])
    assert keys == [prefix + f for f in files] and prefix + "verify-report.md" in keys
    head = s3.head_object(Bucket="llm-local-reports", Key=prefix + "verify-report.json")
    assert head["ServerSideEncryption"] == "AES256"
    tags = s3.get_object_tagging(Bucket="llm-local-reports", Key=prefix + "verify-report.json")["TagSet"]
    assert {"Key": "eks-llm:deployment", "Value": "llm-local"} in tags
    assert_no_secret(root, runner)


def test_benchmark_template_sweeps_with_the_survey_answers_fails_its_gate_and_still_copies_the_report(tmp_path, aws_standin_clean):
    """The Benchmark template: AIPerf on the controller against the LLM stand-in, the concurrencies and the p99 SLOs
    from the survey. The survey's TTFT target is one the stand-in cannot meet: the job fails on that gate, and the
    summary still comes back through set_stats and the report still reaches S3 (a failed run is the one to read)."""
    aiperf = installed_aiperf()
    tokenizer = make_tokenizer(str(tmp_path / "tokenizer"))
    s3 = boto3.client("s3", region_name="us-west-2", endpoint_url=aws_standin_clean.endpoint_url)
    s3.create_bucket(Bucket="llm-local-reports", CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
    with running_llm_server([{"name": "triton", "flavor": "triton", "models": ["opt-350m"], "ttft_ms": 5, "itl_ms": 1}]) as llm:
        inventory = write_inventory(tmp_path, changes={
            "eks_llm_reports_s3_uri": "s3://llm-local-reports/awx/runs",
            "eks_llm_benchmark": {
                "enabled": True, "runner": "aiperf", "mode": "controller", "aiperf_bin": aiperf,
                "tokenizer": {"opt-350m": tokenizer}, "endpoint_overrides": {"opt-350m": {"base_url": llm.url("triton")}},
                "profiles": [{"name": "isl32-osl16", "input_tokens": 32, "output_tokens": 16, "concurrencies": [8],
                              "request_count": 24, "warmup_requests": 2}],
                "results_dir": str(tmp_path / "reports")}})
        # the stand-in's first token takes >= 5 ms: a 1 ms p99 target misses at every concurrency, 500 ms ITL passes
        answers = {"eks_llm_run_benchmark_concurrencies": [1, 2], "eks_llm_run_slo_ttft_p99_ms": 1,
                   "eks_llm_run_slo_itl_p99_ms": 500}
        root, runner = job(tmp_path, "benchmark", "Benchmark", inventory, answers, stand_in_env(aws_standin_clean))
    assert runner.status == "failed", runner.stdout.read()[-4000:]
    (task, message), = failures(runner)
    assert task.startswith("Fail on the SLO gates that missed") and message.startswith("2 of 4 SLO checks failed:"), message
    assert "time_to_first_token_ms p99 | opt-350m" in message and "inter_token_latency_ms" not in message
    stats = custom_stats(runner)["eks_llm_benchmark"]
    assert stats["runs"] == 2 and stats["slo_failures"] == 2  # the survey's concurrencies, not the inventory's [8]
    run_dir = os.path.dirname(stats["report"])
    report = read_json(os.path.join(run_dir, "report.json"))
    assert sorted(r["concurrency"] for r in report["results"]) == [1, 2]
    assert sorted((e["metric"], e["limit"], e["passed"]) for e in report["slo_results"]) == [
        ("inter_token_latency_ms", 500.0, True)] * 2 + [("time_to_first_token_ms", 1.0, False)] * 2
    prefix = "awx/runs/benchmark/%s/" % os.path.basename(run_dir)
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="llm-local-reports")["Contents"]]
    assert {prefix + "report.md", prefix + "report.json", prefix + "results.csv"} <= set(keys)
    assert json.loads(s3.get_object(Bucket="llm-local-reports", Key=prefix + "report.json")["Body"].read()) == report
    assert_no_secret(root, runner)


def test_teardown_template_refuses_without_the_deployments_name(tmp_path, aws_standin_clean):
    env = stand_in_env(aws_standin_clean)
    root, runner = job(tmp_path, "teardown", "Teardown", write_inventory(tmp_path), {"eks_llm_teardown_confirm": "llm-prod"}, env)
    assert runner.status == "failed"
    assert failures(runner) == [("Refuse to delete without the deployment's name",
                                 "Teardown not confirmed: eks_llm_teardown_confirm must be the deployment's name (llm-local); nothing was deleted")]
    assert [e["event_data"]["play"] for e in runner.events if e.get("event") == "playbook_on_play_start"] == [
        "Confirmation - the AWX Teardown template asks for the deployment's name before anything is deleted"]
    assert_no_secret(root, runner)
    # the right name: the whole teardown runs (here on an account where nothing is left: no cluster to reach, nothing
    # tagged) and ends with its proof
    root, confirmed = job(tmp_path, "confirmed", "Teardown", write_inventory(tmp_path / "again"),
                          {"eks_llm_teardown_confirm": "llm-local"}, env)
    assert confirmed.status == "successful", confirmed.stdout.read()[-4000:]
    tasks = [e["event_data"].get("task") for e in confirmed.events if e.get("event") == "runner_on_ok"]
    assert "Refuse to delete without the deployment's name" in tasks and "Prove nothing is left" in tasks
    assert leftovers() == []
    assert_no_secret(root, confirmed)
