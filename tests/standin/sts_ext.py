"""STS AssumeRoleWithWebIdentity as AWS decides it for IRSA (moto hands out credentials for any token).

AWS (IAM user guide, "Creating OpenID Connect (OIDC) identity providers"; STS API reference,
AssumeRoleWithWebIdentity errors): the token's ``iss`` must be the URL of an IAM OIDC provider of the role's
account (else InvalidIdentityToken "No OpenIDConnect provider found in your account for <iss>"), its ``aud``
one of the provider's client IDs (InvalidIdentityToken "Incorrect token audience"), it must not be expired
(ExpiredTokenException) and its signature must verify with the issuer's keys (InvalidIdentityToken
"Couldn't retrieve verification key from your identity provider"); then the role's trust policy must
allow ``sts:AssumeRoleWithWebIdentity`` for ``Federated: <provider ARN>`` with its conditions on
``<provider url>:sub`` / ``:aud`` (AccessDenied "Not authorized to perform sts:AssumeRoleWithWebIdentity").

The keys: the local Kubernetes API server signs service account tokens; tests/standin/k8s/cluster.py reads its
issuer and JWKS (``/.well-known/openid-configuration``, ``/openid/v1/jwks``) into the stand-in's config
(``cluster_oidc_issuer``, ``cluster_oidc_jwks``), and the EKS stand-in reports that issuer as the cluster's
``identity.oidc.issuer``, as EKS does for its own API servers. A token of any other issuer cannot be verified
and is refused.
"""
import base64
import json
import time

from . import config
from .efs_policy import Unsupported, _action_matches, _condition_matches, _list

ACTION = "sts:AssumeRoleWithWebIdentity"


class Refused(Exception):
    def __init__(self, code, message, status=400):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def _b64(segment):
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _claims(token):
    try:
        header, payload, signature = token.split(".")
        return json.loads(_b64(header)), json.loads(_b64(payload)), (header + "." + payload).encode(), _b64(signature)
    except (ValueError, TypeError) as exc:
        raise Refused("InvalidIdentityToken", "The web identity token is not a JWT: %s" % exc) from exc


def _verify_signature(header, signed, signature, issuer):
    # pylint: disable=import-outside-toplevel
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    jwks = config.get("cluster_oidc_jwks") or {}
    if issuer != config.get("cluster_oidc_issuer") or not jwks.get("keys"):
        raise Refused("InvalidIdentityToken", "Couldn't retrieve verification key from your identity provider,"
                      " please reference AssumeRoleWithWebIdentity documentation for requirements")
    if header.get("alg") != "RS256":
        raise Refused("InvalidIdentityToken", "Unsupported token signing algorithm %r" % header.get("alg"))
    for key in jwks["keys"]:
        if header.get("kid") and key.get("kid") != header["kid"]:
            continue
        public = rsa.RSAPublicNumbers(int.from_bytes(_b64(key["e"]), "big"), int.from_bytes(_b64(key["n"]), "big")).public_key()
        try:
            public.verify(signature, signed, padding.PKCS1v15(), hashes.SHA256())
            return
        except InvalidSignature:
            continue
    raise Refused("InvalidIdentityToken", "The web identity token's signature does not verify with the provider's keys")


def _provider(account_id, issuer):
    from moto.iam.models import iam_backends  # pylint: disable=import-outside-toplevel

    url = issuer.replace("https://", "", 1).rstrip("/")
    for partition_backends in iam_backends[account_id].values():
        for provider in partition_backends.open_id_providers.values():
            if provider.url.rstrip("/") == url:
                return provider
    raise Refused("InvalidIdentityToken", "No OpenIDConnect provider found in your account for %s" % issuer)


def _trust_allows(document, provider, claims):
    url = provider.url.rstrip("/")
    context = {url + ":sub": claims.get("sub", ""), url + ":aud": claims["aud"], url + ":oaud": claims["aud"]}
    allowed = False
    for statement in _list(json.loads(document).get("Statement", [])):
        principal = statement.get("Principal")
        if not isinstance(principal, dict) or provider.arn not in _list(principal.get("Federated", [])):
            continue
        try:
            if not (_action_matches(statement, ACTION) and _condition_matches(statement, context)):
                continue
        except Unsupported:
            continue  # a statement the evaluator does not understand never allows
        if statement.get("Effect") == "Deny":
            return False
        allowed = allowed or statement.get("Effect") == "Allow"
    return allowed


def check(token, role_arn):
    """Raise Refused unless AWS would let this token assume the role."""
    from moto.iam.models import iam_backends  # pylint: disable=import-outside-toplevel

    header, claims, signed, signature = _claims(token or "")
    issuer = claims.get("iss", "")
    account_id = (role_arn or "").split(":")[4] if (role_arn or "").count(":") >= 5 else ""
    if not account_id:
        raise Refused("ValidationError", "RoleArn %r is not a role ARN" % role_arn)
    provider = _provider(account_id, issuer)
    audiences = _list(claims.get("aud", []))
    audience = next((a for a in audiences if a in provider.client_id_list), None)
    if audience is None:
        raise Refused("InvalidIdentityToken", "Incorrect token audience")
    if float(claims.get("exp", 0)) < time.time():
        raise Refused("ExpiredTokenException", "Token expired: current date/time %d must be before the expiration date/time %s"
                      % (time.time(), claims.get("exp")))
    _verify_signature(header, signed, signature, issuer)
    try:
        role = next(backend.get_role(role_arn.split("/")[-1]) for backend in iam_backends[account_id].values())
    except Exception as exc:  # pylint: disable=broad-except  # moto raises its own IAMNotFoundException
        raise Refused("AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity", 403) from exc
    if not _trust_allows(role.assume_role_policy_document, provider, dict(claims, aud=audience)):
        raise Refused("AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity", 403)


def install():
    from moto.core.exceptions import ServiceException  # pylint: disable=import-outside-toplevel
    from moto.sts.responses import TokenResponse  # pylint: disable=import-outside-toplevel

    original = TokenResponse.assume_role_with_web_identity
    if getattr(original, "standin", False):
        return

    class StsRefusal(ServiceException):
        def __init__(self, refused):
            self.code = refused.code
            super().__init__(refused.message)

    def assume_role_with_web_identity(self):
        try:
            check(self._get_param("WebIdentityToken"), self._get_param("RoleArn"))
        except Refused as refused:
            raise StsRefusal(refused) from refused
        return original(self)

    assume_role_with_web_identity.standin = True
    TokenResponse.assume_role_with_web_identity = assume_role_with_web_identity
