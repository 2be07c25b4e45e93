# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
"""Unit tests for eks_addon.

moto does not implement EKS add-ons, so the module runs against a real botocore
EKS client wrapped in a Stubber: every request (the waiters' polls included) is
checked against the EKS service model and against the parameters the test
expects.
"""

import datetime

import pytest

from ansible_collections.eks_llm.inference.plugins.module_utils import eks_cluster_resources
from ansible_collections.eks_llm.inference.plugins.modules import eks_addon as module_under_test
from ansible_collections.eks_llm.inference.tests.unit.plugins.modules.utils import REGION, ModuleRunner

CLUSTER = "llm"
ADDON = "vpc-cni"
ADDON_ARN = "arn:aws:eks:us-west-2:123456789012:addon/llm/vpc-cni/a1b2c3d4"
ROLE = "arn:aws:iam::123456789012:role/vpc-cni"
ASSOC_ID = "a-abcdefghijklmnop1"
ASSOC_ARN = "arn:aws:eks:us-west-2:123456789012:podidentityassociation/llm/" + ASSOC_ID
NOW = datetime.datetime(2025, 1, 1, 12, 0, tzinfo=datetime.timezone.utc)
KEYS = {"clusterName": CLUSTER, "addonName": ADDON}


RUN = ModuleRunner(module_under_test.main, region=REGION)


@pytest.fixture
def eks(stubbed_client):
    """The shared eks fixture, stricter: a waiter that polls more than once would sleep; the tests never want that."""
    return stubbed_client("eks", via="boto3_conn", sleep="forbid")


def run_module(client, args, check_mode=False, diff=False):  # pylint: disable=unused-argument
    """(result, failed); ``client`` is the stubbed one the eks fixture already gave the module."""
    return RUN.outcome(args, check_mode, diff)


def addon(**overrides):
    value = dict(
        addonName=ADDON,
        clusterName=CLUSTER,
        status="ACTIVE",
        addonVersion="v1.19.0-eksbuild.1",
        health={"issues": []},
        addonArn=ADDON_ARN,
        createdAt=NOW,
        modifiedAt=NOW,
        tags={},
        configurationValues="",
    )
    value.update(overrides)
    return value


def version_info(version, *compat):
    """An AddonVersionInfo; ``compat`` items are ``"1.31"`` or ``("1.31", True)`` for a default."""
    compatibilities = []
    for item in compat:
        cluster_version, default = item if isinstance(item, tuple) else (item, False)
        compatibilities.append({"clusterVersion": cluster_version, "platformVersions": ["*"], "defaultVersion": default})
    return {"addonVersion": version, "compatibilities": compatibilities}


VERSIONS = [
    {
        "addonName": ADDON,
        "type": "networking",
        "addonVersions": [
            version_info("v1.20.0-eksbuild.1", "1.31", "1.32"),
            version_info("v1.19.10-eksbuild.2", "1.30", ("1.31", True), "1.32"),
            version_info("v1.19.2-eksbuild.1", "1.30", "1.31"),
            version_info("v1.18.6-eksbuild.1", ("1.30", True)),
            version_info("v1.19.10-eksbuild.11", "1.31"),
        ],
    }
]


def expect_describe(stubber, found=None):
    if found is None:
        stubber.add_client_error(
            "describe_addon", service_error_code="ResourceNotFoundException", http_status_code=404, expected_params=KEYS
        )
    else:
        stubber.add_response("describe_addon", {"addon": found}, KEYS)


def expect_versions(stubber, cluster_version="1.31", pages=None):
    stubber.add_response("describe_cluster", {"cluster": {"name": CLUSTER, "version": cluster_version}}, {"name": CLUSTER})
    pages = pages or [VERSIONS]
    for index, page in enumerate(pages):
        response = {"addons": page}
        expected = {"addonName": ADDON, "kubernetesVersion": cluster_version}
        if index:
            expected["nextToken"] = "page%d" % index
        if index + 1 < len(pages):
            response["nextToken"] = "page%d" % (index + 1)
        stubber.add_response("describe_addon_versions", response, expected)


