# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
"""eks_cluster_resources_drift_info in-process against moto with the AWS stand-in's extensions (conftest.py).

The node group, add-ons, access entries, OIDC provider and pod identity associations are made by the write modules
the eks_cluster role runs; every case is also put to those modules in check mode: the drift module must say
"drifted" for a resource exactly when its module would change it (or refuse to), so that the role can skip it.
"""

import json

import boto3
import pytest

from ansible_collections.eks_llm.inference.plugins.modules import eks_access_entry
from ansible_collections.eks_llm.inference.plugins.modules import eks_addon
from ansible_collections.eks_llm.inference.plugins.modules import eks_cluster_resources_drift_info as module_under_test
from ansible_collections.eks_llm.inference.plugins.modules import eks_nodegroup
from ansible_collections.eks_llm.inference.plugins.modules import eks_pod_identity_association
from ansible_collections.eks_llm.inference.plugins.modules import iam_oidc_provider
from ansible_collections.eks_llm.inference.tests.unit.plugins.modules.utils import REGION, ModuleRunner

NAME = "demo"
ACCOUNT_ROLE = "arn:aws:iam::123456789012:role/%s"
TAGS = {"eks-llm:deployment": NAME, "team": "ml"}
ADMIN = [{"policy_arn": "AmazonEKSClusterAdminPolicy", "access_scope": {"type": "cluster"}}]

DRIFT = ModuleRunner(module_under_test.main, region=REGION)
WRITE = {"nodegroup": ModuleRunner(eks_nodegroup.main, region=REGION), "addons": ModuleRunner(eks_addon.main, region=REGION),
         "access_entries": ModuleRunner(eks_access_entry.main, region=REGION),
         "oidc_provider": ModuleRunner(iam_oidc_provider.main, region=REGION),
         "pod_identity_associations": ModuleRunner(eks_pod_identity_association.main, region=REGION)}


@pytest.fixture(autouse=True)
def aws(standin_subnets):
    eks = boto3.client("eks", region_name=REGION)
    issuer = eks.create_cluster(name=NAME, version="1.33", roleArn=ACCOUNT_ROLE % "demo-cluster", resourcesVpcConfig={"subnetIds": standin_subnets},
                                accessConfig={"authenticationMode": "API"})["cluster"]["identity"]["oidc"]["issuer"]
    return dict(subnets=standin_subnets, issuer=issuer, eks=eks, iam=boto3.client("iam", region_name=REGION))


def wanted_resources(aws):
    """What the role's main.yml gives the write modules (their shared options apart: cluster name and tags)."""
    return {
        "nodegroup": dict(name=NAME + "-core", node_role_arn=ACCOUNT_ROLE % "demo-node", subnets=aws["subnets"], instance_types=["m6i.large"],
                          ami_type="AL2023_x86_64_STANDARD", capacity_type="ON_DEMAND", disk_size=50,
                          scaling_config=dict(min_size=2, max_size=4, desired_size=2), labels={"eks-llm/node-role": "core"}),
        "addons": [dict(name="coredns", addon_version="default"),
                   dict(name="aws-ebs-csi-driver", addon_version="default", configuration_values={"controller": {"extraVolumeTags": TAGS}},
                        pod_identity_associations=[dict(service_account="ebs-csi-controller-sa", role_arn=ACCOUNT_ROLE % "demo-ebs-csi")])],
        "access_entries": [dict(principal_arn=ACCOUNT_ROLE % "demo-karpenter-node", type="EC2_LINUX", access_policies=[]),
                           dict(principal_arn=ACCOUNT_ROLE % "admin", type="STANDARD", access_policies=ADMIN)],
        "oidc_provider": dict(url=aws["issuer"], client_ids=["sts.amazonaws.com"], state="present"),
        "pod_identity_associations": [dict(namespace="karpenter", service_account="karpenter", role_arn=ACCOUNT_ROLE % "demo-karpenter")],
    }


def write_tasks(wanted):
    """(part, module arguments) of each write task the role runs for ``wanted``."""
    shared = {"tags": TAGS}
    tasks = [("nodegroup", dict(wanted["nodegroup"], cluster_name=NAME, **shared)),
             ("addons", dict(cluster_name=NAME, addons=wanted["addons"], wait=False, **shared))]
    tasks += [("access_entries", dict(entry, cluster_name=NAME, **shared)) for entry in wanted["access_entries"]]
    tasks.append(("oidc_provider", dict(wanted["oidc_provider"], **shared)))
    tasks += [("pod_identity_associations", dict(item, cluster_name=NAME, **shared)) for item in wanted["pod_identity_associations"]]
    return tasks


def apply_with_write_modules(wanted):
    for part, arguments in write_tasks(wanted):
        WRITE[part](arguments)


