# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
"""Unit tests for eks_nodegroup and the node group half of eks_cluster_utils.

Planning helpers are tested as pure functions. Whole-module runs call
``eks_nodegroup.main()`` in-process: against moto for create, describe,
update_nodegroup_config and delete, and against a botocore Stubber for
UpdateNodegroupVersion, DescribeUpdate and node group tags (moto only tags
clusters).
"""

import datetime

import pytest

boto3 = pytest.importorskip("boto3")
moto = pytest.importorskip("moto")

from ansible_collections.eks_llm.inference.plugins.module_utils import eks_cluster_utils as utils  # noqa: E402
from ansible_collections.eks_llm.inference.plugins.modules import eks_nodegroup  # noqa: E402
from ansible_collections.eks_llm.inference.tests.unit.plugins.modules.utils import ModuleRunner  # noqa: E402

REGION = "us-west-2"
CLUSTER_ROLE = "arn:aws:iam::123456789012:role/eks-cluster"
NODE_ROLE = "arn:aws:iam::123456789012:role/eks-node"
NG_ARN = "arn:aws:eks:us-west-2:123456789012:nodegroup/llm/gpu/0000"
GPU_TAINT = {"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}


# ---------------------------------------------------------------------------
# Harness
# ---------------------------------------------------------------------------


RUN = ModuleRunner(eks_nodegroup.main, region=REGION)


def run_module(args, check_mode=False, diff=False):
    """(failed, result) of eks_nodegroup.main() with ``args``."""
    result, failed = RUN.outcome(args, check_mode, diff)
    return failed, result


@pytest.fixture(autouse=True)
def quick_polls(monkeypatch):
    monkeypatch.setattr(eks_nodegroup, "WAITER_DELAY", 1)
    monkeypatch.setattr(eks_nodegroup, "UPDATE_POLL_DELAY", 0)


@pytest.fixture
def aws():
    with moto.mock_aws():
        client = boto3.client("eks", region_name=REGION)
        client.create_cluster(name="llm", roleArn=CLUSTER_ROLE, resourcesVpcConfig={"subnetIds": ["subnet-a", "subnet-b"]})
        yield client


@pytest.fixture
def stub(stubbed_client):
    """The Stubber answering the EKS client the module uses."""
    return stubbed_client("eks")[1]


def gpu_args(**overrides):
    args = dict(
        name="gpu",
        cluster_name="llm",
        node_role_arn=NODE_ROLE,
        subnets=["subnet-a", "subnet-b"],
        instance_types=["g6e.xlarge"],
        ami_type="AL2023_x86_64_NVIDIA",
        capacity_type="ON_DEMAND",
        disk_size=200,
        scaling_config=dict(min_size=1, max_size=4, desired_size=2),
        labels={"nvidia.com/gpu.present": "true"},
        taints=[dict(GPU_TAINT)],
    )
    args.update(overrides)
    return args


def described(**overrides):
    nodegroup = {
        "nodegroupName": "gpu",
        "nodegroupArn": NG_ARN,
        "clusterName": "llm",
        "version": "1.32",
        "releaseVersion": "1.32.0-20250101",
        "createdAt": datetime.datetime(2025, 1, 1),
        "status": "ACTIVE",
        "capacityType": "ON_DEMAND",
        "scalingConfig": {"minSize": 1, "maxSize": 4, "desiredSize": 2},
        "instanceTypes": ["g6e.xlarge"],
        "subnets": ["subnet-a", "subnet-b"],
        "amiType": "AL2023_x86_64_NVIDIA",
        "nodeRole": NODE_ROLE,
        "labels": {"nvidia.com/gpu.present": "true"},
        "taints": [dict(GPU_TAINT)],
        "diskSize": 200,
        "updateConfig": {"maxUnavailable": 1},
        "tags": {"team": "ml"},
    }
    nodegroup.update(overrides)
    return {"nodegroup": nodegroup}


def update(update_id, status, update_type="VersionUpdate", errors=None):
    return {"update": {"id": update_id, "status": status, "type": update_type, "params": [], "errors": errors or []}}


IDS = {"clusterName": "llm", "nodegroupName": "gpu"}


# ---------------------------------------------------------------------------
# Pure helpers
# ---------------------------------------------------------------------------


class TestScalingPlan:
    current = {"minSize": 1, "maxSize": 4, "desiredSize": 3}

    def test_unmanaged(self):
        assert utils.scaling_plan(self.current, None) is None

    def test_same_bounds_no_change_even_if_desired_differs(self):
        # The autoscaler moved desired to 3; the task's 2 must not fight it.
        assert utils.scaling_plan(self.current, dict(min_size=1, max_size=4, desired_size=2)) is None

    def test_bounds_change_leaves_desired_alone_when_it_fits(self):
        assert utils.scaling_plan(self.current, dict(min_size=2, max_size=8, desired_size=2)) == {"minSize": 2, "maxSize": 8}

    def test_desired_below_new_min_uses_wanted_desired_when_it_fits(self):
        assert utils.scaling_plan(self.current, dict(min_size=5, max_size=8, desired_size=6)) == {
            "minSize": 5,
            "maxSize": 8,
            "desiredSize": 6,
        }

    def test_desired_above_new_max_is_clamped(self):
        assert utils.scaling_plan(self.current, dict(min_size=1, max_size=2, desired_size=None)) == {
            "minSize": 1,
            "maxSize": 2,
            "desiredSize": 2,
        }

    def test_wanted_desired_out_of_range_falls_back_to_clamp(self):
        assert utils.scaling_plan(self.current, dict(min_size=5, max_size=8, desired_size=1))["desiredSize"] == 5

    def test_force_desired(self):
        assert utils.scaling_plan(self.current, dict(min_size=1, max_size=4, desired_size=2), force_desired=True) == {
            "minSize": 1,
            "maxSize": 4,
            "desiredSize": 2,
        }

    def test_force_desired_already_equal(self):
        assert utils.scaling_plan(self.current, dict(min_size=1, max_size=4, desired_size=3), force_desired=True) is None

    def test_force_desired_out_of_range_is_an_error(self):
        with pytest.raises(utils.PlanError):
            utils.scaling_plan(self.current, dict(min_size=1, max_size=4, desired_size=9), force_desired=True)

    def test_min_above_max_is_an_error(self):
        with pytest.raises(utils.PlanError) as err:
            utils.scaling_plan(self.current, dict(min_size=5, max_size=2, desired_size=None))
        assert "min_size 5 is larger than max_size 2" in str(err.value)

    def test_only_max_given_keeps_current_min(self):
        assert utils.scaling_plan(self.current, dict(min_size=None, max_size=10, desired_size=None)) == {
            "minSize": 1,
            "maxSize": 10,
        }


class TestLabelsAndTaints:
    def test_labels_add_change_remove(self):
        assert utils.labels_diff({"a": "1", "b": "2", "c": "3"}, {"a": "1", "b": "20", "d": 4}) == {
            "addOrUpdateLabels": {"b": "20", "d": "4"},
            "removeLabels": ["c"],
        }

    def test_labels_equal_or_unmanaged(self):
        assert utils.labels_diff({"a": "1"}, {"a": "1"}) is None
        assert utils.labels_diff({"a": "1"}, None) is None

    def test_labels_empty_dict_removes_all(self):
        assert utils.labels_diff({"a": "1"}, {}) == {"removeLabels": ["a"]}

    def test_taint_value_change_is_an_update(self):
        payload = utils.taints_diff([GPU_TAINT], [dict(GPU_TAINT, value="false")])
        assert payload == {"addOrUpdateTaints": [{"key": "nvidia.com/gpu", "value": "false", "effect": "NO_SCHEDULE"}]}

    def test_taint_effect_change_adds_and_removes(self):
        payload = utils.taints_diff([GPU_TAINT], [dict(GPU_TAINT, effect="NO_EXECUTE")])
        assert payload["addOrUpdateTaints"][0]["effect"] == "NO_EXECUTE"
        assert payload["removeTaints"][0]["effect"] == "NO_SCHEDULE"

    def test_taints_equal_in_any_order(self):
        other = {"key": "dedicated", "effect": "NO_SCHEDULE"}
        assert utils.taints_diff([GPU_TAINT, other], [dict(other, value=None), GPU_TAINT]) is None

    def test_taints_empty_list_removes_all(self):
        assert utils.taints_diff([GPU_TAINT], []) == {"removeTaints": [GPU_TAINT]}


class TestNodegroupPlan:
    def plan(self, params, **overrides):
        full = dict(gpu_args(scaling_config=None, labels=None, taints=None))
        full.update(dict(update_config=None, version=None, release_version=None, launch_template=None, force_desired_size=False))
        full.update(params)
        return utils.plan_nodegroup_updates("llm", "gpu", described(**overrides)["nodegroup"], full)

    def test_matching_task_plans_nothing(self):
        errors, updates = self.plan(gpu_args(update_config=dict(max_unavailable=1, max_unavailable_percentage=None)))
        assert (errors, updates) == ([], [])

    @pytest.mark.parametrize(
        "field,value,shown",
        [
            ("instance_types", ["p5.48xlarge"], "['p5.48xlarge']"),
            ("ami_type", "BOTTLEROCKET_x86_64_NVIDIA", "BOTTLEROCKET_x86_64_NVIDIA"),
            ("capacity_type", "SPOT", "SPOT"),
            ("subnets", ["subnet-c"], "['subnet-c']"),
            ("disk_size", 500, "500"),
            ("node_role_arn", "arn:aws:iam::123456789012:role/other", "role/other"),
        ],
    )
    def test_immutable_field_names_field_and_both_values(self, field, value, shown):
        errors, updates = self.plan({field: value})
        assert updates == []
        assert len(errors) == 1
        assert errors[0].startswith("%s cannot be changed" % field)
        assert shown in errors[0]
        assert "current:" in errors[0] and "new node group" in errors[0]

    def test_instance_type_order_does_not_matter(self):
        errors, dummy = self.plan({"instance_types": ["b", "a"]}, instanceTypes=["a", "b"])
        assert errors == []

    def test_disk_size_string_from_api_compares_as_int(self):
        errors, dummy = self.plan({"disk_size": 20}, diskSize="20")
        assert errors == []

    def test_launch_template_id_change_is_an_error(self):
        errors, dummy = self.plan(
            {"launch_template": dict(id="lt-new", name=None, version="2")},
            launchTemplate={"id": "lt-old", "name": "gpu", "version": "1"},
        )
        assert any("launch_template.id" in e and "lt-old" in e and "lt-new" in e for e in errors)

    def test_launch_template_cannot_be_added(self):
        errors, dummy = self.plan({"launch_template": dict(id="lt-1", name=None, version="1")})
        assert any("launch_template cannot be added" in e for e in errors)

    def test_config_then_version_update(self):
        errors, updates = self.plan(
            dict(
                scaling_config=dict(min_size=2, max_size=6, desired_size=None),
                labels={"role": "gpu"},
                taints=[],
                update_config=dict(max_unavailable=None, max_unavailable_percentage=25),
                version="1.33",
                release_version="1.33.0-20250704",
            )
        )
        assert errors == []
        assert [u["method"] for u in updates] == ["update_nodegroup_config", "update_nodegroup_version"]
        config = updates[0]["kwargs"]
        assert config["scalingConfig"] == {"minSize": 2, "maxSize": 6}
        assert config["labels"] == {"addOrUpdateLabels": {"role": "gpu"}, "removeLabels": ["nvidia.com/gpu.present"]}
        assert config["taints"] == {"removeTaints": [GPU_TAINT]}
        assert config["updateConfig"] == {"maxUnavailablePercentage": 25}
        assert updates[1]["kwargs"] == dict(IDS, version="1.33", releaseVersion="1.33.0-20250704")

    def test_version_downgrade_is_an_error(self):
        errors, updates = self.plan({"version": "1.31"})
        assert updates == [] and "cannot be downgraded" in errors[0]

    def test_launch_template_version_update_keeps_the_template(self):
        errors, updates = self.plan(
            {"launch_template": dict(id=None, name="gpu", version="3")},
            launchTemplate={"id": "lt-1", "name": "gpu", "version": "2"},
        )
        assert errors == []
        assert updates[0]["kwargs"]["launchTemplate"] == {"id": "lt-1", "version": "3"}

    def test_launch_template_latest_is_not_compared(self):
        errors, updates = self.plan(
            {"launch_template": dict(id="lt-1", name=None, version="$Latest")},
            launchTemplate={"id": "lt-1", "name": "gpu", "version": "2"},
        )
        assert (errors, updates) == ([], [])

    def test_diff_reflects_planned_updates(self):
        params = gpu_args(scaling_config=dict(min_size=2, max_size=6, desired_size=None), labels={}, tags={"x": "y"}, purge_tags=True)
        params.update(update_config=None, version="1.33", release_version=None, launch_template=None, force_desired_size=False)
        current = described()["nodegroup"]
        dummy, updates = utils.plan_nodegroup_updates("llm", "gpu", current, params)
        diff = utils.nodegroup_diff(utils.nodegroup_summary(current), params, updates)
        assert diff["before"]["scaling_config"] == {"min_size": 1, "max_size": 4, "desired_size": 2}
        assert diff["after"]["scaling_config"] == {"min_size": 2, "max_size": 6, "desired_size": 2}
        assert diff["after"]["labels"] == {}
        assert diff["after"]["version"] == "1.33"
        assert diff["after"]["tags"] == {"x": "y"}
        assert diff["before"]["labels"] == {"nvidia.com/gpu.present": "true"}

    def test_create_request(self):
        params = gpu_args(
            scaling_config=dict(min_size=1, max_size=4, desired_size=None),
            capacity_type="CAPACITY_BLOCK",
            update_config=dict(max_unavailable=1, max_unavailable_percentage=None),
            launch_template=dict(id=None, name="gpu-cb", version="1"),
            version="1.33",
            release_version=None,
            tags={"a": "b"},
        )
        request = utils.nodegroup_create_request(params)
        assert request["scalingConfig"] == {"minSize": 1, "maxSize": 4, "desiredSize": 1}
        assert request["capacityType"] == "CAPACITY_BLOCK"
        assert request["amiType"] == "AL2023_x86_64_NVIDIA"
        assert request["updateConfig"] == {"maxUnavailable": 1}
        assert request["launchTemplate"] == {"name": "gpu-cb", "version": "1"}
        assert request["taints"] == [GPU_TAINT]
        assert "releaseVersion" not in request


# ---------------------------------------------------------------------------
# Whole module against moto
# ---------------------------------------------------------------------------


class TestModuleMoto:
    def test_create_gpu_nodegroup_then_idempotent(self, aws):
        failed, result = run_module(gpu_args(wait=True, tags={"app": "llm"}))
        assert not failed, result
        assert result["changed"] is True
        ng = result["nodegroup"]
        assert ng["status"] == "ACTIVE"
        assert ng["ami_type"] == "AL2023_x86_64_NVIDIA"
        assert ng["labels"] == {"nvidia.com/gpu.present": "true"}
        assert ng["taints"] == [GPU_TAINT]
        assert ng["scaling_config"] == {"min_size": 1, "max_size": 4, "desired_size": 2}
        assert ng["tags"] == {"app": "llm"}

        failed, result = run_module(gpu_args(wait=True, tags={"app": "llm"}))
        assert not failed, result
        assert result["changed"] is False
        assert result["updates"] == []

    def test_every_botocore_ami_type_is_accepted(self, aws):
        failed, result = run_module(gpu_args(name="neuron", ami_type="AL2023_x86_64_NEURON", instance_types=["inf2.xlarge"]))
        assert not failed, result
        assert aws.describe_nodegroup(clusterName="llm", nodegroupName="neuron")["nodegroup"]["amiType"] == "AL2023_x86_64_NEURON"

    def test_unknown_ami_type_fails_listing_the_known_ones(self, aws):
        failed, result = run_module(gpu_args(ami_type="AL2023_x86_64_QUANTUM"))
        assert failed
        assert "AL2023_x86_64_NVIDIA" in result["msg"] and "BOTTLEROCKET_x86_64_NVIDIA" in result["msg"]
        assert aws.list_nodegroups(clusterName="llm")["nodegroups"] == []

    def test_check_mode_create(self, aws):
        failed, result = run_module(gpu_args(), check_mode=True, diff=True)
        assert not failed
        assert result["changed"] is True
        assert result["diff"]["after"]["ami_type"] == "AL2023_x86_64_NVIDIA"
        assert aws.list_nodegroups(clusterName="llm")["nodegroups"] == []

    def test_scaling_change_keeps_autoscaler_desired(self, aws):
        run_module(gpu_args())
        # The autoscaler scaled to 3.
        aws.update_nodegroup_config(clusterName="llm", nodegroupName="gpu", scalingConfig={"desiredSize": 3})
        failed, result = run_module(gpu_args(scaling_config=dict(min_size=1, max_size=8, desired_size=2)))
        assert not failed, result
        assert result["changed"] is True
        assert [u["type"] for u in result["updates"]] == ["ConfigUpdate"]
        scaling = aws.describe_nodegroup(clusterName="llm", nodegroupName="gpu")["nodegroup"]["scalingConfig"]
        assert scaling == {"minSize": 1, "maxSize": 8, "desiredSize": 3}

    def test_force_desired_size(self, aws):
        run_module(gpu_args())
        failed, result = run_module(gpu_args(scaling_config=dict(min_size=1, max_size=4, desired_size=4), force_desired_size=True))
        assert not failed and result["changed"]
        assert aws.describe_nodegroup(clusterName="llm", nodegroupName="gpu")["nodegroup"]["scalingConfig"]["desiredSize"] == 4

    def test_labels_and_taints_reconciled(self, aws):
        run_module(gpu_args())
        new_taint = {"key": "dedicated", "value": "llm", "effect": "NO_EXECUTE"}
        failed, result = run_module(gpu_args(labels={"role": "inference"}, taints=[new_taint]), diff=True)
        assert not failed, result
        ng = aws.describe_nodegroup(clusterName="llm", nodegroupName="gpu")["nodegroup"]
        assert ng["labels"] == {"role": "inference"}
        assert ng["taints"] == [new_taint]
        assert result["diff"]["before"]["labels"] == {"nvidia.com/gpu.present": "true"}
        assert result["diff"]["after"]["labels"] == {"role": "inference"}

    def test_immutable_change_fails_and_changes_nothing(self, aws):
        run_module(gpu_args())
        failed, result = run_module(gpu_args(instance_types=["p5.48xlarge"], capacity_type="SPOT", labels={"x": "y"}))
        assert failed
        assert "instance_types cannot be changed" in result["msg"] and "g6e.xlarge" in result["msg"] and "p5.48xlarge" in result["msg"]
        assert "capacity_type cannot be changed" in result["msg"] and "ON_DEMAND" in result["msg"]
        ng = aws.describe_nodegroup(clusterName="llm", nodegroupName="gpu")["nodegroup"]
        assert ng["labels"] == {"nvidia.com/gpu.present": "true"}

    def test_check_mode_update_calls_nothing(self, aws):
        run_module(gpu_args())
        failed, result = run_module(gpu_args(scaling_config=dict(min_size=3, max_size=4)), check_mode=True)
        assert not failed
        assert result["changed"] is True
        assert result["updates"] == [{"id": None, "type": "ConfigUpdate", "status": "Planned", "params": []}]
        assert aws.describe_nodegroup(clusterName="llm", nodegroupName="gpu")["nodegroup"]["scalingConfig"]["minSize"] == 1

    def test_create_needs_role_and_subnets(self, aws):
        failed, result = run_module(dict(name="gpu", cluster_name="llm"))
        assert failed
        assert "node_role_arn and subnets" in result["msg"]

    def test_absent(self, aws):
        run_module(gpu_args())
        failed, result = run_module(dict(name="gpu", cluster_name="llm", state="absent"), check_mode=True)
        assert not failed and result["changed"]
        assert aws.list_nodegroups(clusterName="llm")["nodegroups"] == ["gpu"]

        failed, result = run_module(dict(name="gpu", cluster_name="llm", state="absent", wait=True))
        assert not failed, result
        assert result["changed"] is True
        assert result["nodegroup"]["nodegroup_name"] == "gpu"
        assert aws.list_nodegroups(clusterName="llm")["nodegroups"] == []

        failed, result = run_module(dict(name="gpu", cluster_name="llm", state="absent", wait=True))
        assert not failed
        assert result["changed"] is False

    def test_absent_when_cluster_is_missing(self, aws):
        failed, result = run_module(dict(name="gpu", cluster_name="nope", state="absent"))
        assert not failed
        assert result["changed"] is False


# ---------------------------------------------------------------------------
# Whole module against a Stubber
# ---------------------------------------------------------------------------


class TestModuleStubbed:
    def test_version_update_polled_to_success(self, stub):
        stub.add_response("describe_nodegroup", described(), IDS)
        stub.add_response("update_nodegroup_version", update("v-1", "InProgress"), dict(IDS, version="1.33"))
        stub.add_response("describe_update", update("v-1", "InProgress"), {"name": "llm", "nodegroupName": "gpu", "updateId": "v-1"})
        stub.add_response("describe_update", update("v-1", "Successful"), {"name": "llm", "nodegroupName": "gpu", "updateId": "v-1"})
        stub.add_response("describe_nodegroup", described(version="1.33"), IDS)
        failed, result = run_module(dict(name="gpu", cluster_name="llm", version="1.33"))
        assert not failed, result
        assert result["updates"] == [{"id": "v-1", "type": "VersionUpdate", "status": "Successful", "params": []}]
        assert result["nodegroup"]["version"] == "1.33"

    def test_failed_version_update_reports_errors(self, stub):
        stub.add_response("describe_nodegroup", described(), IDS)
        stub.add_response("update_nodegroup_version", update("v-1", "InProgress"), dict(IDS, version="1.33"))
        errors = [{"errorCode": "PodEvictionFailure", "errorMessage": "PDB blocks eviction", "resourceIds": []}]
        stub.add_response("describe_update", update("v-1", "Failed", errors=errors), {"name": "llm", "nodegroupName": "gpu", "updateId": "v-1"})
        failed, result = run_module(dict(name="gpu", cluster_name="llm", version="1.33"))
        assert failed
        assert "node group gpu of cluster llm" in result["msg"]
        assert "PodEvictionFailure: PDB blocks eviction" in result["msg"]
        assert result["updates"][0]["status"] == "Failed"

    def test_config_and_version_updates_run_in_order(self, stub):
        stub.add_response("describe_nodegroup", described(launchTemplate={"id": "lt-1", "name": "gpu", "version": "2"}), IDS)
        stub.add_response(
            "update_nodegroup_config",
            update("c-1", "InProgress", "ConfigUpdate"),
            dict(IDS, updateConfig={"maxUnavailablePercentage": 50}),
        )
        stub.add_response("describe_update", update("c-1", "Successful", "ConfigUpdate"), {"name": "llm", "nodegroupName": "gpu", "updateId": "c-1"})
        stub.add_response(
            "update_nodegroup_version",
            update("v-1", "InProgress"),
            dict(IDS, launchTemplate={"id": "lt-1", "version": "3"}),
        )
        stub.add_response("describe_update", update("v-1", "Successful"), {"name": "llm", "nodegroupName": "gpu", "updateId": "v-1"})
        stub.add_response("describe_nodegroup", described(), IDS)
        failed, result = run_module(
            dict(
                name="gpu",
                cluster_name="llm",
                update_config=dict(max_unavailable_percentage=50),
                launch_template=dict(id="lt-1", version="3"),
            )
        )
        assert not failed, result
        assert [u["id"] for u in result["updates"]] == ["c-1", "v-1"]

    def test_tags_reconciled_on_nodegroup_arn(self, stub):
        stub.add_response("describe_nodegroup", described(tags={"team": "ml", "old": "x"}), IDS)
        stub.add_response("untag_resource", {}, {"resourceArn": NG_ARN, "tagKeys": ["old"]})
        stub.add_response("tag_resource", {}, {"resourceArn": NG_ARN, "tags": {"team": "llm"}})
        stub.add_response("describe_nodegroup", described(tags={"team": "llm"}), IDS)
        failed, result = run_module(dict(name="gpu", cluster_name="llm", tags={"team": "llm"}))
        assert not failed, result
        assert result["changed"] is True
        assert result["updates"] == []
        assert result["nodegroup"]["tags"] == {"team": "llm"}

    def test_create_capacity_block_and_wait(self, stub):
        stub.add_client_error("describe_nodegroup", service_error_code="ResourceNotFoundException", service_message="no", http_status_code=404)
        request = {
            "clusterName": "llm",
            "nodegroupName": "gpu",
            "nodeRole": NODE_ROLE,
            "subnets": ["subnet-a"],
            "capacityType": "CAPACITY_BLOCK",
            "amiType": "AL2023_x86_64_NVIDIA",
            "instanceTypes": ["p5.48xlarge"],
            "launchTemplate": {"id": "lt-cb", "version": "1"},
            "scalingConfig": {"minSize": 0, "maxSize": 2, "desiredSize": 0},
        }
        stub.add_response("create_nodegroup", described(status="CREATING"), request)
        stub.add_response("describe_nodegroup", described(status="CREATING"), IDS)
        stub.add_response("describe_nodegroup", described(status="ACTIVE"), IDS)
        stub.add_response("describe_nodegroup", described(status="ACTIVE"), IDS)
        failed, result = run_module(
            dict(
                name="gpu",
                cluster_name="llm",
                node_role_arn=NODE_ROLE,
                subnets=["subnet-a"],
                capacity_type="CAPACITY_BLOCK",
                ami_type="AL2023_x86_64_NVIDIA",
                instance_types=["p5.48xlarge"],
                launch_template=dict(id="lt-cb", version="1"),
                scaling_config=dict(min_size=0, max_size=2),
                wait=True,
            )
        )
        assert not failed, result
        assert result["changed"] is True
        assert result["nodegroup"]["status"] == "ACTIVE"

    def test_create_failed_nodegroup_is_reported(self, stub):
        health = {"issues": [{"code": "AsgInstanceLaunchFailures", "message": "no capacity", "resourceIds": []}]}
        stub.add_response("describe_nodegroup", described(status="CREATE_FAILED", health=health), IDS)
        failed, result = run_module(dict(name="gpu", cluster_name="llm"))
        assert failed
        assert "CREATE_FAILED" in result["msg"] and "AsgInstanceLaunchFailures: no capacity" in result["msg"]

    def test_updating_without_wait_is_not_updated(self, stub):
        stub.add_response("describe_nodegroup", described(status="UPDATING"), IDS)
        failed, result = run_module(dict(name="gpu", cluster_name="llm", labels={}))
        assert failed
        assert "only accepts updates on an ACTIVE node group" in result["msg"]