# ------------------------------------------------------------------ helpers


def test_version_key_orders_eksbuild_numbers():
    versions = ["v1.19.10-eksbuild.2", "v1.19.2-eksbuild.1", "v1.19.10-eksbuild.11", "v1.9.0"]
    assert sorted(versions, key=eks_cluster_resources.version_key) == [
        "v1.9.0",
        "v1.19.2-eksbuild.1",
        "v1.19.10-eksbuild.2",
        "v1.19.10-eksbuild.11",
    ]


def test_resolve_default_latest_and_explicit():
    resolve = eks_cluster_resources.resolve_addon_version
    assert resolve("default", ADDON, "1.31", VERSIONS) == "v1.19.10-eksbuild.2"
    assert resolve("latest", ADDON, "1.31", VERSIONS) == "v1.20.0-eksbuild.1"
    assert resolve("default", ADDON, "1.30", VERSIONS) == "v1.18.6-eksbuild.1"
    assert resolve("latest", ADDON, "1.30", VERSIONS) == "v1.19.10-eksbuild.2"
    assert resolve("v1.19.2-eksbuild.1", ADDON, "1.31", VERSIONS) == "v1.19.2-eksbuild.1"


def test_resolve_rejects_incompatible_version():
    with pytest.raises(ValueError, match="not compatible with Kubernetes 1.30") as error:
        eks_cluster_resources.resolve_addon_version("v1.20.0-eksbuild.1", ADDON, "1.30", VERSIONS)
    assert "v1.19.10-eksbuild.2" in str(error.value)


def test_resolve_without_default_or_any_version():
    with pytest.raises(ValueError, match="no default version for Kubernetes 1.32"):
        eks_cluster_resources.resolve_addon_version("default", ADDON, "1.32", VERSIONS)
    with pytest.raises(ValueError, match="no version compatible with Kubernetes 1.99"):
        eks_cluster_resources.resolve_addon_version("latest", ADDON, "1.99", VERSIONS)
    with pytest.raises(ValueError, match="no version compatible"):
        eks_cluster_resources.resolve_addon_version("latest", "coredns", "1.31", VERSIONS)


@pytest.mark.parametrize(
    "current, wanted, differs",
    [
        ('{"env": {"A": "1", "B": "2"}}', {"env": {"B": "2", "A": "1"}}, False),
        ('{"env":{"A":"1"}}', {"env": {"A": "2"}}, True),
        ('{"replicaCount": 2}', {"replicaCount": 2}, False),
        ('{"replicaCount": 2}', {"replicaCount": "2"}, True),
        ("replicaCount: 2\nenv:\n  A: '1'\n", {"env": {"A": "1"}, "replicaCount": 2}, False),
        ("", {}, False),
        (None, {}, False),
        ('{"a": 1}', {}, True),
        ("{not: [valid", {"a": 1}, True),
    ],
)
def test_configuration_differs(current, wanted, differs):
    assert eks_cluster_resources.configuration_differs(current, wanted) is differs


def test_association_pairs_ignore_order_and_duplicates():
    pairs = eks_cluster_resources.association_pairs(
        [
            {"service_account": "b", "role_arn": ROLE},
            {"service_account": "a", "role_arn": ROLE},
            {"service_account": "b", "role_arn": ROLE},
        ]
    )
    assert pairs == [("a", ROLE), ("b", ROLE)]


def test_health_summary():
    found = addon(health={"issues": [{"code": "InsufficientNumberOfReplicas", "message": "no nodes", "resourceIds": ["coredns"]}]})
    assert module_under_test.health_summary(found) == ["InsufficientNumberOfReplicas: no nodes (coredns)"]


# ------------------------------------------------------------- module runs


