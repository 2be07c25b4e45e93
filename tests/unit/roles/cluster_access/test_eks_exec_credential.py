"""eks_exec_credential: the token EKS (and the local stand-in) accepts, signed once and then served from a cache that
never crosses identities, expires in time and can be switched off."""
import base64
import importlib.util
import os
import stat
import subprocess
import sys
import urllib.parse

import pytest

from tests.standin import eks_auth_ext

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
PLUGIN = os.path.join(REPO, "roles", "cluster_access", "files", "eks_exec_credential.py")
_spec = importlib.util.spec_from_file_location("eks_exec_credential", PLUGIN)
plugin = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(plugin)

CREDENTIALS = {"AWS_ACCESS_KEY_ID": "AKIAUNITTESTKEY00001", "AWS_SECRET_ACCESS_KEY": "unit-test-secret"}


@pytest.fixture
def signer(monkeypatch, tmp_path):
    """The plugin with its cache under tmp_path and a signer that counts its calls."""
    calls = []
    monkeypatch.setattr(plugin, "CACHE_DIR", str(tmp_path / "token-cache"))
    monkeypatch.setattr(plugin, "token", lambda cluster, region, endpoint=None: calls.append((cluster, region, endpoint)) or
                        "k8s-aws-v1.token-%d" % len(calls))
    return calls


def test_the_token_is_a_presigned_get_caller_identity_the_eks_authenticator_reads(monkeypatch):
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    token = plugin.token("llm-prod", "us-west-2")
    assert token.startswith("k8s-aws-v1.") and "=" not in token
    url = base64.urlsafe_b64decode(token[len("k8s-aws-v1."):] + "==").decode()
    assert url.startswith("https://sts.us-west-2.amazonaws.com/?")
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
    assert query["Action"] == "GetCallerIdentity" and query["X-Amz-Expires"] == "60"
    assert "x-k8s-aws-id" in query["X-Amz-SignedHeaders"].split(";")
    # the stand-in's reading of a token (what EKS checks before calling STS) accepts it
    assert eks_auth_ext._presigned_url(token).startswith("https://sts.us-west-2.amazonaws.com/")  # pylint: disable=protected-access


def test_a_second_client_within_the_cache_time_gets_the_same_token_without_signing(signer, tmp_path):
    env = dict(CREDENTIALS)
    first = plugin.credential("llm-prod", "us-west-2", None, env, now=1000.0)
    second = plugin.credential("llm-prod", "us-west-2", None, env, now=1000.0 + plugin.CACHE_SECONDS - 61)
    assert len(signer) == 1
    assert first == second
    assert first["status"]["token"] == "k8s-aws-v1.token-1"
    assert first["status"]["expirationTimestamp"] == "1970-01-01T00:26:40Z"  # signed at 1000 s + 600 s
    (entry,) = os.listdir(str(tmp_path / "token-cache"))
    mode = os.stat(str(tmp_path / "token-cache" / entry)).st_mode
    assert stat.S_IMODE(mode) == 0o600
    assert stat.S_IMODE(os.stat(str(tmp_path / "token-cache")).st_mode) == 0o700
    assert "llm-prod" not in entry  # the file name is a hash


def test_a_token_close_to_its_expiry_is_signed_again(signer):
    plugin.credential("llm-prod", "us-west-2", None, CREDENTIALS, now=1000.0)
    renewed = plugin.credential("llm-prod", "us-west-2", None, CREDENTIALS, now=1000.0 + plugin.CACHE_SECONDS - 59)
    assert len(signer) == 2 and renewed["status"]["token"] == "k8s-aws-v1.token-2"


@pytest.mark.parametrize("change", [
    {"AWS_PROFILE": "read-only"},
    {"AWS_ACCESS_KEY_ID": "AKIAANOTHERKEY000002"},
    {"AWS_SESSION_TOKEN": "rotated"},
    {"AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/other"},
])
def test_another_aws_identity_never_gets_the_cached_token(signer, change):
    plugin.credential("llm-prod", "us-west-2", None, CREDENTIALS, now=1000.0)
    other = plugin.credential("llm-prod", "us-west-2", None, dict(CREDENTIALS, **change), now=1001.0)
    assert len(signer) == 2 and other["status"]["token"] == "k8s-aws-v1.token-2"


def test_another_cluster_region_or_endpoint_is_signed_for_itself(signer):
    plugin.credential("llm-prod", "us-west-2", None, CREDENTIALS, now=1000.0)
    plugin.credential("llm-dev", "us-west-2", None, CREDENTIALS, now=1000.0)
    plugin.credential("llm-prod", "us-east-1", None, CREDENTIALS, now=1000.0)
    plugin.credential("llm-prod", "us-west-2", "http://127.0.0.1:5055", CREDENTIALS, now=1000.0)
    assert len(signer) == 4


def test_the_cache_can_be_switched_off(signer, tmp_path):
    env = dict(CREDENTIALS, EKS_LLM_TOKEN_CACHE="off")
    plugin.credential("llm-prod", "us-west-2", None, env, now=1000.0)
    plugin.credential("llm-prod", "us-west-2", None, env, now=1000.0)
    assert len(signer) == 2
    assert not os.path.exists(str(tmp_path / "token-cache"))


def test_a_broken_cache_file_is_ignored_and_replaced(signer):
    path = plugin.cache_path("llm-prod", "us-west-2", None, CREDENTIALS)
    os.makedirs(os.path.dirname(path))
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("{not json")
    assert plugin.credential("llm-prod", "us-west-2", None, CREDENTIALS, now=1000.0)["status"]["token"] == "k8s-aws-v1.token-1"
    assert plugin.cached_token(path, 1000.0) == ("k8s-aws-v1.token-1", 1000.0 + plugin.CACHE_SECONDS)


def test_run_as_kubectl_runs_it_prints_an_exec_credential(tmp_path):
    env = dict(os.environ, **CREDENTIALS)
    env["EKS_LLM_TOKEN_CACHE"] = "off"
    out = subprocess.run([sys.executable, PLUGIN, "llm-prod", "us-west-2"], env=env, stdout=subprocess.PIPE, check=True,
                         universal_newlines=True).stdout
    assert '"kind": "ExecCredential"' in out and '"token": "k8s-aws-v1.' in out
    usage = subprocess.run([sys.executable, PLUGIN], stderr=subprocess.PIPE, check=False, universal_newlines=True)
    assert usage.returncode == 2 and "Usage: eks_exec_credential.py CLUSTER_NAME REGION" in usage.stderr
