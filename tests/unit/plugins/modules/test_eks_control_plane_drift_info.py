# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
"""eks_control_plane_drift_info in-process against moto with the AWS stand-in's extensions (conftest.py).

The key, the log group and the cluster are made by the write modules the eks_cluster role runs (amazon.aws.kms_key,
amazon.aws.cloudwatchlogs_log_group, eks_llm.inference.eks_cluster); every case is also put to that module in check
mode: the drift module must say "drifted" exactly when it would change something (or refuse to), so that the role
can skip it whenever it says "not drifted".
"""

import json

import boto3
import pytest
from botocore.exceptions import ClientError

from ansible_collections.amazon.aws.plugins.modules import cloudwatchlogs_log_group
from ansible_collections.amazon.aws.plugins.modules import kms_key
from ansible_collections.eks_llm.inference.plugins.modules import eks_cluster
from ansible_collections.eks_llm.inference.plugins.modules import eks_control_plane_drift_info as module_under_test
from ansible_collections.eks_llm.inference.tests.unit.plugins.modules.utils import REGION, ModuleRunner

NAME = "demo"
TAGS = {"eks-llm:deployment": NAME, "team": "ml"}
ALIAS = "alias/%s-eks-secrets" % NAME
LOG_GROUP = "/aws/eks/%s/cluster" % NAME

DRIFT = ModuleRunner(module_under_test.main, region=REGION)
KMS_KEY = ModuleRunner(kms_key.main, region=REGION)
LOG_GROUP_MODULE = ModuleRunner(cloudwatchlogs_log_group.main, region=REGION)
EKS_CLUSTER = ModuleRunner(eks_cluster.main, region=REGION)


@pytest.fixture(autouse=True)
def aws(standin_subnets):
    role = boto3.client("iam", region_name=REGION).create_role(RoleName=NAME + "-cluster", AssumeRolePolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "eks.amazonaws.com"},
                                                 "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    return dict(subnets=standin_subnets, role_arn=role, kms=boto3.client("kms", region_name=REGION),
                logs=boto3.client("logs", region_name=REGION), eks=boto3.client("eks", region_name=REGION))


def key_options(**changes):
    """What the role's start.yml gives amazon.aws.kms_key."""
    options = dict(alias=ALIAS, description="Kubernetes secrets encryption for EKS cluster %s" % NAME, enable_key_rotation=True, tags=TAGS)
    options.update(changes)
    return options


def log_group_options(**changes):
    """What start.yml gives amazon.aws.cloudwatchlogs_log_group (with the drift module's name for log_group_name)."""
    options = dict(name=LOG_GROUP, retention=30, tags=TAGS)
    options.update(changes)
    return options


def cluster_options(aws, **changes):
    """What cluster.yml gives eks_llm.inference.eks_cluster (the encryption key apart: the drift module reads it)."""
    options = dict(name=NAME, version="1.33", role_arn=aws["role_arn"], subnets=aws["subnets"], endpoint_public_access=True,
                   endpoint_private_access=True, public_access_cidrs=["0.0.0.0/0"], logging=["api", "audit", "authenticator"],
                   authentication_mode="API", bootstrap_cluster_creator_admin_permissions=True, tags=TAGS)
    options.update(changes)
    return options


def log_group_module_options(options):
    return dict(log_group_name=options["name"], retention=options["retention"], tags=options["tags"],
                purge_tags=options.get("purge_tags", True))


def key_arn(aws):
    return aws["kms"].describe_key(KeyId=ALIAS)["KeyMetadata"]["Arn"]


def apply_with_write_modules(aws, key=None, log_group=None, cluster=None):
    """What start.yml does: the key, the log group, then the cluster encrypted with the key."""
    arn = KMS_KEY(key or key_options())["key_arn"]
    LOG_GROUP_MODULE(log_group_module_options(log_group or log_group_options()))
    EKS_CLUSTER(dict(cluster or cluster_options(aws), encryption_kms_key_arn=arn))


def given(options):
    """The options a task sets (one not set is left out of the module's arguments)."""
    return {key: value for key, value in options.items() if value is not None}


def write_modules_would_change(aws, key, log_group, cluster):
    """{part: whether its write module, in check mode, would change it (or fail: it would refuse)}."""
    changed = {"kms_key": KMS_KEY(given(key), check_mode=True)["changed"],
               "log_group": LOG_GROUP_MODULE(given(log_group_module_options(log_group)), check_mode=True)["changed"]}
    result, failed = EKS_CLUSTER.outcome(dict(given(cluster), encryption_kms_key_arn=key_arn(aws)), check_mode=True)
    changed["cluster"] = failed or result["changed"]
    return changed