def test_create_latest_waits_until_active(eks):
    client, stubber = eks
    expect_describe(stubber)
    expect_versions(stubber, pages=[VERSIONS[:0], VERSIONS])  # the version list spans two pages
    created = addon(status="CREATING", addonVersion="v1.20.0-eksbuild.1", configurationValues='{"env": {"A": "1"}}',
                    tags={"team": "ml"})
    stubber.add_response(
        "create_addon",
        {"addon": created},
        dict(
            KEYS,
            addonVersion="v1.20.0-eksbuild.1",
            resolveConflicts="OVERWRITE",
            configurationValues='{"env": {"A": "1"}}',
            podIdentityAssociations=[{"serviceAccount": "aws-node", "roleArn": ROLE}],
            tags={"team": "ml"},
        ),
    )
    active = dict(created, status="ACTIVE", podIdentityAssociations=[ASSOC_ARN])
    stubber.add_response("describe_addon", {"addon": active}, KEYS)  # addon_active waiter
    stubber.add_response("describe_addon", {"addon": active}, KEYS)  # the state returned
    result, failed = run_module(
        client,
        dict(
            cluster_name=CLUSTER,
            name=ADDON,
            addon_version="latest",
            configuration_values={"env": {"A": "1"}},
            pod_identity_associations=[{"service_account": "aws-node", "role_arn": ROLE}],
            tags={"team": "ml"},
        ),
        diff=True,
    )
    assert not failed, result
    assert result["changed"] is True
    assert result["addon"]["status"] == "ACTIVE"
    assert result["addon"]["addon_version"] == "v1.20.0-eksbuild.1"
    assert result["diff"]["before"] == {}
    assert result["diff"]["after"]["configuration_values"] == {"env": {"A": "1"}}
    assert result["diff"]["after"]["pod_identity_associations"] == [{"service_account": "aws-node", "role_arn": ROLE}]


def test_create_without_version_or_wait(eks):
    client, stubber = eks
    expect_describe(stubber)
    stubber.add_response(
        "create_addon", {"addon": addon(status="CREATING")}, dict(KEYS, resolveConflicts="NONE")
    )
    result, failed = run_module(client, dict(cluster_name=CLUSTER, name=ADDON, resolve_conflicts="NONE", wait=False))
    assert not failed, result
    assert result["changed"] is True
    assert result["addon"]["status"] == "CREATING"


def test_incompatible_explicit_version_fails(eks):
    client, stubber = eks
    expect_describe(stubber)
    expect_versions(stubber, cluster_version="1.30")
    result, failed = run_module(client, dict(cluster_name=CLUSTER, name=ADDON, addon_version="v1.20.0-eksbuild.1"))
    assert failed
    assert "not compatible with Kubernetes 1.30" in result["msg"]


def test_second_run_is_unchanged(eks):
    client, stubber = eks
    current = addon(
        addonVersion="v1.19.2-eksbuild.1",
        configurationValues='{"env":{"B":"2","A":"1"}}',
        serviceAccountRoleArn=ROLE,
        podIdentityAssociations=[ASSOC_ARN],
        tags={"team": "ml"},
    )
    expect_describe(stubber, current)
    stubber.add_response(
        "describe_pod_identity_association",
        {"association": {"clusterName": CLUSTER, "namespace": "kube-system", "serviceAccount": "aws-node",
                         "roleArn": ROLE, "associationArn": ASSOC_ARN, "associationId": ASSOC_ID}},
        {"clusterName": CLUSTER, "associationId": ASSOC_ID},
    )
    result, failed = run_module(
        client,
        dict(
            cluster_name=CLUSTER,
            name=ADDON,
            addon_version="v1.19.2-eksbuild.1",  # equal to the installed one: no version look-up
            configuration_values={"env": {"A": "1", "B": "2"}},
            service_account_role_arn=ROLE,
            pod_identity_associations=[{"service_account": "aws-node", "role_arn": ROLE}],
            tags={"team": "ml"},
        ),
        diff=True,
    )
    assert not failed, result
    assert result["changed"] is False
    assert result["diff"]["before"] == result["diff"]["after"]


def test_default_does_not_downgrade(eks):
    client, stubber = eks
    expect_describe(stubber, addon(addonVersion="v1.20.0-eksbuild.1"))
    expect_versions(stubber)
    result, failed = run_module(client, dict(cluster_name=CLUSTER, name=ADDON, addon_version="default"))
    assert not failed, result
    assert result["changed"] is False


