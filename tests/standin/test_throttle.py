"""Throttling injection: every protocol's error must be one botocore treats as throttling."""
import json
import urllib.request

import pytest
from botocore.config import Config
from botocore.retries import standard
from botocore.exceptions import ClientError

# Retries really off: botocore reads {"max_attempts": 1} as "one retry" (total_max_attempts = 2).
NO_RETRIES = Config(retries={"total_max_attempts": 1})
CALLS = {
    "ec2": lambda c: c.describe_vpcs(),  # ec2 protocol
    "iam": lambda c: c.list_roles(),  # query
    "sts": lambda c: c.get_caller_identity(),  # query
    "eks": lambda c: c.list_clusters(),  # rest-json
    "efs": lambda c: c.describe_file_systems(),  # rest-json
    "secretsmanager": lambda c: c.list_secrets(),  # json
    "logs": lambda c: c.describe_log_groups(),  # json
    "sqs": lambda c: c.list_queues(),  # json (query-compatible)
    "service-quotas": lambda c: c.list_service_quotas(ServiceCode="ec2"),  # json
    "cloudwatch": lambda c: c.list_metrics(),  # smithy rpc-v2-cbor
    "s3": lambda c: c.list_buckets(),  # rest-xml, S3 flavour
    "route53": lambda c: c.list_hosted_zones(),  # rest-xml
}


def is_throttling(error):
    context = standard.RetryContext(attempt_number=1, parsed_response=error.response)
    return standard.ThrottledRetryableChecker().is_retryable(context)


@pytest.mark.parametrize("service", sorted(CALLS))
def test_every_protocol_throttles_recognisably(aws, aws_standin, service):
    client = aws(service, config=NO_RETRIES)
    CALLS[service](client)  # works while throttling is off
    before = aws_standin.stats()["throttled"]
    aws_standin.configure(throttle_rate=1.0)
    with pytest.raises(ClientError) as excinfo:
        CALLS[service](client)
    assert is_throttling(excinfo.value), excinfo.value.response["Error"]
    assert excinfo.value.response["ResponseMetadata"]["RetryAttempts"] == 0
    assert aws_standin.stats()["throttled"] == before + 1


def test_control_api_is_never_throttled(aws_standin):
    throttled = aws_standin.stats()["throttled"]
    aws_standin.configure(throttle_rate=1.0)
    url = aws_standin.endpoint_url + "/_standin"
    for path in ("/stats", "/timeline", "/config", "/health"):
        with urllib.request.urlopen(url + path) as response:
            assert response.status == 200
    with urllib.request.urlopen(aws_standin.endpoint_url + "/moto-api/config") as response:
        assert response.status in (200, 201)
    request = urllib.request.Request(url + "/config", data=json.dumps({"throttle_rate": 0}).encode(), method="POST")
    with urllib.request.urlopen(request) as response:
        assert json.load(response)["throttle_rate"] == 0.0
    assert aws_standin.stats()["throttled"] == throttled


def test_default_retries_ride_out_a_20_percent_throttle(aws, aws_standin, monkeypatch):
    # Real botocore standard-mode retries, minus the sleeping (backoff is up to seconds per retry).
    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", lambda self, context: 0.001)
    config = Config(retries={"mode": "standard", "max_attempts": 10})
    sts, eks, ec2 = aws("sts", config=config), aws("eks", config=config), aws("ec2", config=config)
    before = aws_standin.stats()
    aws_standin.configure(throttle_rate=0.2, throttle_seed=20261125)
    retries = 0
    for i in range(200):
        response = (sts.get_caller_identity, eks.list_clusters, ec2.describe_availability_zones)[i % 3]()
        retries += response["ResponseMetadata"]["RetryAttempts"]
    after = aws_standin.stats()
    throttled = after["throttled"] - before["throttled"]
    assert throttled == retries and 20 <= throttled <= 90  # ~0.2/0.8 * 200 = 50 expected
    assert after["requests"] - before["requests"] == 200 + retries


def test_seed_makes_throttling_repeatable(aws, aws_standin):
    client = aws("sts", config=NO_RETRIES)

    def pattern():
        aws_standin.configure(throttle_rate=0.5, throttle_seed=7)
        outcome = []
        for dummy in range(20):
            try:
                client.get_caller_identity()
                outcome.append(True)
            except ClientError:
                outcome.append(False)
        return outcome
    first = pattern()
    assert first == pattern() and 0 < first.count(False) < 20
