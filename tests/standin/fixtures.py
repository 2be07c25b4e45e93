"""pytest fixtures for the AWS stand-in. Use from any test directory with
`pytest_plugins = ["tests.standin.fixtures"]` (or import the fixtures).

aws_standin        session-wide in-process server; AWS_* env vars point at it
                   for the session, so plain boto3 clients and child processes
                   (ansible-playbook) use it.
aws_standin_clean  the same server, reset (moto state, timeline, counters) and
                   with default settings, for tests that need a blank account.
"""
import os

import pytest

from tests.standin.aws_server import StandIn

DEFAULTS = {"time_scale": 0.0, "throttle_rate": 0.0, "quotas": {}, "prices": {}, "capacity_reservations": [], "cluster_endpoint": "",
            "cluster_ca": "", "kube_admin_kubeconfig": "",
            "cluster_oidc_issuer": "", "cluster_oidc_jwks": {}, "node_registration_delay": ""}


_RUNNING = []  # moto's state is per process: share one server even if the fixture is registered twice


@pytest.fixture(scope="session")
def aws_standin():
    if _RUNNING:
        yield _RUNNING[0]
        return
    with StandIn() as standin:
        saved = {key: os.environ.get(key) for key in standin.env()}
        os.environ.update(standin.env())
        _RUNNING.append(standin)
        try:
            yield standin
        finally:
            _RUNNING.clear()
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


@pytest.fixture
def aws_standin_clean(aws_standin):  # pylint: disable=redefined-outer-name
    aws_standin.reset()
    aws_standin.configure(**DEFAULTS)
    yield aws_standin
    aws_standin.configure(**DEFAULTS)