def test_update_version_and_configuration(eks):
    client, stubber = eks
    expect_describe(stubber, addon(configurationValues='{"env": {"A": "1"}}'))
    expect_versions(stubber)
    stubber.add_response(
        "update_addon",
        {"update": {"id": "u-1", "status": "InProgress", "type": "AddonUpdate"}},
        dict(
            KEYS,
            addonVersion="v1.19.10-eksbuild.2",
            configurationValues='{"env": {"A": "2"}}',
            resolveConflicts="PRESERVE",
        ),
    )
    stubber.add_response(
        "describe_update",
        {"update": {"id": "u-1", "status": "Successful", "type": "AddonUpdate"}},
        {"name": CLUSTER, "updateId": "u-1", "addonName": ADDON},
    )
    updated = addon(addonVersion="v1.19.10-eksbuild.2", configurationValues='{"env": {"A": "2"}}')
    stubber.add_response("describe_addon", {"addon": updated}, KEYS)  # addon_active waiter
    stubber.add_response("describe_addon", {"addon": updated}, KEYS)
    result, failed = run_module(
        client,
        dict(
            cluster_name=CLUSTER,
            name=ADDON,
            addon_version="default",
            configuration_values={"env": {"A": "2"}},
            resolve_conflicts="PRESERVE",
        ),
        diff=True,
    )
    assert not failed, result
    assert result["changed"] is True
    assert result["addon"]["addon_version"] == "v1.19.10-eksbuild.2"
    assert result["diff"]["before"]["configuration_values"] == {"env": {"A": "1"}}
    assert result["diff"]["after"]["configuration_values"] == {"env": {"A": "2"}}


def test_update_pod_identity_associations_and_tags(eks):
    client, stubber = eks
    expect_describe(stubber, addon(podIdentityAssociations=[ASSOC_ARN], tags={"old": "1"}))
    stubber.add_response(
        "describe_pod_identity_association",
        {"association": {"clusterName": CLUSTER, "namespace": "kube-system", "serviceAccount": "aws-node",
                         "roleArn": "arn:aws:iam::123456789012:role/old", "associationId": ASSOC_ID}},
        {"clusterName": CLUSTER, "associationId": ASSOC_ID},
    )
    stubber.add_response(
        "update_addon",
        {"update": {"id": "u-2", "status": "InProgress"}},
        dict(KEYS, podIdentityAssociations=[{"serviceAccount": "aws-node", "roleArn": ROLE}], resolveConflicts="OVERWRITE"),
    )
    stubber.add_response("describe_addon", {"addon": addon(status="UPDATING", tags={"old": "1"})}, KEYS)
    stubber.add_response("untag_resource", {}, {"resourceArn": ADDON_ARN, "tagKeys": ["old"]})
    stubber.add_response("tag_resource", {}, {"resourceArn": ADDON_ARN, "tags": {"new": "2"}})
    result, failed = run_module(
        client,
        dict(
            cluster_name=CLUSTER,
            name=ADDON,
            pod_identity_associations=[{"service_account": "aws-node", "role_arn": ROLE}],
            tags={"new": "2"},
            wait=False,
        ),
    )
    assert not failed, result
    assert result["changed"] is True
    assert result["addon"]["tags"] == {"new": "2"}


def test_failed_update_is_reported(eks):
    client, stubber = eks
    expect_describe(stubber, addon())
    stubber.add_response(
        "update_addon",
        {"update": {"id": "u-3", "status": "InProgress"}},
        dict(KEYS, serviceAccountRoleArn=ROLE, resolveConflicts="OVERWRITE"),
    )
    stubber.add_response(
        "describe_update",
        {"update": {"id": "u-3", "status": "Failed",
                    "errors": [{"errorCode": "AccessDenied", "errorMessage": "role not assumable"}]}},
        {"name": CLUSTER, "updateId": "u-3", "addonName": ADDON},
    )
    result, failed = run_module(client, dict(cluster_name=CLUSTER, name=ADDON, service_account_role_arn=ROLE))
    assert failed
    assert "AccessDenied: role not assumable" in result["msg"]


