# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
"""The eks_token lookup: decode the token and check the presigned URL it carries."""

import base64
import hashlib
import hmac
import os
from urllib.parse import parse_qs
from urllib.parse import quote
from urllib.parse import urlsplit

import pytest

pytest.importorskip("botocore")

from ansible.errors import AnsibleLookupError  # noqa: E402
from ansible.plugins.loader import lookup_loader  # noqa: E402

ACCESS_KEY = "AKIDEXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
LOOKUPS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "plugins", "lookup")
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


@pytest.fixture(scope="module")
def eks_token():
    # Loaded from its directory, the way ansible loads it, options and env
    # fallbacks included, whether or not a collection finder is installed in
    # this process (the module tests import the collection as plain packages).
    lookup_loader.add_directory(os.path.abspath(LOOKUPS))
    plugin = lookup_loader.get("eks_token")
    assert plugin is not None
    return plugin


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    """No credentials, region or endpoint from the machine running the tests."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def decode(token):
    assert token.startswith("k8s-aws-v1.")
    body = token[len("k8s-aws-v1."):]
    assert "=" not in body
    assert "+" not in body and "/" not in body
    return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode("utf-8")


def _hmac(key, text):
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).digest()


def signature_ok(url, cluster, secret_key):
    """Check the SigV4 query signature independently of botocore."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    pairs = sorted((k, v[0]) for k, v in query.items() if k != "X-Amz-Signature")
    canonical_query = "&".join("%s=%s" % (quote(k, safe="-_.~"), quote(v, safe="-_.~")) for k, v in pairs)
    signed = query["X-Amz-SignedHeaders"][0].split(";")
    values = {"host": parts.netloc, "x-k8s-aws-id": cluster}
    canonical_headers = "".join("%s:%s\n" % (name, values[name]) for name in signed)
    canonical = "\n".join(["GET", parts.path or "/", canonical_query, canonical_headers, ";".join(signed), EMPTY_SHA256])
    date = query["X-Amz-Date"][0]
    scope = query["X-Amz-Credential"][0].split("/", 1)[1]
    string_to_sign = "\n".join(["AWS4-HMAC-SHA256", date, scope, hashlib.sha256(canonical.encode("utf-8")).hexdigest()])
    key = ("AWS4" + secret_key).encode("utf-8")
    for part in scope.split("/"):
        key = _hmac(key, part)
    return hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest() == query["X-Amz-Signature"][0]


def test_token_is_a_presigned_get_caller_identity_url(eks_token):
    [token] = eks_token.run(["demo"], {}, region="us-west-2", access_key=ACCESS_KEY, secret_key=SECRET_KEY)

    url = decode(token)
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    assert parts.scheme == "https"
    assert parts.netloc == "sts.us-west-2.amazonaws.com"
    assert query["Action"] == ["GetCallerIdentity"]
    assert query["Version"] == ["2011-06-15"]
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert query["X-Amz-Expires"] == ["60"]
    assert query["X-Amz-SignedHeaders"] == ["host;x-k8s-aws-id"]
    credential = query["X-Amz-Credential"][0].split("/")
    assert credential[0] == ACCESS_KEY
    assert credential[2:] == ["us-west-2", "sts", "aws4_request"]
    assert "X-Amz-Security-Token" not in query
    assert signature_ok(url, "demo", SECRET_KEY)
    # The signature covers the cluster name: it is not valid for another cluster.
    assert not signature_ok(url, "other", SECRET_KEY)


def test_one_token_per_cluster(eks_token):
    tokens = eks_token.run(["demo", "other"], {}, region="eu-central-1", access_key=ACCESS_KEY, secret_key=SECRET_KEY)
    assert len(tokens) == 2
    assert signature_ok(decode(tokens[0]), "demo", SECRET_KEY)
    assert signature_ok(decode(tokens[1]), "other", SECRET_KEY)


def test_session_token_is_carried(eks_token):
    [token] = eks_token.run(
        ["demo"], {}, region="us-west-2", access_key=ACCESS_KEY, secret_key=SECRET_KEY, session_token="FwoGZXIvYXdzEXAMPLE"
    )
    query = parse_qs(urlsplit(decode(token)).query)
    assert query["X-Amz-Security-Token"] == ["FwoGZXIvYXdzEXAMPLE"]


