"""The stand-in Fluent Bit ships logs only with credentials its image and service account really give it."""
import json
from types import SimpleNamespace

import boto3
import pytest
from moto import mock_aws

from tests.standin import fluent_bit_ext

GROUP = "/aws/eks/demo/workloads"
WRITE_LOGS = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                                                      "Resource": ["arn:aws:logs:us-west-2:123456789012:log-group:%s:*" % GROUP]}]}
POD_IDENTITY_TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"},
                                                              "Action": ["sts:AssumeRole", "sts:TagSession"]}]}


class Core:
    """The two reads the controller makes of the API server, and the events it writes."""

    def __init__(self, annotations=None):
        self.annotations = annotations or {}
        self.events = []

    def read_namespaced_service_account(self, name, namespace):
        return SimpleNamespace(metadata=SimpleNamespace(name=name, namespace=namespace, annotations=self.annotations))

    def read_namespaced_config_map(self, name, namespace):
        return SimpleNamespace(data={"fluent-bit.conf": "[OUTPUT]\n    Name cloudwatch_logs\n    log_group_name %s\n"
                                                        "    log_stream_prefix fluentbit-\n    auto_create_group false\n" % GROUP})

    def create_namespaced_event(self, namespace, event):
        self.events.append(event.message)


def pod(image):
    return SimpleNamespace(
        metadata=SimpleNamespace(name="fluent-bit-abcde", namespace="logging", uid=image),
        spec=SimpleNamespace(service_account_name="fluent-bit", node_name="node-1", containers=[SimpleNamespace(image=image)],
                             volumes=[SimpleNamespace(config_map=SimpleNamespace(name="fluent-bit"))]))


@pytest.fixture(scope="module")
def mocked_account():
    with pytest.MonkeyPatch.context() as patch, mock_aws():  # one mocked account: building one loads IAM's managed policies
        patch.setenv("AWS_ACCESS_KEY_ID", "testing")
        patch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        iam = boto3.client("iam", region_name="us-west-2")
        arn = iam.create_role(RoleName="demo-fluent-bit", AssumeRolePolicyDocument=json.dumps(POD_IDENTITY_TRUST))["Role"]["Arn"]
        iam.put_role_policy(RoleName="demo-fluent-bit", PolicyName="logs", PolicyDocument=json.dumps(WRITE_LOGS))
        logs = boto3.client("logs", region_name="us-west-2")
        cluster = SimpleNamespace(identity={"oidc": {"issuer": "https://oidc.example/id/X"}})
        cluster.__dict__["_standin"] = {"pods": {"a1": {"namespace": "logging", "serviceAccount": "fluent-bit", "roleArn": arn}}}
        yield logs, cluster


@pytest.fixture
def account(mocked_account):  # pylint: disable=redefined-outer-name
    logs, dummy = mocked_account
    logs.create_log_group(logGroupName=GROUP)
    yield mocked_account
    logs.delete_log_group(logGroupName=GROUP)


def shipped(logs):
    return [e["message"] for e in logs.filter_log_events(logGroupName=GROUP).get("events", [])]


def test_a_pod_identity_capable_image_ships(account):
    logs, cluster = account
    core = Core()
    fluent_bit_ext._ship(core, pod("public.ecr.aws/aws-observability/aws-for-fluent-bit:2.34.1.20251112"), "us-west-2", cluster)
    assert core.events == [] and len(shipped(logs)) == 1


def test_the_fluent_bit_chart_default_image_ships_nothing_under_pod_identity(account):
    logs, cluster = account
    core = Core()
    fluent_bit_ext._ship(core, pod("public.ecr.aws/aws-observability/aws-for-fluent-bit:2.32.2.20240516"), "us-west-2", cluster)
    assert shipped(logs) == []
    assert "does not read EKS Pod Identity" in core.events[0]


def test_an_irsa_annotation_whose_role_does_not_trust_the_account_ships_nothing(account):
    logs, cluster = account
    core = Core({"eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/demo-fluent-bit"})
    fluent_bit_ext._ship(core, pod("public.ecr.aws/aws-observability/aws-for-fluent-bit:2.32.2.20240516"), "us-west-2", cluster)
    assert shipped(logs) == [] and core.events[0].startswith("stand-in aws-for-fluent-bit: IRSA: No OpenIDConnect provider")