def test_degraded_after_create_fails_with_health_issues(eks):
    client, stubber = eks
    expect_describe(stubber)
    stubber.add_response("create_addon", {"addon": addon(status="CREATING")}, dict(KEYS, resolveConflicts="OVERWRITE"))
    degraded = addon(
        status="DEGRADED",
        health={"issues": [{"code": "InsufficientNumberOfReplicas", "message": "The add-on is unhealthy",
                            "resourceIds": ["coredns"]}]},
    )
    stubber.add_response("describe_addon", {"addon": degraded}, KEYS)
    result, failed = run_module(client, dict(cluster_name=CLUSTER, name=ADDON))
    assert failed
    assert "DEGRADED" in result["msg"]
    assert "InsufficientNumberOfReplicas: The add-on is unhealthy (coredns)" in result["msg"]
    assert result["health_issues"] == ["InsufficientNumberOfReplicas: The add-on is unhealthy (coredns)"]
    assert result["addon"]["status"] == "DEGRADED"


def test_create_failed_is_reported(eks):
    client, stubber = eks
    expect_describe(stubber)
    stubber.add_response("create_addon", {"addon": addon(status="CREATING")}, dict(KEYS, resolveConflicts="OVERWRITE"))
    stubber.add_response(
        "describe_addon",
        {"addon": addon(status="CREATE_FAILED", health={"issues": [{"code": "ConfigurationConflict", "message": "conflict"}]})},
        KEYS,
    )
    result, failed = run_module(client, dict(cluster_name=CLUSTER, name=ADDON))
    assert failed
    assert "CREATE_FAILED" in result["msg"] and "ConfigurationConflict: conflict" in result["msg"]


def test_wait_timeout_is_reported(eks):
    client, stubber = eks
    expect_describe(stubber, addon(status="CREATING"))
    stubber.add_response("describe_addon", {"addon": addon(status="CREATING")}, KEYS)
    # wait_timeout=0 gives the waiter a single attempt
    result, failed = run_module(client, dict(cluster_name=CLUSTER, name=ADDON, wait_timeout=0))
    assert failed
    assert "did not become ACTIVE" in result["msg"]


def test_error_while_waiting_is_reported(eks):
    client, stubber = eks
    expect_describe(stubber, addon(status="CREATING"))
    stubber.add_client_error(
        "describe_addon", service_error_code="AccessDeniedException", service_message="no describe", http_status_code=403,
        expected_params=KEYS,
    )
    result, failed = run_module(client, dict(cluster_name=CLUSTER, name=ADDON))
    assert failed
    assert result["msg"].startswith("Failed waiting for add-on vpc-cni")
    assert "no describe" in result["msg"]


def test_delete_with_preserve_waits_until_gone(eks):
    client, stubber = eks
    expect_describe(stubber, addon())
    stubber.add_response("delete_addon", {"addon": addon(status="DELETING")}, dict(KEYS, preserve=True))
    stubber.add_client_error(
        "describe_addon", service_error_code="ResourceNotFoundException", http_status_code=404, expected_params=KEYS
    )
    result, failed = run_module(client, dict(cluster_name=CLUSTER, name=ADDON, state="absent", preserve=True), diff=True)
    assert not failed, result
    assert result["changed"] is True
    assert result["addon"] == {}
    assert result["diff"]["after"] == {}


def test_delete_missing_is_unchanged(eks):
    client, stubber = eks
    expect_describe(stubber)
    result, failed = run_module(client, dict(cluster_name=CLUSTER, name=ADDON, state="absent"))
    assert not failed, result
    assert result["changed"] is False


def test_check_mode_create_resolves_but_does_not_create(eks):
    client, stubber = eks
    expect_describe(stubber)
    expect_versions(stubber)
    result, failed = run_module(
        client, dict(cluster_name=CLUSTER, name=ADDON, addon_version="default"), check_mode=True, diff=True
    )
    assert not failed, result
    assert result["changed"] is True
    assert result["addon"] == {}
    assert result["diff"]["after"]["addon_version"] == "v1.19.10-eksbuild.2"


