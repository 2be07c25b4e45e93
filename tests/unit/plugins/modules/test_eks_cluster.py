# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
"""Unit tests for eks_cluster and the cluster half of eks_cluster_utils.

Planning helpers are tested as pure functions. Whole-module runs call
``eks_cluster.main()`` in-process: against moto for what moto implements
(create, describe, delete, tags, logging), and against a botocore Stubber for
the update APIs moto lacks (UpdateClusterVersion, DescribeUpdate,
AssociateEncryptionConfig, access config), where the Stubber also proves that
no unexpected (mutating) call is made.
"""

import datetime
import time

import pytest

boto3 = pytest.importorskip("boto3")
moto = pytest.importorskip("moto")

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError  # noqa: E402

from ansible_collections.eks_llm.inference.plugins.module_utils import eks_cluster_utils as utils  # noqa: E402
from ansible_collections.eks_llm.inference.plugins.modules import eks_cluster  # noqa: E402
from ansible_collections.eks_llm.inference.tests.unit.plugins.modules.utils import ModuleRunner  # noqa: E402

REGION = "us-west-2"
ROLE = "arn:aws:iam::123456789012:role/eks-cluster"
ARN = "arn:aws:eks:us-west-2:123456789012:cluster/llm"
KEY1 = "arn:aws:kms:us-west-2:123456789012:key/11111111-1111-1111-1111-111111111111"
KEY2 = "arn:aws:kms:us-west-2:123456789012:key/22222222-2222-2222-2222-222222222222"


# ---------------------------------------------------------------------------
# Harness
# ---------------------------------------------------------------------------


RUN = ModuleRunner(eks_cluster.main, region=REGION)


def run_module(args, check_mode=False, diff=False):
    """(failed, result) of eks_cluster.main() with ``args``."""
    result, failed = RUN.outcome(args, check_mode, diff)
    return failed, result


@pytest.fixture(autouse=True)
def quick_polls(monkeypatch):
    monkeypatch.setattr(eks_cluster, "WAITER_DELAY", 1)
    monkeypatch.setattr(eks_cluster, "UPDATE_POLL_DELAY", 0)


@pytest.fixture
def aws():
    with moto.mock_aws():
        yield boto3.client("eks", region_name=REGION)


@pytest.fixture
def stub(stubbed_client):
    """The Stubber answering the EKS client the module uses."""
    return stubbed_client("eks")[1]


def base_args(**overrides):
    args = dict(name="llm", role_arn=ROLE, subnets=["subnet-a", "subnet-b"], version="1.33")
    args.update(overrides)
    return args


def described(**overrides):
    """A describe_cluster 'cluster' structure."""
    cluster = {
        "name": "llm",
        "arn": ARN,
        "createdAt": datetime.datetime(2025, 1, 1),
        "version": "1.32",
        "endpoint": "https://ABC.gr7.us-west-2.eks.amazonaws.com",
        "roleArn": ROLE,
        "resourcesVpcConfig": {
            "subnetIds": ["subnet-a", "subnet-b"],
            "securityGroupIds": [],
            "endpointPublicAccess": True,
            "endpointPrivateAccess": False,
            "publicAccessCidrs": ["0.0.0.0/0"],
        },
        "kubernetesNetworkConfig": {"serviceIpv4Cidr": "172.20.0.0/16"},
        "logging": {"clusterLogging": [{"types": list(utils.LOG_TYPES), "enabled": False}]},
        "identity": {"oidc": {"issuer": "https://oidc.eks.us-west-2.amazonaws.com/id/ABC"}},
        "status": "ACTIVE",
        "certificateAuthority": {"data": "Q0E="},
        "accessConfig": {"authenticationMode": "API_AND_CONFIG_MAP", "bootstrapClusterCreatorAdminPermissions": True},
        "upgradePolicy": {"supportType": "STANDARD"},
        "tags": {"team": "ml"},
    }
    cluster.update(overrides)
    return {"cluster": cluster}


def update(update_id, status, update_type="VersionUpdate", errors=None):
    result = {"id": update_id, "status": status, "type": update_type, "params": [], "errors": errors or []}
    return {"update": result}


# ---------------------------------------------------------------------------
# Pure helpers
# ---------------------------------------------------------------------------