def write_modules_would_change(wanted):
    """The parts some write module, in check mode, would change (or refuse)."""
    changed = set()
    for part, arguments in write_tasks(wanted):
        result, failed = WRITE[part].outcome(arguments, check_mode=True)
        if failed or result["changed"]:
            changed.add(part)
    return changed


def drift(wanted, check_mode=False):
    result = DRIFT(dict(wanted, cluster_name=NAME, tags=TAGS), check_mode=check_mode)
    assert result["changed"] is False
    return result


def drifted_parts(result):
    parts = set(part for part in ("nodegroup", "oidc_provider") if result[part]["drifted"])
    return parts | set(part for part in ("addons", "access_entries", "pod_identity_associations") if any(e["drifted"] for e in result[part]))


def reasons(result):
    found = [result[part]["reasons"] for part in ("nodegroup", "oidc_provider")]
    found += [entry["reasons"] for part in ("addons", "access_entries", "pod_identity_associations") for entry in result[part]]
    return [reason for entry in found for reason in entry]


def test_nothing_made_yet_everything_drifts(aws):
    result = drift(wanted_resources(aws))
    assert result["drifted"] is True and reasons(result) == ["missing"] * 7
    assert result["nodegroup"]["status"] == "" and [a["status"] for a in result["addons"]] == ["", ""]


def test_what_the_write_modules_made_does_not_drift_and_carries_the_statuses_and_the_provider(aws):
    wanted = wanted_resources(aws)
    apply_with_write_modules(wanted)
    result = drift(wanted, check_mode=True)
    assert result["drifted"] is False and reasons(result) == [], result
    assert result["nodegroup"]["status"] == "ACTIVE"
    assert [(a["name"], a["status"]) for a in result["addons"]] == [("coredns", "ACTIVE"), ("aws-ebs-csi-driver", "ACTIVE")]
    assert result["oidc_provider"]["arn"] == aws["iam"].list_open_id_connect_providers()["OpenIDConnectProviderList"][0]["Arn"]
    assert [e["principal_arn"] for e in result["access_entries"]] == [e["principal_arn"] for e in wanted["access_entries"]]
    assert result["pod_identity_associations"] == [dict(namespace="karpenter", service_account="karpenter", drifted=False, reasons=[])]
    assert write_modules_would_change(wanted) == set()


def _nodegroup_tag(aws):
    arn = aws["eks"].describe_nodegroup(clusterName=NAME, nodegroupName=NAME + "-core")["nodegroup"]["nodegroupArn"]
    aws["eks"].tag_resource(resourceArn=arn, tags={"team": "web"})


def _nodegroup_scaled_down(aws):
    aws["eks"].update_nodegroup_config(clusterName=NAME, nodegroupName=NAME + "-core", scalingConfig={"minSize": 1, "maxSize": 4, "desiredSize": 2})


def _addon_tag_added(aws):
    arn = aws["eks"].describe_addon(clusterName=NAME, addonName="coredns")["addon"]["addonArn"]
    aws["eks"].tag_resource(resourceArn=arn, tags={"owner": "someone"})


def _addon_configured(aws):
    aws["eks"].update_addon(clusterName=NAME, addonName="aws-ebs-csi-driver", configurationValues=json.dumps({"controller": {"replicaCount": 1}}))


def _admin_policy_removed(aws):
    aws["eks"].disassociate_access_policy(clusterName=NAME, principalArn=ACCOUNT_ROLE % "admin",
                                          policyArn="arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy")


def _access_entry_tag(aws):
    arn = aws["eks"].describe_access_entry(clusterName=NAME, principalArn=ACCOUNT_ROLE % "admin")["accessEntry"]["accessEntryArn"]
    aws["eks"].tag_resource(resourceArn=arn, tags={"team": "web"})


def _oidc_client_added(aws):
    arn = aws["iam"].list_open_id_connect_providers()["OpenIDConnectProviderList"][0]["Arn"]
    aws["iam"].add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="example")


def _oidc_tag_removed(aws):
    arn = aws["iam"].list_open_id_connect_providers()["OpenIDConnectProviderList"][0]["Arn"]
    aws["iam"].untag_open_id_connect_provider(OpenIDConnectProviderArn=arn, TagKeys=["team"])


def _association_role(aws):
    [summary] = aws["eks"].list_pod_identity_associations(clusterName=NAME, namespace="karpenter")["associations"]
    aws["eks"].update_pod_identity_association(clusterName=NAME, associationId=summary["associationId"], roleArn=ACCOUNT_ROLE % "other")


def _association_tag(aws):
    [summary] = aws["eks"].list_pod_identity_associations(clusterName=NAME, namespace="karpenter")["associations"]
    aws["eks"].tag_resource(resourceArn=summary["associationArn"], tags={"owner": "someone"})


def _set(path, value):
    """A change of the wanted resources: ``path`` into them, then ``value``."""
    def change(wanted):
        target = wanted
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return change


