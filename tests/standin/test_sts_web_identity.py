"""STS AssumeRoleWithWebIdentity in the stand-in refuses what AWS refuses (IRSA): tokens of unknown issuers, wrong
audiences, expired or badly signed tokens, and roles whose trust policy does not name the service account -
including a role that trusts EKS Pod Identity only (Triton's role before it moved to IRSA)."""
import base64
import json
import time

import boto3
import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from moto import mock_aws

from ansible_collections.eks_llm.inference.plugins.filter.identity import workload_trust_policy

from tests.standin import config, sts_ext

ISSUER = "https://kubernetes.default.svc.cluster.local"
SUBJECT = "system:serviceaccount:llm:triton"
ACCOUNT = {"namespace": "llm", "service_account": "triton"}


def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _int(number):
    return _b64(number.to_bytes((number.bit_length() + 7) // 8, "big"))


@pytest.fixture(scope="module")
def key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def token(key, **claims):
    header = {"alg": "RS256", "kid": "k1"}
    body = dict({"iss": ISSUER, "sub": SUBJECT, "aud": ["sts.amazonaws.com"], "exp": int(time.time()) + 600}, **claims)
    signed = _b64(json.dumps(header).encode()) + "." + _b64(json.dumps(body).encode())
    return signed + "." + _b64(key.sign(signed.encode(), padding.PKCS1v15(), hashes.SHA256()))


@pytest.fixture(scope="module")
def mocked_account(key):  # pylint: disable=redefined-outer-name
    numbers = key.public_key().public_numbers()
    saved = config.snapshot()
    config.update({"cluster_oidc_issuer": ISSUER,
                   "cluster_oidc_jwks": {"keys": [{"kty": "RSA", "alg": "RS256", "use": "sig", "kid": "k1",
                                                   "n": _int(numbers.n), "e": _int(numbers.e)}]}})
    sts_ext.install()
    with pytest.MonkeyPatch.context() as patch, mock_aws():  # one mocked account: building one loads IAM's managed policies
        for var in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
            patch.delenv(var, raising=False)
        patch.setenv("AWS_ACCESS_KEY_ID", "testing")
        patch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        yield boto3.client("iam", region_name="us-west-2"), boto3.client("sts", region_name="us-west-2")
    config.update({"cluster_oidc_issuer": saved["cluster_oidc_issuer"] or "", "cluster_oidc_jwks": saved["cluster_oidc_jwks"] or {}})


@pytest.fixture
def aws(mocked_account):  # pylint: disable=redefined-outer-name
    iam, sts = mocked_account
    provider = iam.create_open_id_connect_provider(Url=ISSUER, ClientIDList=["sts.amazonaws.com"])["OpenIDConnectProviderArn"]
    yield iam, sts, {"arn": provider, "issuer": ISSUER}
    for arn in [p["Arn"] for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]]:
        iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    for name in [r["RoleName"] for r in iam.list_roles()["Roles"] if r["RoleName"].startswith("demo-")]:
        iam.delete_role(RoleName=name)


def role(iam, name, trust):
    return iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]


def assume(sts, arn, web_token):
    return sts.assume_role_with_web_identity(RoleArn=arn, RoleSessionName="test", WebIdentityToken=web_token)


def refusal(sts, arn, web_token):
    with pytest.raises(ClientError) as info:
        assume(sts, arn, web_token)
    return info.value.response["Error"]["Code"], info.value.response["Error"]["Message"]


def test_the_irsa_trust_the_collection_renders_lets_exactly_its_service_account_in(aws, key):
    iam, sts, provider = aws
    arn = role(iam, "demo-triton-model-reader", workload_trust_policy(ACCOUNT, "irsa", provider))
    assert assume(sts, arn, token(key))["Credentials"]["AccessKeyId"]
    assert refusal(sts, arn, token(key, sub="system:serviceaccount:llm:default")) == (
        "AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity")


def test_a_pod_identity_role_cannot_be_assumed_with_a_service_account_token(aws, key):
    iam, sts, provider = aws
    arn = role(iam, "demo-triton-model-reader", workload_trust_policy(ACCOUNT, "pod_identity", provider))
    assert refusal(sts, arn, token(key))[0] == "AccessDenied"


def test_tokens_aws_would_refuse_are_refused(aws, key):
    iam, sts, provider = aws
    arn = role(iam, "demo-triton-model-reader", workload_trust_policy(ACCOUNT, "irsa", provider))
    assert refusal(sts, arn, token(key, aud=["kubernetes"])) == ("InvalidIdentityToken", "Incorrect token audience")
    assert refusal(sts, arn, token(key, exp=int(time.time()) - 5))[0] == "ExpiredTokenException"
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert refusal(sts, arn, token(other)) == ("InvalidIdentityToken",
                                               "The web identity token's signature does not verify with the provider's keys")
    code, message = refusal(sts, arn, token(key, iss="https://oidc.eks.us-west-2.amazonaws.com/id/UNKNOWN"))
    assert code == "InvalidIdentityToken" and message.startswith("No OpenIDConnect provider found in your account")


def test_without_the_clusters_oidc_provider_nothing_is_assumed(aws, key):
    iam, sts, provider = aws
    arn = role(iam, "demo-triton-model-reader", workload_trust_policy(ACCOUNT, "irsa", provider))
    iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=provider["arn"])
    code, message = refusal(sts, arn, token(key))
    assert code == "InvalidIdentityToken" and ISSUER in message