class TestVersionStep:
    def test_same_version_is_no_change(self):
        assert utils.version_step("1.33", "1.33") is None

    def test_not_managed_when_unset(self):
        assert utils.version_step("1.33", None) is None

    def test_one_minor_up_is_the_target(self):
        assert utils.version_step("1.32", "1.33") == "1.33"

    def test_patch_and_v_prefix_are_ignored(self):
        assert utils.version_step("1.32.4", "v1.33") == "1.33"

    def test_jump_of_two_minors_names_the_next_step(self):
        with pytest.raises(utils.PlanError) as err:
            utils.version_step("1.31", "1.33")
        assert "from 1.31 to 1.33" in str(err.value)
        assert "Set version '1.32'" in str(err.value)

    def test_downgrade_is_refused(self):
        with pytest.raises(utils.PlanError) as err:
            utils.version_step("1.33", "1.32")
        assert "cannot be downgraded" in str(err.value)

    def test_major_change_is_refused(self):
        with pytest.raises(utils.PlanError):
            utils.version_step("1.33", "2.0")

    def test_minor_ordering_is_numeric(self):
        assert utils.version_step("1.9", "1.10") == "1.10"

    def test_garbage_version(self):
        with pytest.raises(utils.PlanError) as err:
            utils.version_step("1.33", "latest")
        assert "MAJOR.MINOR" in str(err.value)


class TestAuthenticationMode:
    @pytest.mark.parametrize(
        "current,wanted,steps",
        [
            ("CONFIG_MAP", "CONFIG_MAP", []),
            ("CONFIG_MAP", "API_AND_CONFIG_MAP", ["API_AND_CONFIG_MAP"]),
            ("API_AND_CONFIG_MAP", "API", ["API"]),
            ("CONFIG_MAP", "API", ["API_AND_CONFIG_MAP", "API"]),
            (None, "API_AND_CONFIG_MAP", ["API_AND_CONFIG_MAP"]),
            ("API", None, []),
        ],
    )
    def test_allowed(self, current, wanted, steps):
        assert utils.authentication_mode_steps(current, wanted) == steps

    @pytest.mark.parametrize(
        "current,wanted",
        [("API", "API_AND_CONFIG_MAP"), ("API", "CONFIG_MAP"), ("API_AND_CONFIG_MAP", "CONFIG_MAP")],
    )
    def test_refused(self, current, wanted):
        with pytest.raises(utils.PlanError) as err:
            utils.authentication_mode_steps(current, wanted)
        assert "from %s to %s" % (current, wanted) in str(err.value)


class TestLogging:
    def test_payload_enables_listed_and_disables_the_rest(self):
        payload = utils.logging_payload(["audit", "api"])
        assert payload == {
            "clusterLogging": [
                {"types": ["api", "audit"], "enabled": True},
                {"types": ["authenticator", "controllerManager", "scheduler"], "enabled": False},
            ]
        }

    def test_empty_list_disables_all(self):
        assert utils.logging_payload([]) == {"clusterLogging": [{"types": utils.LOG_TYPES, "enabled": False}]}

    def test_enabled_types_from_description(self):
        logging = {
            "clusterLogging": [
                {"types": ["scheduler", "api"], "enabled": True},
                {"types": ["audit"], "enabled": False},
            ]
        }
        assert utils.enabled_log_types(logging) == ["api", "scheduler"]
        assert utils.enabled_log_types(None) == []


class TestSummary:
    def test_defaults_fill_missing_fields(self):
        summary = utils.cluster_summary({"name": "x", "resourcesVpcConfig": {"subnetIds": ["b", "a"]}})
        assert summary["subnets"] == ["a", "b"]
        assert summary["endpoint_public_access"] is True
        assert summary["endpoint_private_access"] is False
        assert summary["public_access_cidrs"] == ["0.0.0.0/0"]
        assert summary["authentication_mode"] == "CONFIG_MAP"
        assert summary["encryption_kms_key_arn"] is None
        assert summary["logging"] == []

    def test_encryption_key_is_read(self):
        cluster = described(encryptionConfig=[{"resources": ["secrets"], "provider": {"keyArn": KEY1}}])["cluster"]
        assert utils.cluster_summary(cluster)["encryption_kms_key_arn"] == KEY1