def drift(key, log_group, cluster, check_mode=False):
    result = DRIFT({"kms_key": given(key), "log_group": given(log_group), "cluster": given(cluster)}, check_mode=check_mode)
    assert result["changed"] is False
    assert result["drifted"] is any(result[part]["drifted"] for part in ("kms_key", "log_group", "cluster"))
    return result


def test_nothing_exists_everything_drifts(aws):
    result = drift(key_options(), log_group_options(), cluster_options(aws))
    assert result["kms_key"] == {"drifted": True, "arn": None, "reasons": ["missing"]}
    assert result["log_group"] == {"drifted": True, "reasons": ["missing"]}
    assert result["cluster"] == {"drifted": True, "reasons": ["missing"], "description": {}}


def test_what_the_write_modules_made_does_not_drift_and_carries_what_the_role_publishes(aws):
    apply_with_write_modules(aws)
    result = drift(key_options(), log_group_options(), cluster_options(aws), check_mode=True)
    assert result["drifted"] is False
    assert result["kms_key"] == {"drifted": False, "arn": key_arn(aws), "reasons": []}
    assert result["log_group"] == {"drifted": False, "reasons": []}
    assert result["cluster"]["reasons"] == []
    # the description eks_cluster itself returns, which the role publishes as eks_cluster_started.cluster
    assert result["cluster"]["description"] == EKS_CLUSTER(dict(cluster_options(aws), encryption_kms_key_arn=key_arn(aws)))["cluster"]
    assert write_modules_would_change(aws, key_options(), log_group_options(), cluster_options(aws)) == {
        "kms_key": False, "log_group": False, "cluster": False}


def test_a_missing_key_makes_the_cluster_drift_too(aws):
    apply_with_write_modules(aws)
    aws["kms"].delete_alias(AliasName=ALIAS)
    result = drift(key_options(), log_group_options(), cluster_options(aws))
    assert result["kms_key"]["reasons"] == ["missing"]
    assert result["cluster"]["reasons"] == ["its secrets encryption key does not exist yet"]


def test_without_a_key_the_cluster_encryption_is_not_compared(aws):
    apply_with_write_modules(aws)
    result = DRIFT({"log_group": log_group_options(), "cluster": cluster_options(aws)})
    assert "kms_key" not in result and result["drifted"] is False


def _kms_tag_value(aws):
    aws["kms"].tag_resource(KeyId=key_arn(aws), Tags=[{"TagKey": "team", "TagValue": "web"}])


def _kms_tag_added(aws):
    aws["kms"].tag_resource(KeyId=key_arn(aws), Tags=[{"TagKey": "owner", "TagValue": "someone"}])


def _kms_rotation_off(aws):
    aws["kms"].disable_key_rotation(KeyId=key_arn(aws))


def _kms_description(aws):
    aws["kms"].update_key_description(KeyId=key_arn(aws), Description="edited by hand")


def _kms_disabled(aws):
    aws["kms"].disable_key(KeyId=key_arn(aws))


def _kms_pending_deletion(aws):
    aws["kms"].schedule_key_deletion(KeyId=key_arn(aws), PendingWindowInDays=7)


def _log_retention(aws):
    aws["logs"].put_retention_policy(logGroupName=LOG_GROUP, retentionInDays=7)


def _log_tag_value(aws):
    aws["logs"].tag_resource(resourceArn=log_group_arn(aws), tags={"team": "web"})


def _log_tag_added(aws):
    aws["logs"].tag_resource(resourceArn=log_group_arn(aws), tags={"owner": "someone"})


def log_group_arn(aws):
    return aws["logs"].describe_log_groups(logGroupNamePrefix=LOG_GROUP)["logGroups"][0]["arn"].rstrip("*").rstrip(":")


def _cluster_tag_value(aws):
    aws["eks"].tag_resource(resourceArn=aws["eks"].describe_cluster(name=NAME)["cluster"]["arn"], tags={"team": "web"})


def _cluster_tag_added(aws):
    aws["eks"].tag_resource(resourceArn=aws["eks"].describe_cluster(name=NAME)["cluster"]["arn"], tags={"owner": "someone"})


def _cluster_logging(aws):
    aws["eks"].update_cluster_config(name=NAME, logging={"clusterLogging": [{"types": ["audit"], "enabled": False}]})