def test_check_mode_update_and_delete(eks):
    client, stubber = eks
    expect_describe(stubber, addon())
    result, failed = run_module(
        client, dict(cluster_name=CLUSTER, name=ADDON, configuration_values={"a": 1}), check_mode=True
    )
    assert not failed, result
    assert result["changed"] is True
    assert result["addon"]["configuration_values"] == '{"a": 1}'

    expect_describe(stubber, addon())
    result, failed = run_module(client, dict(cluster_name=CLUSTER, name=ADDON, state="absent"), check_mode=True)
    assert not failed, result
    assert result["changed"] is True


# ------------------------------------------------------- several add-ons in one run


def test_addons_list_runs_each_entry_as_its_own_call_would(eks):
    """One run: an unchanged add-on, one created without waiting, one removed keeping its objects (preserve from the
    module), with the shared tags; each entry's result and diff are named."""
    client, stubber = eks
    other = {"clusterName": CLUSTER, "addonName": "coredns"}
    gone = {"clusterName": CLUSTER, "addonName": "kube-proxy"}
    expect_describe(stubber, addon(tags={"team": "ml"}))
    stubber.add_client_error("describe_addon", service_error_code="ResourceNotFoundException", http_status_code=404,
                             expected_params=other)
    stubber.add_response("create_addon", {"addon": addon(addonName="coredns", status="CREATING", tags={"team": "ml"})},
                         dict(other, resolveConflicts="OVERWRITE", configurationValues='{"replicaCount": 1}',
                              tags={"team": "ml"}))
    stubber.add_response("describe_addon", {"addon": addon(addonName="kube-proxy")}, gone)
    stubber.add_response("delete_addon", {"addon": addon(addonName="kube-proxy", status="DELETING")},
                         dict(gone, preserve=True))
    result, failed = run_module(
        client,
        dict(
            cluster_name=CLUSTER,
            addons=[
                dict(name=ADDON, addon_version="v1.19.0-eksbuild.1"),
                dict(name="coredns", configuration_values={"replicaCount": 1}),
                dict(name="kube-proxy", state="absent"),
            ],
            preserve=True,
            tags={"team": "ml"},
            wait=False,
        ),
        diff=True,
    )
    assert not failed, result
    assert result["changed"] is True
    assert [(entry["name"], entry["changed"]) for entry in result["addons"]] == [
        (ADDON, False), ("coredns", True), ("kube-proxy", True)]
    assert result["addons"][1]["addon"]["status"] == "CREATING"
    assert "addon" not in result
    assert [entry["before_header"] for entry in result["diff"]] == [ADDON, "coredns", "kube-proxy"]
    assert result["diff"][0]["before"] == result["diff"][0]["after"]
    assert result["diff"][2]["after"] == {}


def test_addons_list_failure_names_the_add_on(eks):
    client, stubber = eks
    expect_describe(stubber, addon())
    expect_versions(stubber, cluster_version="1.30")
    result, failed = run_module(
        client, dict(cluster_name=CLUSTER, addons=[dict(name=ADDON, addon_version="v1.20.0-eksbuild.1")]))
    assert failed
    assert result["entry"] == ADDON
    assert "not compatible with Kubernetes 1.30" in result["msg"]


@pytest.mark.parametrize("args, message", [
    (dict(cluster_name=CLUSTER), "one of the following is required: name, addons"),
    (dict(cluster_name=CLUSTER, name=ADDON, addons=[dict(name="coredns")]), "mutually exclusive: addons|name"),
    (dict(cluster_name=CLUSTER, addon_version="latest", addons=[dict(name="coredns")]),
     "mutually exclusive: addons|addon_version"),
])
def test_addons_list_or_one_add_on(args, message):
    result, failed = RUN.outcome(args)
    assert failed
    assert message in result["msg"]