class TestPlan:
    def plan(self, params, **cluster_overrides):
        current = utils.cluster_summary(described(**cluster_overrides)["cluster"])
        full = dict(name="llm", tags=None, purge_tags=True)
        full.update(params)
        return utils.plan_cluster_updates("llm", current, full)

    def test_nothing_to_do(self):
        errors, updates = self.plan(
            dict(
                version="1.32",
                role_arn=ROLE,
                subnets=["subnet-b", "subnet-a"],
                logging=[],
                endpoint_public_access=True,
                public_access_cidrs=["0.0.0.0/0"],
                authentication_mode="API_AND_CONFIG_MAP",
                upgrade_policy="STANDARD",
                service_ipv4_cidr="172.20.0.0/16",
            )
        )
        assert errors == []
        assert updates == []

    def test_every_update_type_in_order_one_per_call(self):
        errors, updates = self.plan(
            dict(
                version="1.33",
                authentication_mode="API",
                encryption_kms_key_arn=KEY1,
                logging=["api", "audit"],
                endpoint_private_access=True,
                public_access_cidrs=["203.0.113.0/24"],
                security_groups=["sg-1"],
                upgrade_policy="EXTENDED",
            ),
            accessConfig={"authenticationMode": "CONFIG_MAP"},
        )
        assert errors == []
        assert [u["type"] for u in updates] == [
            "AccessConfigUpdate",
            "AccessConfigUpdate",
            "AssociateEncryptionConfig",
            "LoggingUpdate",
            "EndpointAccessUpdate",
            "VpcConfigUpdate",
            "UpgradePolicyUpdate",
            "VersionUpdate",
        ]
        assert updates[0]["kwargs"] == {"name": "llm", "accessConfig": {"authenticationMode": "API_AND_CONFIG_MAP"}}
        assert updates[1]["kwargs"]["accessConfig"] == {"authenticationMode": "API"}
        assert updates[2]["kwargs"] == {
            "clusterName": "llm",
            "encryptionConfig": [{"resources": ["secrets"], "provider": {"keyArn": KEY1}}],
        }
        assert updates[4]["kwargs"]["resourcesVpcConfig"] == {
            "endpointPrivateAccess": True,
            "publicAccessCidrs": ["203.0.113.0/24"],
        }
        assert updates[5]["kwargs"]["resourcesVpcConfig"] == {"securityGroupIds": ["sg-1"]}
        assert updates[7] == {"type": "VersionUpdate", "method": "update_cluster_version", "kwargs": {"name": "llm", "version": "1.33"}}
        # Each call carries exactly one kind of change.
        for item in updates:
            changed_keys = set(item["kwargs"]) - {"name", "clusterName"}
            assert len(changed_keys) == 1

    def test_create_only_fields_name_field_and_values(self):
        errors, updates = self.plan(
            dict(role_arn="arn:aws:iam::123456789012:role/other", service_ipv4_cidr="10.100.0.0/16",
                 bootstrap_cluster_creator_admin_permissions=False)
        )
        assert updates == []
        text = " | ".join(errors)
        assert "role_arn cannot be changed" in text and ROLE in text and "role/other" in text
        assert "service_ipv4_cidr" in text and "172.20.0.0/16" in text and "10.100.0.0/16" in text
        assert "bootstrap_cluster_creator_admin_permissions" in text

    def test_different_encryption_key_is_an_error(self):
        errors, updates = self.plan(
            dict(encryption_kms_key_arn=KEY2),
            encryptionConfig=[{"resources": ["secrets"], "provider": {"keyArn": KEY1}}],
        )
        assert updates == []
        assert len(errors) == 1 and KEY1 in errors[0] and KEY2 in errors[0]

    def test_same_encryption_key_is_no_change(self):
        errors, updates = self.plan(
            dict(encryption_kms_key_arn=KEY1),
            encryptionConfig=[{"resources": ["secrets"], "provider": {"keyArn": KEY1}}],
        )
        assert (errors, updates) == ([], [])

    def test_all_errors_are_collected(self):
        errors, dummy = self.plan(dict(version="1.35", authentication_mode="CONFIG_MAP", role_arn="arn:aws:iam::1:role/x"))
        assert len(errors) == 3

    def test_endpoints_cannot_both_be_closed(self):
        errors, dummy = self.plan(dict(endpoint_public_access=False))
        assert any("cannot both be false" in e for e in errors)

    def test_diff_shows_wanted_values_and_tags(self):
        before = utils.cluster_summary(described()["cluster"])
        diff = utils.cluster_diff(before, dict(version="1.33", logging=["api"], tags={"env": "prod"}, purge_tags=False))
        assert diff["before"]["version"] == "1.32"
        assert diff["after"]["version"] == "1.33"
        assert diff["after"]["logging"] == ["api"]
        assert diff["after"]["tags"] == {"team": "ml", "env": "prod"}
        assert diff["after"]["role_arn"] == ROLE


class TestCreateRequest:
    def test_full_request(self):
        params = dict(
            base_args(),
            security_groups=["sg-1"],
            endpoint_public_access=False,
            endpoint_private_access=True,
            public_access_cidrs=None,
            logging=["audit"],
            authentication_mode="API",
            bootstrap_cluster_creator_admin_permissions=False,
            encryption_kms_key_arn=KEY1,
            service_ipv4_cidr="10.100.0.0/16",
            upgrade_policy="EXTENDED",
            tags={"a": "b"},
        )
        request = utils.cluster_create_request(params)
        assert request["resourcesVpcConfig"] == {
            "subnetIds": ["subnet-a", "subnet-b"],
            "securityGroupIds": ["sg-1"],
            "endpointPublicAccess": False,
            "endpointPrivateAccess": True,
        }
        assert request["accessConfig"] == {"authenticationMode": "API", "bootstrapClusterCreatorAdminPermissions": False}
        assert request["encryptionConfig"][0]["provider"]["keyArn"] == KEY1
        assert request["kubernetesNetworkConfig"] == {"serviceIpv4Cidr": "10.100.0.0/16"}
        assert request["upgradePolicy"] == {"supportType": "EXTENDED"}
        assert request["logging"]["clusterLogging"][0] == {"types": ["audit"], "enabled": True}
        assert request["version"] == "1.33"

    def test_minimal_request_sends_only_what_is_set(self):
        request = utils.cluster_create_request(dict(name="x", role_arn=ROLE, subnets=["s1", "s2"]))
        assert request == {"name": "x", "roleArn": ROLE, "resourcesVpcConfig": {"subnetIds": ["s1", "s2"]}}


