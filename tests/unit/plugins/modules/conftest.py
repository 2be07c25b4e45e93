# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
"""Fixtures shared by the module tests: fake AWS credentials, and AWS clients answered by a botocore Stubber."""
import time

import botocore.session
import pytest
from botocore.stub import Stubber

from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper
from ansible_collections.eks_llm.inference.plugins.module_utils import common
from ansible_collections.eks_llm.inference.tests.unit.plugins.modules.utils import REGION

LEAKY_ENVIRONMENT = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
                     "AWS_REGION", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE")


@pytest.fixture(autouse=True)
def aws_credentials(monkeypatch):
    """Fake credentials and the test region; nothing from the developer's shell (profiles, endpoints) leaks in."""
    for name in LEAKY_ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)


@pytest.fixture
def stubbed_client(monkeypatch):
    """A factory: ``stubbed_client(service, via)`` -> (client, stubber); the module under test gets that client.

    ``via`` is how the module asks for clients: ``retrying_client`` (our AnsibleEKSModule) or ``boto3_conn``
    (amazon.aws's AnsibleAWSModule.client). Waiters never sleep; ``sleep='forbid'`` makes a second poll an error.
    Every queued response must have been consumed when the test ends.
    """
    stubbers = []

    def make(service, via="retrying_client", sleep="skip"):
        client = botocore.session.get_session().create_client(
            service, region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing")
        stubber = Stubber(client)
        stubber.activate()
        stubbers.append(stubber)
        if via == "retrying_client":
            wrapped = RetryingBotoClientWrapper(client, common.aws_retry())
            monkeypatch.setattr(common.AnsibleEKSModule, "retrying_client", lambda module, name: wrapped)
        else:
            monkeypatch.setattr("ansible_collections.amazon.aws.plugins.module_utils.modules.boto3_conn",
                                lambda *args, **kwargs: client)
        if sleep == "forbid":
            def forbidden(seconds):
                raise AssertionError("waiter slept %s s" % seconds)
            monkeypatch.setattr("botocore.waiter.time.sleep", forbidden)
        else:
            monkeypatch.setattr(time, "sleep", lambda seconds: None)
        return client, stubber

    yield make
    for stubber in stubbers:
        stubber.deactivate()
        stubber.assert_no_pending_responses()


@pytest.fixture
def eks(stubbed_client):
    """(client, stubber) for modules built on amazon.aws's AnsibleAWSModule (their clients come from boto3_conn)."""
    return stubbed_client("eks", via="boto3_conn")


@pytest.fixture
def standin_subnets(monkeypatch):
    """A mocked account (mock_aws) with the AWS stand-in's extensions of moto (EKS add-ons, access entries, pod
    identities; IAM OIDC client ids; KMS calls by ARN), a VPC and the ids of two subnets in two zones (EKS wants two).

    The extensions patch moto's classes, so they are taken back after the test: the other tests here expect moto as
    it is (e.g. moto's EKS accepts subnets that do not exist)."""
    # pylint: disable=import-outside-toplevel
    import boto3
    from moto import mock_aws
    from moto.eks import urls as eks_urls
    from moto.eks.models import Cluster, Nodegroup
    from moto.iam.responses import IamResponse
    from moto.kms.models import KmsBackend
    from tests.standin import eks_ext, iam_ext, kms_ext

    patched = [(cls, name) for cls in (Cluster, Nodegroup) for name in ("status", "endpoint", "identity", "certificate_authority")]
    patched += [(IamResponse, name) for name in ("add_client_id_to_open_id_connect_provider", "remove_client_id_from_open_id_connect_provider")]
    patched += [(KmsBackend, name) for name in dir(KmsBackend) if not name.startswith("_")]
    saved = dict(((cls, name), cls.__dict__[name]) for cls, name in patched if name in cls.__dict__)
    saved_paths = dict(eks_urls.url_paths)
    eks_ext.install()
    iam_ext.install()
    kms_ext.install()
    monkeypatch.setattr("ansible_collections.amazon.aws.plugins.module_utils.cloud.time.sleep", lambda seconds: None)
    with mock_aws():
        ec2 = boto3.client("ec2", region_name=REGION)
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        yield [ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.%d.0/24" % index, AvailabilityZone=REGION + zone)["Subnet"]["SubnetId"]
               for index, zone in enumerate("ab")]
    for cls, name in patched:
        if (cls, name) in saved:
            setattr(cls, name, saved[(cls, name)])
        elif name in cls.__dict__:
            delattr(cls, name)
    eks_urls.url_paths.clear()
    eks_urls.url_paths.update(saved_paths)