# (what happens after the write modules made everything, what changes in what is wanted, the drifting part, its one reason)
SINGLE_DIFFERENCES = {
    "node group scaling": (_nodegroup_scaled_down, None, "nodegroup", "scaling differs"),
    "node group scaling wanted": (None, _set(("nodegroup", "scaling_config", "max_size"), 6), "nodegroup", "scaling differs"),
    "node group labels wanted": (None, _set(("nodegroup", "labels"), {"eks-llm/node-role": "system"}), "nodegroup", "labels differ"),
    "node group taints wanted": (None, _set(("nodegroup", "taints"), [dict(key="dedicated", value="core", effect="NO_SCHEDULE")]),
                                 "nodegroup", "taints differ"),
    "node group tag": (_nodegroup_tag, None, "nodegroup", "tag team differs"),
    "node group instance types (refused)": (None, _set(("nodegroup", "instance_types"), ["m6i.xlarge"]), "nodegroup",
                                            "cannot be reconciled: "),
    "add-on version": (None, _set(("addons", 0, "addon_version"), "v1.12.4-eksbuild.1"), "addons", "version differs"),
    "add-on version not compatible": (None, _set(("addons", 0, "addon_version"), "v1.11.3-eksbuild.1"), "addons",
                                      "version cannot be resolved: "),
    "add-on configuration": (_addon_configured, None, "addons", "configuration differs"),
    "add-on configuration wanted": (None, _set(("addons", 1, "configuration_values"), {"controller": {"replicaCount": 1}}),
                                    "addons", "configuration differs"),
    "add-on pod identity role": (None, _set(("addons", 1, "pod_identity_associations", 0, "role_arn"), ACCOUNT_ROLE % "other"),
                                 "addons", "pod identity associations differ"),
    "add-on tag added, purged": (_addon_tag_added, None, "addons", "tag owner not wanted"),
    "access policy removed": (_admin_policy_removed, None, "access_entries",
                              "access policy arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy not associated as wanted"),
    "access policy scope wanted": (None, _set(("access_entries", 1, "access_policies"), [
        {"policy_arn": "AmazonEKSClusterAdminPolicy", "access_scope": {"type": "namespace", "namespaces": ["default"]}}]),
        "access_entries", "access policy arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy not associated as wanted"),
    "access policy not wanted": (None, _set(("access_entries", 1, "access_policies"), []), "access_entries",
                                 "access policy arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy associated, not wanted"),
    "access entry tag": (_access_entry_tag, None, "access_entries", "tag team differs"),
    "access entry type (refused)": (None, _set(("access_entries", 1, "type"), "EC2"), "access_entries", "type STANDARD, wanted EC2"),
    "OIDC client id added": (_oidc_client_added, None, "oidc_provider", "client id example not wanted"),
    "OIDC client id wanted": (None, _set(("oidc_provider", "client_ids"), ["sts.amazonaws.com", "example"]), "oidc_provider",
                              "client id example missing"),
    "OIDC tag removed": (_oidc_tag_removed, None, "oidc_provider", "tag team missing"),
    "OIDC provider not wanted": (None, _set(("oidc_provider", "state"), "absent"), "oidc_provider", "exists, not wanted"),
    "pod identity role": (_association_role, None, "pod_identity_associations", "roleArn differs"),
    "pod identity role wanted": (None, _set(("pod_identity_associations", 0, "role_arn"), ACCOUNT_ROLE % "other"),
                                 "pod_identity_associations", "roleArn differs"),
    "pod identity tag added, purged": (_association_tag, None, "pod_identity_associations", "tag owner not wanted"),
}


@pytest.mark.parametrize("case", sorted(SINGLE_DIFFERENCES))
def test_each_single_difference_drifts_and_is_named(aws, case):
    change, wanted_change, part, reason = SINGLE_DIFFERENCES[case]
    wanted = wanted_resources(aws)
    apply_with_write_modules(wanted)
    if change:
        change(aws)
    if wanted_change:
        wanted_change(wanted)
    result = drift(wanted)
    assert result["drifted"] is True and drifted_parts(result) == {part}, result
    [found] = reasons(result)
    assert found.startswith(reason) if reason.endswith(": ") else found == reason, found
    # and the write modules agree: that part's module has something to do, the others nothing
    assert write_modules_would_change(wanted) == {part}


def test_what_the_write_modules_leave_alone_does_not_drift(aws):
    """Policies of an entry not managed, purge off, an OIDC provider wanted absent that is gone."""
    wanted = wanted_resources(aws)
    apply_with_write_modules(wanted)
    _admin_policy_removed(aws)
    wanted["access_entries"][1]["access_policies"] = None
    wanted["oidc_provider"]["state"] = "absent"
    WRITE["oidc_provider"](dict(wanted["oidc_provider"], tags=TAGS))
    assert write_modules_would_change(wanted) == set()
    result = drift(wanted)
    assert result["drifted"] is False and result["oidc_provider"] == dict(drifted=False, arn=None, reasons=[])