class FakeClient:
    """describe_update answers from a list (for wait_for_update)."""

    def __init__(self, answers):
        self.answers = list(answers)
        self.calls = []

    def describe_update(self, aws_retry=False, **kwargs):
        self.calls.append(kwargs)
        return {"update": self.answers.pop(0)}


class TestWaitForUpdate:
    def test_polls_until_successful(self):
        client = FakeClient([{"id": "u1", "status": "InProgress"}, {"id": "u1", "status": "Successful", "params": [1]}])
        final = utils.wait_for_update(
            client, {"id": "u1", "status": "InProgress", "type": "LoggingUpdate"}, time.monotonic() + 60, 0, {"name": "llm"}
        )
        assert final["status"] == "Successful"
        assert client.calls == [{"updateId": "u1", "name": "llm"}] * 2

    def test_already_successful_is_not_polled(self):
        client = FakeClient([])
        assert utils.wait_for_update(client, {"id": "u1", "status": "Successful"}, 0, 0, {})["status"] == "Successful"

    def test_failed_update_reports_the_errors(self):
        client = FakeClient(
            [
                {
                    "id": "u1",
                    "status": "Failed",
                    "type": "VersionUpdate",
                    "errors": [{"errorCode": "NodeCreationFailure", "errorMessage": "nodes broke", "resourceIds": ["i-1"]}],
                }
            ]
        )
        with pytest.raises(AnsibleAWSError) as err:
            utils.wait_for_update(client, {"id": "u1", "status": "InProgress", "type": "VersionUpdate"}, time.monotonic() + 60, 0, {})
        assert "Failed" in err.value.message
        assert "NodeCreationFailure: nodes broke (resources: i-1)" in err.value.message
        assert err.value.kwargs["update"]["status"] == "Failed"

    def test_cancelled_in_the_start_response(self):
        with pytest.raises(AnsibleAWSError) as err:
            utils.wait_for_update(FakeClient([]), {"id": "u1", "status": "Cancelled"}, 0, 0, {})
        assert "Cancelled" in err.value.message

    def test_deadline(self):
        client = FakeClient([{"id": "u1", "status": "InProgress"}])
        with pytest.raises(AnsibleAWSError) as err:
            utils.wait_for_update(client, {"id": "u1", "status": "InProgress", "type": "VersionUpdate"}, time.monotonic() - 1, 0, {})
        assert "still in progress" in err.value.message


# ---------------------------------------------------------------------------
# Whole module against moto
# ---------------------------------------------------------------------------


