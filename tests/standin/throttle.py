"""Throttling injection: with probability throttle_rate an AWS request gets the
throttling error its protocol uses, shaped so that botocore parses the code and
its retry logic treats it as throttling."""
import json
import random
import re
import threading
import uuid
from urllib.parse import parse_qs

from . import config

_LOCK = threading.Lock()
_rng = random.Random()
_stats = {"requests": 0, "throttled": 0, "throttled_by_service": {}}

# Signing names of the rest-xml services besides S3 (everything else that is
# neither query, ec2, json nor cbor is rest-json, e.g. eks and elasticfilesystem).
REST_XML = {"route53", "cloudfront"}


def _reseed(key, value):
    if key == "throttle_seed":
        with _LOCK:
            _rng.seed(value)


config.on_change(_reseed)


def signing_service(environ):
    """Service name from the SigV4 credential scope (header or presigned query)."""
    match = re.search(r"Credential=[^/,]+/\d{8}/[^/]+/([^/]+)/aws4_request", environ.get("HTTP_AUTHORIZATION", ""))
    if match:
        return match.group(1)
    credential = parse_qs(environ.get("QUERY_STRING", "")).get("X-Amz-Credential")
    if credential and credential[0].count("/") >= 4:
        return credential[0].split("/")[3]
    return None


def protocol(service, environ):
    if service == "s3":
        return "s3"
    if service == "ec2":
        return "ec2"
    if environ.get("HTTP_SMITHY_PROTOCOL") == "rpc-v2-cbor":
        return "cbor"
    if environ.get("HTTP_X_AMZ_TARGET"):
        return "json"
    if environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
        return "query"
    if service in REST_XML:
        return "rest-xml"
    return "rest-json"


def _cbor_text(text):
    data = text.encode()
    assert len(data) < 256  # only short ASCII strings are ever encoded
    return (bytes([0x60 + len(data)]) if len(data) < 24 else bytes([0x78, len(data)])) + data


def _cbor_map(mapping):
    """Just enough CBOR (RFC 8949) for a map of short strings."""
    out = bytes([0xA0 + len(mapping)])
    for key, value in mapping.items():
        out += _cbor_text(key) + _cbor_text(value)
    return out


def error_response(service, environ):
    """(status, headers, body bytes) of a throttling error in the request's protocol."""
    request_id = str(uuid.uuid4())
    kind = protocol(service, environ)
    if kind == "ec2":
        body = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>RequestLimitExceeded</Code>"
                f"<Message>Request limit exceeded.</Message></Error></Errors><RequestID>{request_id}</RequestID></Response>")
        return 503, [("Content-Type", "text/xml;charset=UTF-8")], body.encode()
    if kind in ("query", "rest-xml"):
        body = ("<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error>"
                f"<RequestId>{request_id}</RequestId></ErrorResponse>")
        return 400, [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)], body.encode()
    if kind == "s3":
        body = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SlowDown</Code><Message>Please reduce your request rate."
                f"</Message><RequestId>{request_id}</RequestId></Error>")
        return 503, [("Content-Type", "application/xml"), ("x-amz-request-id", request_id)], body.encode()
    if kind == "json":
        content_type = environ.get("CONTENT_TYPE") or "application/x-amz-json-1.1"
        body = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"})
        return 400, [("Content-Type", content_type), ("x-amzn-RequestId", request_id)], body.encode()
    if kind == "cbor":
        body = _cbor_map({"__type": "ThrottlingException", "message": "Rate exceeded"})
        return 400, [("Content-Type", "application/cbor"), ("smithy-protocol", "rpc-v2-cbor"),
                     ("x-amzn-RequestId", request_id)], body
    body = json.dumps({"message": "Rate exceeded"})
    return 429, [("Content-Type", "application/json"), ("x-amzn-ErrorType", "ThrottlingException"),
                 ("x-amzn-RequestId", request_id)], body.encode()


def maybe_throttle(environ):
    """Roll the dice for one AWS request; return an error response triple or None."""
    service = signing_service(environ)
    with _LOCK:
        _stats["requests"] += 1
        rate = config.get("throttle_rate")
        if service is None or rate <= 0 or _rng.random() >= rate:
            return None
        _stats["throttled"] += 1
        _stats["throttled_by_service"][service] = _stats["throttled_by_service"].get(service, 0) + 1
    return error_response(service, environ)


def stats():
    with _LOCK:
        return {**_stats, "throttled_by_service": dict(_stats["throttled_by_service"])}


def reset():
    with _LOCK:
        _stats.update(requests=0, throttled=0, throttled_by_service={})