# part -> (what happens after the write modules made everything, what is wanted then (part -> option changes), reason)
SINGLE_DIFFERENCES = {
    "key tag value": ("kms_key", _kms_tag_value, {}, "tag team differs"),
    "key tag added, purged": ("kms_key", _kms_tag_added, {}, "tag owner not wanted"),
    "key tag wanted": ("kms_key", None, {"tags": dict(TAGS, cost="42")}, "tag cost missing"),
    "key rotation": ("kms_key", _kms_rotation_off, {}, "key rotation off"),
    "key description": ("kms_key", _kms_description, {}, "description differs"),
    "key disabled": ("kms_key", _kms_disabled, {}, "state Disabled, not Enabled"),
    "key pending deletion": ("kms_key", _kms_pending_deletion, {}, "pending deletion"),
    "log retention": ("log_group", _log_retention, {}, "retention 7 days, wanted 30"),
    "log retention wanted": ("log_group", None, {"retention": 90}, "retention 30 days, wanted 90"),
    "log tag value": ("log_group", _log_tag_value, {}, "tag team differs"),
    "log tag added, purged": ("log_group", _log_tag_added, {}, "tag owner not wanted"),
    "cluster version": ("cluster", None, {"version": "1.34"}, "VersionUpdate"),
    "cluster version downgrade (refused)": ("cluster", None, {"version": "1.32"}, "cannot be reconciled: "),
    "cluster logging": ("cluster", _cluster_logging, {}, "LoggingUpdate"),
    "cluster logging wanted": ("cluster", None, {"logging": ["api"]}, "LoggingUpdate"),
    "cluster public access cidrs": ("cluster", None, {"public_access_cidrs": ["192.0.2.0/24"]}, "EndpointAccessUpdate"),
    "cluster tag value": ("cluster", _cluster_tag_value, {}, "tag team differs"),
    "cluster tag added, purged": ("cluster", _cluster_tag_added, {}, "tag owner not wanted"),
    "cluster tag wanted": ("cluster", None, {"tags": dict(TAGS, cost="42")}, "tag cost missing"),
}


@pytest.mark.parametrize("case", sorted(SINGLE_DIFFERENCES))
def test_each_single_difference_drifts_and_is_named(aws, case):
    part, change, wanted_changes, reason = SINGLE_DIFFERENCES[case]
    apply_with_write_modules(aws)
    if change:
        change(aws)
    wanted = {"kms_key": key_options(), "log_group": log_group_options(), "cluster": cluster_options(aws)}
    wanted[part].update(wanted_changes)
    result = drift(wanted["kms_key"], wanted["log_group"], wanted["cluster"])
    assert [p for p in ("kms_key", "log_group", "cluster") if result[p]["drifted"]] == [part], result
    [found] = result[part]["reasons"]
    assert found.startswith(reason) if reason.endswith(": ") else found == reason, found
    # and the write modules agree: this one has something to do, the others nothing
    assert write_modules_would_change(aws, wanted["kms_key"], wanted["log_group"], wanted["cluster"]) == {
        p: p == part for p in ("kms_key", "log_group", "cluster")}


# what the write modules leave alone: purge off, options not set
NO_DIFFERENCE = {
    "key tag added, purge_tags false": ("kms_key", _kms_tag_added, {"purge_tags": False}),
    "log tag added, purge_tags false": ("log_group", _log_tag_added, {"purge_tags": False}),
    "log retention not set": ("log_group", _log_retention, {"retention": None}),
    "cluster tags not set": ("cluster", _cluster_tag_added, {"tags": None}),
    "cluster logging not set": ("cluster", _cluster_logging, {"logging": None}),
}


@pytest.mark.parametrize("case", sorted(NO_DIFFERENCE))
def test_what_the_write_modules_leave_alone_does_not_drift(aws, case):
    part, change, wanted_changes = NO_DIFFERENCE[case]
    apply_with_write_modules(aws)
    change(aws)
    wanted = {"kms_key": key_options(), "log_group": log_group_options(), "cluster": cluster_options(aws)}
    wanted[part].update(wanted_changes)
    assert write_modules_would_change(aws, wanted["kms_key"], wanted["log_group"], wanted["cluster"]) == {
        "kms_key": False, "log_group": False, "cluster": False}
    assert drift(wanted["kms_key"], wanted["log_group"], wanted["cluster"])["drifted"] is False


def test_a_refused_read_fails_with_the_aws_error(aws, monkeypatch):
    def refused(client, wanted):
        raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "not authorized"}}, "DescribeLogGroups")
    monkeypatch.setattr(module_under_test, "log_group_drift", refused)
    failed = DRIFT.failing({"log_group": given(log_group_options()), "cluster": given(cluster_options(aws))})
    assert failed["msg"].startswith("Failed to read the cluster's control plane: ") and "not authorized" in failed["msg"]
    assert failed["error"]["code"] == "AccessDeniedException"