class TestModuleMoto:
    def test_create_wait_then_idempotent(self, aws):
        args = base_args(logging=["api", "audit"], tags={"app": "llm"}, wait=True)
        failed, result = run_module(args)
        assert not failed, result
        assert result["changed"] is True
        cluster = result["cluster"]
        assert cluster["status"] == "ACTIVE"
        assert cluster["version"] == "1.33"
        assert cluster["arn"].endswith(":cluster/llm")
        assert cluster["endpoint"].startswith("https://")
        assert cluster["certificate_authority"]["data"]
        assert cluster["identity"]["oidc"]["issuer"].startswith("https://oidc.eks.")
        assert cluster["tags"] == {"app": "llm"}
        assert aws.describe_cluster(name="llm")["cluster"]["logging"]["clusterLogging"][0] == {
            "types": ["api", "audit"],
            "enabled": True,
        }

        failed, result = run_module(args)
        assert not failed
        assert result["changed"] is False
        assert result["updates"] == []

    def test_check_mode_create_changes_nothing(self, aws):
        failed, result = run_module(base_args(), check_mode=True, diff=True)
        assert not failed
        assert result["changed"] is True
        assert result["cluster"] == {}
        assert result["diff"]["before"] == {}
        assert result["diff"]["after"]["version"] == "1.33"
        assert aws.list_clusters()["clusters"] == []

    def test_create_needs_role_and_subnets(self, aws):
        failed, result = run_module(dict(name="llm"))
        assert failed
        assert "role_arn and subnets" in result["msg"]
        assert aws.list_clusters()["clusters"] == []

    def test_logging_and_tags_reconciled(self, aws):
        aws.create_cluster(name="llm", roleArn=ROLE, resourcesVpcConfig={"subnetIds": ["subnet-a"]}, tags={"old": "1", "keep": "2"})
        failed, result = run_module(dict(name="llm", logging=["authenticator"], tags={"keep": "2", "new": "3"}), diff=True)
        assert not failed, result
        assert result["changed"] is True
        assert [u["type"] for u in result["updates"]] == ["LoggingUpdate"]
        described_now = aws.describe_cluster(name="llm")["cluster"]
        assert described_now["tags"] == {"keep": "2", "new": "3"}
        assert utils.enabled_log_types(described_now["logging"]) == ["authenticator"]
        assert result["diff"]["before"]["tags"] == {"old": "1", "keep": "2"}
        assert result["diff"]["after"]["tags"] == {"keep": "2", "new": "3"}
        assert result["diff"]["after"]["logging"] == ["authenticator"]

    def test_tags_without_purge_only_add(self, aws):
        aws.create_cluster(name="llm", roleArn=ROLE, resourcesVpcConfig={"subnetIds": ["subnet-a"]}, tags={"old": "1"})
        failed, result = run_module(dict(name="llm", tags={"new": "3"}, purge_tags=False))
        assert not failed and result["changed"]
        assert aws.describe_cluster(name="llm")["cluster"]["tags"] == {"old": "1", "new": "3"}

    def test_check_mode_update_calls_nothing(self, aws):
        aws.create_cluster(name="llm", roleArn=ROLE, resourcesVpcConfig={"subnetIds": ["subnet-a"]}, tags={"old": "1"})
        failed, result = run_module(dict(name="llm", logging=["api"], tags={}), check_mode=True)
        assert not failed
        assert result["changed"] is True
        assert result["updates"] == [{"id": None, "type": "LoggingUpdate", "status": "Planned", "params": []}]
        current = aws.describe_cluster(name="llm")["cluster"]
        assert current["tags"] == {"old": "1"}
        assert utils.enabled_log_types(current["logging"]) == []

    def test_create_only_change_fails_without_calls(self, aws):
        aws.create_cluster(name="llm", roleArn=ROLE, resourcesVpcConfig={"subnetIds": ["subnet-a"]})
        failed, result = run_module(dict(name="llm", service_ipv4_cidr="10.100.0.0/16", logging=["api"]))
        assert failed
        assert "service_ipv4_cidr" in result["msg"] and "172.20.0.0/16" in result["msg"] and "10.100.0.0/16" in result["msg"]
        assert utils.enabled_log_types(aws.describe_cluster(name="llm")["cluster"]["logging"]) == []

    def test_absent_refuses_while_nodegroups_exist(self, aws):
        aws.create_cluster(name="llm", roleArn=ROLE, resourcesVpcConfig={"subnetIds": ["subnet-a"]})
        for ng in ("gpu", "cpu"):
            aws.create_nodegroup(clusterName="llm", nodegroupName=ng, nodeRole=ROLE, subnets=["subnet-a"])
        failed, result = run_module(dict(name="llm", state="absent"))
        assert failed
        assert "node groups: cpu, gpu" in result["msg"]
        assert result["nodegroups"] == ["cpu", "gpu"]
        assert aws.list_clusters()["clusters"] == ["llm"]

    def test_absent_deletes_and_waits(self, aws):
        aws.create_cluster(name="llm", roleArn=ROLE, resourcesVpcConfig={"subnetIds": ["subnet-a"]})
        failed, result = run_module(dict(name="llm", state="absent"), check_mode=True)
        assert not failed and result["changed"]
        assert aws.list_clusters()["clusters"] == ["llm"]

        failed, result = run_module(dict(name="llm", state="absent", wait=True), diff=True)
        assert not failed, result
        assert result["changed"] is True
        assert result["cluster"]["name"] == "llm"
        assert result["diff"]["after"] == {}
        assert aws.list_clusters()["clusters"] == []

    def test_absent_when_missing_is_unchanged(self, aws):
        failed, result = run_module(dict(name="llm", state="absent", wait=True))
        assert not failed
        assert result == {"changed": False, "cluster": {}, "updates": []}


# ---------------------------------------------------------------------------
# Whole module against a Stubber (APIs moto lacks)
# ---------------------------------------------------------------------------