def test_endpoint_url_replaces_the_aws_endpoint(eks_token):
    [token] = eks_token.run(
        ["demo"], {}, region="us-east-1", endpoint_url="http://localhost:5000", access_key=ACCESS_KEY, secret_key=SECRET_KEY
    )
    url = decode(token)
    assert url.startswith("http://localhost:5000/?")
    assert parse_qs(urlsplit(url).query)["X-Amz-Credential"][0].split("/")[2] == "us-east-1"
    assert signature_ok(url, "demo", SECRET_KEY)


def test_us_east_1_uses_the_regional_endpoint(eks_token, monkeypatch):
    monkeypatch.setenv("AWS_STS_REGIONAL_ENDPOINTS", "legacy")
    [token] = eks_token.run(["demo"], {}, region="us-east-1", access_key=ACCESS_KEY, secret_key=SECRET_KEY)
    assert urlsplit(decode(token)).netloc == "sts.us-east-1.amazonaws.com"


def test_environment_fallbacks(eks_token, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDFROMENV")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-southeast-2")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
    [token] = eks_token.run(["demo"], {})
    url = decode(token)
    assert url.startswith("http://127.0.0.1:4566/?")
    credential = parse_qs(urlsplit(url).query)["X-Amz-Credential"][0].split("/")
    assert credential[0] == "AKIDFROMENV"
    assert credential[2] == "ap-southeast-2"
    # AWS_REGION wins over AWS_DEFAULT_REGION.
    monkeypatch.setenv("AWS_REGION", "eu-west-3")
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    [token] = eks_token.run(["demo"], {})
    assert urlsplit(decode(token)).netloc == "sts.eu-west-3.amazonaws.com"
    # The STS-specific endpoint variable wins over the general one.
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:5000")
    [token] = eks_token.run(["demo"], {})
    assert decode(token).startswith("http://127.0.0.1:5000/?")


def test_profile_from_environment(eks_token, monkeypatch, tmp_path):
    (tmp_path / "credentials").write_text(
        "[deploy]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = %s\n" % SECRET_KEY
    )
    (tmp_path / "config").write_text("[profile deploy]\nregion = ca-central-1\n")
    monkeypatch.setenv("AWS_PROFILE", "deploy")
    [token] = eks_token.run(["demo"], {})
    url = decode(token)
    credential = parse_qs(urlsplit(url).query)["X-Amz-Credential"][0].split("/")
    assert credential[0] == "AKIDPROFILE"
    assert urlsplit(url).netloc == "sts.ca-central-1.amazonaws.com"
    assert signature_ok(url, "demo", SECRET_KEY)


def test_no_credentials_is_a_clear_error(eks_token):
    with pytest.raises(AnsibleLookupError, match="no AWS credentials found"):
        eks_token.run(["demo"], {}, region="us-west-2")


def test_unknown_profile_is_a_clear_error(eks_token):
    with pytest.raises(AnsibleLookupError, match="could not be found"):
        eks_token.run(["demo"], {}, region="us-west-2", profile="missing")


def test_no_region_is_a_clear_error(eks_token):
    with pytest.raises(AnsibleLookupError, match="no AWS region"):
        eks_token.run(["demo"], {}, access_key=ACCESS_KEY, secret_key=SECRET_KEY)


def test_profile_and_keys_are_exclusive(eks_token):
    with pytest.raises(AnsibleLookupError, match="mutually exclusive"):
        eks_token.run(["demo"], {}, region="us-west-2", profile="deploy", access_key=ACCESS_KEY, secret_key=SECRET_KEY)


def test_half_a_key_pair_is_refused(eks_token):
    with pytest.raises(AnsibleLookupError, match="together"):
        eks_token.run(["demo"], {}, region="us-west-2", access_key=ACCESS_KEY)


def test_cluster_name_is_required(eks_token):
    with pytest.raises(AnsibleLookupError, match="name of the EKS cluster"):
        eks_token.run([], {}, region="us-west-2", access_key=ACCESS_KEY, secret_key=SECRET_KEY)