class TestModuleStubbed:
    def test_version_upgrade_polls_describe_update(self, stub):
        stub.add_response("describe_cluster", described(), {"name": "llm"})
        stub.add_response("update_cluster_version", update("u-1", "InProgress"), {"name": "llm", "version": "1.33"})
        stub.add_response("describe_update", update("u-1", "InProgress"), {"name": "llm", "updateId": "u-1"})
        stub.add_response("describe_update", update("u-1", "Successful"), {"name": "llm", "updateId": "u-1"})
        stub.add_response("describe_cluster", described(version="1.33"), {"name": "llm"})
        failed, result = run_module(dict(name="llm", version="1.33"), diff=True)
        assert not failed, result
        assert result["changed"] is True
        assert result["updates"] == [{"id": "u-1", "type": "VersionUpdate", "status": "Successful", "params": []}]
        assert result["cluster"]["version"] == "1.33"
        assert result["cluster"]["tags"] == {"team": "ml"}
        assert result["diff"]["before"]["version"] == "1.32"
        assert result["diff"]["after"]["version"] == "1.33"

    def test_version_jump_fails_before_any_update(self, stub):
        stub.add_response("describe_cluster", described(version="1.31"), {"name": "llm"})
        failed, result = run_module(dict(name="llm", version="1.33"))
        assert failed
        assert "one minor version at a time" in result["msg"]
        assert "Set version '1.32'" in result["msg"]
        assert result["updates"] == []

    def test_downgrade_fails(self, stub):
        stub.add_response("describe_cluster", described(version="1.33"), {"name": "llm"})
        failed, result = run_module(dict(name="llm", version="1.32"))
        assert failed and "cannot be downgraded" in result["msg"]

    def test_failed_update_fails_with_its_errors(self, stub):
        stub.add_response("describe_cluster", described(), {"name": "llm"})
        stub.add_response("update_cluster_version", update("u-1", "InProgress"), {"name": "llm", "version": "1.33"})
        errors = [{"errorCode": "InsufficientFreeAddresses", "errorMessage": "subnet full", "resourceIds": ["subnet-a"]}]
        stub.add_response("describe_update", update("u-1", "Failed", errors=errors), {"name": "llm", "updateId": "u-1"})
        failed, result = run_module(dict(name="llm", version="1.33"))
        assert failed
        assert "cluster llm" in result["msg"]
        assert "InsufficientFreeAddresses: subnet full" in result["msg"]
        assert result["updates"][0]["status"] == "Failed"

    def test_encryption_associated_on_unencrypted_cluster(self, stub):
        stub.add_response("describe_cluster", described(), {"name": "llm"})
        stub.add_response(
            "associate_encryption_config",
            update("u-enc", "InProgress", "AssociateEncryptionConfig"),
            {"clusterName": "llm", "encryptionConfig": [{"resources": ["secrets"], "provider": {"keyArn": KEY1}}]},
        )
        stub.add_response("describe_update", update("u-enc", "Successful", "AssociateEncryptionConfig"), {"name": "llm", "updateId": "u-enc"})
        stub.add_response(
            "describe_cluster",
            described(encryptionConfig=[{"resources": ["secrets"], "provider": {"keyArn": KEY1}}]),
            {"name": "llm"},
        )
        failed, result = run_module(dict(name="llm", encryption_kms_key_arn=KEY1))
        assert not failed, result
        assert [u["type"] for u in result["updates"]] == ["AssociateEncryptionConfig"]
        assert result["cluster"]["encryption_config"][0]["provider"]["key_arn"] == KEY1

    def test_encryption_key_change_fails(self, stub):
        stub.add_response(
            "describe_cluster",
            described(encryptionConfig=[{"resources": ["secrets"], "provider": {"keyArn": KEY1}}]),
            {"name": "llm"},
        )
        failed, result = run_module(dict(name="llm", encryption_kms_key_arn=KEY2))
        assert failed
        assert "encryption_kms_key_arn" in result["msg"] and KEY1 in result["msg"] and KEY2 in result["msg"]

    def test_config_map_to_api_goes_through_both_modes(self, stub):
        stub.add_response("describe_cluster", described(accessConfig={"authenticationMode": "CONFIG_MAP"}), {"name": "llm"})
        for step, mode in ((1, "API_AND_CONFIG_MAP"), (2, "API")):
            update_id = "u-%d" % step
            stub.add_response(
                "update_cluster_config",
                update(update_id, "InProgress", "AccessConfigUpdate"),
                {"name": "llm", "accessConfig": {"authenticationMode": mode}},
            )
            stub.add_response("describe_update", update(update_id, "Successful", "AccessConfigUpdate"), {"name": "llm", "updateId": update_id})
        stub.add_response("describe_cluster", described(accessConfig={"authenticationMode": "API"}), {"name": "llm"})
        failed, result = run_module(dict(name="llm", authentication_mode="API"))
        assert not failed, result
        assert [u["id"] for u in result["updates"]] == ["u-1", "u-2"]
        assert result["cluster"]["access_config"]["authentication_mode"] == "API"

    def test_authentication_mode_back_to_config_map_fails(self, stub):
        stub.add_response("describe_cluster", described(accessConfig={"authenticationMode": "API"}), {"name": "llm"})
        failed, result = run_module(dict(name="llm", authentication_mode="CONFIG_MAP"))
        assert failed
        assert "from API to CONFIG_MAP" in result["msg"]

    def test_endpoint_and_upgrade_policy_updates_in_sequence(self, stub):
        stub.add_response("describe_cluster", described(), {"name": "llm"})
        stub.add_response(
            "update_cluster_config",
            update("u-ep", "InProgress", "EndpointAccessUpdate"),
            {"name": "llm", "resourcesVpcConfig": {"endpointPrivateAccess": True, "publicAccessCidrs": ["203.0.113.0/24"]}},
        )
        stub.add_response("describe_update", update("u-ep", "Successful", "EndpointAccessUpdate"), {"name": "llm", "updateId": "u-ep"})
        stub.add_response(
            "update_cluster_config",
            update("u-up", "Successful", "UpgradePolicyUpdate"),
            {"name": "llm", "upgradePolicy": {"supportType": "EXTENDED"}},
        )
        stub.add_response("describe_cluster", described(), {"name": "llm"})
        failed, result = run_module(
            dict(
                name="llm",
                endpoint_private_access=True,
                public_access_cidrs=["203.0.113.0/24"],
                upgrade_policy="EXTENDED",
            )
        )
        assert not failed, result
        assert [(u["id"], u["status"]) for u in result["updates"]] == [("u-ep", "Successful"), ("u-up", "Successful")]

    def test_check_mode_plans_upgrade_without_calling(self, stub):
        stub.add_response("describe_cluster", described(), {"name": "llm"})
        failed, result = run_module(dict(name="llm", version="1.33", logging=["api"]), check_mode=True)
        assert not failed
        assert result["changed"] is True
        assert [(u["type"], u["status"]) for u in result["updates"]] == [("LoggingUpdate", "Planned"), ("VersionUpdate", "Planned")]

    def test_creating_cluster_is_waited_for_then_updated(self, stub):
        stub.add_response("describe_cluster", described(status="CREATING"), {"name": "llm"})
        stub.add_response("describe_cluster", described(status="CREATING"), {"name": "llm"})
        stub.add_response("describe_cluster", described(status="ACTIVE"), {"name": "llm"})
        stub.add_response("describe_cluster", described(status="ACTIVE"), {"name": "llm"})
        stub.add_response(
            "update_cluster_config",
            update("u-log", "Successful", "LoggingUpdate"),
            {"name": "llm", "logging": utils.logging_payload(["api"])},
        )
        stub.add_response("describe_cluster", described(), {"name": "llm"})
        failed, result = run_module(dict(name="llm", logging=["api"], wait=True))
        assert not failed, result
        assert result["updates"][0]["type"] == "LoggingUpdate"

    def test_updating_cluster_without_wait_is_not_updated(self, stub):
        stub.add_response("describe_cluster", described(status="UPDATING"), {"name": "llm"})
        failed, result = run_module(dict(name="llm", version="1.33"))
        assert failed
        assert "only accepts updates on an ACTIVE cluster" in result["msg"]
        assert "VersionUpdate" in result["msg"]

    def test_api_error_is_reported_with_context(self, stub):
        stub.add_response("describe_cluster", described(), {"name": "llm"})
        stub.add_client_error(
            "update_cluster_version",
            service_error_code="InvalidRequestException",
            service_message="node groups must be upgraded first",
            expected_params={"name": "llm", "version": "1.33"},
        )
        failed, result = run_module(dict(name="llm", version="1.33"))
        assert failed
        assert result["msg"].startswith("Failed to start VersionUpdate of cluster llm")
        assert "node groups must be upgraded first" in result["msg"]

    def test_describe_error_other_than_missing_fails(self, stub):
        stub.add_client_error("describe_cluster", service_error_code="AccessDeniedException", service_message="nope")
        failed, result = run_module(dict(name="llm", state="absent"))
        assert failed
        assert "Failed to describe cluster" in result["msg"]


# ---------------------------------------------------------------------------
# EKS Auto Mode (tests/upstream/eks_auto_mode.json)
# ---------------------------------------------------------------------------

AUTO_ON = {"computeConfig": {"enabled": True, "nodePools": []}, "storageConfig": {"blockStorage": {"enabled": True}},
           "kubernetesNetworkConfig": {"elasticLoadBalancing": {"enabled": True}}}
NODE_ROLE = "arn:aws:iam::123456789012:role/llm-auto-node"


class TestAutoMode:
    def test_summary_reads_the_three_capabilities(self):
        cluster = described(**AUTO_ON)["cluster"]
        assert utils.auto_mode_summary(cluster) == {"enabled": True, "node_pools": [], "node_role_arn": None}
        assert utils.auto_mode_summary(described()["cluster"])["enabled"] is False
        mixed = dict(cluster, storageConfig={"blockStorage": {"enabled": False}})
        assert utils.auto_mode_summary(mixed)["enabled"] is None  # never equal to a wanted state: an update fixes it

    def test_create_request_sets_all_three(self):
        request = utils.cluster_create_request(dict(base_args(service_ipv4_cidr="10.100.0.0/16"), auto_mode={"enabled": True, "node_pools": []}))
        assert request["computeConfig"] == {"enabled": True, "nodePools": []}  # no nodeRoleArn without built-in pools
        assert request["storageConfig"] == {"blockStorage": {"enabled": True}}
        assert request["kubernetesNetworkConfig"] == {"serviceIpv4Cidr": "10.100.0.0/16", "elasticLoadBalancing": {"enabled": True}}
        assert "computeConfig" not in utils.cluster_create_request(base_args())

    @pytest.mark.parametrize("auto_mode, message", [
        ({"enabled": True, "node_pools": ["system"]}, "need auto_mode.node_role_arn"),
        ({"enabled": True, "node_pools": [], "node_role_arn": NODE_ROLE}, "only accepted with built-in"),
    ])
    def test_what_eks_refuses_is_refused_before_any_call(self, auto_mode, message):
        with pytest.raises(utils.PlanError) as refused:
            utils.cluster_create_request(dict(base_args(), auto_mode=auto_mode))
        assert message in str(refused.value)

    def test_enabling_on_an_existing_cluster_is_one_update(self):
        current = utils.cluster_summary(described()["cluster"])
        errors, plan = utils.plan_cluster_updates("llm", current, dict(auto_mode={"enabled": True, "node_pools": []}))
        assert errors == []
        assert plan == [{"type": "AutoModeUpdate", "method": "update_cluster_config", "kwargs": dict(AUTO_ON, name="llm")}]
        on = utils.cluster_summary(described(**AUTO_ON)["cluster"])
        assert utils.plan_cluster_updates("llm", on, dict(auto_mode={"enabled": True, "node_pools": []})) == ([], [])
        assert utils.plan_cluster_updates("llm", on, {})[1] == []  # not set: not compared
        errors, plan = utils.plan_cluster_updates("llm", on, dict(auto_mode={"enabled": False}))
        assert plan[0]["kwargs"]["computeConfig"] == {"enabled": False}
        assert plan[0]["kwargs"]["storageConfig"] == {"blockStorage": {"enabled": False}}

    def test_node_role_cannot_change_once_enabled(self):
        with_role = {**AUTO_ON, "computeConfig": {"enabled": True, "nodePools": ["system"], "nodeRoleArn": NODE_ROLE}}
        current = utils.cluster_summary(described(**with_role)["cluster"])
        wanted = {"enabled": True, "node_pools": ["system"], "node_role_arn": NODE_ROLE + "-2"}
        errors, plan = utils.plan_cluster_updates("llm", current, dict(auto_mode=wanted))
        assert plan == [] and "cannot be changed once Auto Mode compute is enabled" in errors[0]

    def test_create_check_mode_and_diff(self, aws):
        failed, result = run_module(base_args(auto_mode={"enabled": True}), check_mode=True, diff=True)
        assert not failed, result
        assert result["changed"] and aws.list_clusters()["clusters"] == []
        assert result["diff"]["after"]["auto_mode"] == {"enabled": True, "node_pools": [], "node_role_arn": None}

    def test_update_runs_one_auto_mode_update(self, stub):
        stub.add_response("describe_cluster", described(), {"name": "llm"})
        stub.add_response("update_cluster_config", update("u-1", "InProgress", "AutoModeUpdate"), dict(AUTO_ON, name="llm"))
        stub.add_response("describe_update", update("u-1", "Successful", "AutoModeUpdate"), {"name": "llm", "updateId": "u-1"})
        stub.add_response("describe_cluster", described(**AUTO_ON), {"name": "llm"})
        failed, result = run_module(dict(name="llm", auto_mode={"enabled": True}, wait=True), diff=True)
        assert not failed, result
        assert [u["type"] for u in result["updates"]] == ["AutoModeUpdate"]
        assert result["diff"]["before"]["auto_mode"]["enabled"] is False and result["diff"]["after"]["auto_mode"]["enabled"] is True
        assert result["cluster"]["compute_config"] == {"enabled": True, "node_pools": []}
        stub.assert_no_pending_responses()

    def test_check_mode_update_calls_nothing(self, stub):
        stub.add_response("describe_cluster", described(), {"name": "llm"})
        failed, result = run_module(dict(name="llm", auto_mode={"enabled": True}), check_mode=True)
        assert not failed and result["changed"]
        assert result["updates"] == [{"id": None, "type": "AutoModeUpdate", "status": "Planned", "params": []}]
        stub.assert_no_pending_responses()
