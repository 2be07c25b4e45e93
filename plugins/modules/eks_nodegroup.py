#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE), which is compatible with the
# GNU General Public License v3.0 that Ansible itself is distributed under.

DOCUMENTATION = r"""
---
module: eks_nodegroup
version_added: 0.1.0
short_description: Create, update and delete Amazon EKS managed node groups
description:
  - Creates an EKS managed node group, reconciles an existing one, or deletes it.
  - Accepts every AMI type botocore knows, including the GPU types
    V(AL2023_x86_64_NVIDIA), V(AL2023_ARM_64_NVIDIA) and
    V(BOTTLEROCKET_x86_64_NVIDIA), and the capacity type V(CAPACITY_BLOCK).
  - On an existing node group labels, taints, scaling and the update strategy
    are changed with one C(UpdateNodegroupConfig) call, and the Kubernetes
    version, AMI release version and launch template version with one
    C(UpdateNodegroupVersion) call. Each update is followed with
    C(DescribeUpdate) until it is V(Successful); a V(Failed) or V(Cancelled)
    update fails the task with the errors EKS reported.
  - Options that are not set are not managed.
  - Fields EKS cannot change in place (O(node_role_arn), O(subnets),
    O(instance_types), O(ami_type), O(capacity_type), O(disk_size), the launch
    template id or name) fail before anything is changed, naming the field and
    both values. Replace the node group instead.
  - Updates of an existing node group are always followed to completion,
    whatever O(wait) says; the whole run is bounded by O(wait_timeout).
author:
  - eks_llm maintainers (@eks-llm)
options:
  name:
    description:
      - Name of the node group.
    required: true
    type: str
  cluster_name:
    description:
      - Name of the EKS cluster the node group belongs to.
    required: true
    type: str
  state:
    description:
      - V(present) creates or updates the node group, V(absent) deletes it.
    choices: [present, absent]
    default: present
    type: str
  node_role_arn:
    description:
      - ARN of the IAM role of the nodes. Required to create a node group; cannot be changed.
    aliases: [node_role]
    type: str
  subnets:
    description:
      - IDs of the subnets the nodes are launched in. Required to create a node group;
        cannot be changed. Order does not matter.
    type: list
    elements: str
  instance_types:
    description:
      - EC2 instance types of the nodes, for example V(g6e.xlarge). Cannot be changed.
        Order does not matter. Leave it out when the launch template sets the instance type.
    type: list
    elements: str
  ami_type:
    description:
      - AMI type of the nodes. Any value of the C(AMITypes) enum of the installed
        botocore, for example V(AL2023_x86_64_STANDARD), V(AL2023_x86_64_NVIDIA),
        V(AL2023_ARM_64_NVIDIA), V(AL2023_x86_64_NEURON), V(BOTTLEROCKET_x86_64_NVIDIA)
        or V(CUSTOM) (AMI from the launch template). Cannot be changed.
      - An unknown value fails and lists the values botocore knows.
    type: str
  capacity_type:
    description:
      - Purchase option of the nodes. Cannot be changed.
      - V(CAPACITY_BLOCK) needs a launch template that targets a capacity reservation.
    choices: [ON_DEMAND, SPOT, CAPACITY_BLOCK]
    type: str
  scaling_config:
    description:
      - Size of the node group.
      - O(scaling_config.min_size) and O(scaling_config.max_size) are always reconciled.
      - O(scaling_config.desired_size) is set on creation. On an existing node group it
        belongs to the cluster autoscaler and is only changed when the current desired
        size falls outside the new bounds (then O(scaling_config.desired_size) is used
        when it fits, else the nearest bound), or when O(force_desired_size=true).
    type: dict
    suboptions:
      min_size:
        description: Minimum number of nodes.
        type: int
      max_size:
        description: Maximum number of nodes.
        type: int
      desired_size:
        description: Desired number of nodes. Defaults to O(scaling_config.min_size) on creation.
        type: int
  force_desired_size:
    description:
      - Set O(scaling_config.desired_size) on an existing node group even when the
        current desired size is within bounds. Leave V(false) when an autoscaler
        manages the node group.
    type: bool
    default: false
  disk_size:
    description:
      - Root volume size in GiB. Cannot be changed. Leave it out with a launch template.
    type: int
  labels:
    description:
      - Kubernetes labels of the nodes. When set, the node group gets exactly these
        labels (missing ones are removed).
    type: dict
  taints:
    description:
      - Kubernetes taints of the nodes. When set, the node group gets exactly these
        taints; a taint is identified by its key and effect.
    type: list
    elements: dict
    suboptions:
      key:
        description: Taint key.
        type: str
        required: true
      value:
        description: Taint value.
        type: str
      effect:
        description: Taint effect.
        type: str
        required: true
        choices: [NO_SCHEDULE, NO_EXECUTE, PREFER_NO_SCHEDULE]
  update_config:
    description:
      - How many nodes may be unavailable during a node group update.
    type: dict
    suboptions:
      max_unavailable:
        description: Number of nodes.
        type: int
      max_unavailable_percentage:
        description: Percentage of nodes.
        type: int
  version:
    description:
      - Kubernetes version of the nodes, as C(MAJOR.MINOR) (quote it in YAML).
        Defaults to the cluster version on creation.
      - A higher version than the current one starts a version update; a lower one fails.
    type: str
  release_version:
    description:
      - AMI release version, for example V(1.33.0-20250704). A different value
        starts a version update.
    type: str
  launch_template:
    description:
      - Launch template of the nodes. The template id or name cannot be changed;
        a different O(launch_template.version) starts a version update.
      - V($Latest) and V($Default) are passed on creation. EKS records the version
        number they resolve to, so they are not compared on an existing node group;
        use a version number to roll out a new template version.
    type: dict
    suboptions:
      id:
        description: ID of the launch template.
        type: str
      name:
        description: Name of the launch template.
        type: str
      version:
        description: Version of the launch template.
        type: str
  wait:
    description:
      - Wait for a new node group to become V(ACTIVE), for an existing one in
        V(CREATING) or V(UPDATING) to settle, and for a deleted one to be gone.
    default: false
    type: bool
  wait_timeout:
    description:
      - Seconds the whole task may wait, for waiting and for following updates.
    default: 1200
    type: int
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
notes:
  - Tags are reconciled on existing node groups with C(TagResource) and C(UntagResource).
  - In check mode nothing is changed; RV(updates) lists the updates that would be started.
"""

EXAMPLES = r"""
- name: GPU node group with the AL2023 NVIDIA AMI
  eks_llm.inference.eks_nodegroup:
    name: gpu-l40s
    cluster_name: llm
    node_role_arn: arn:aws:iam::123456789012:role/llm-eks-node
    subnets:
      - subnet-0a1b2c3d4e5f60001
      - subnet-0a1b2c3d4e5f60002
    instance_types: [g6e.xlarge]
    ami_type: AL2023_x86_64_NVIDIA
    capacity_type: ON_DEMAND
    disk_size: 200
    scaling_config:
      min_size: 1
      max_size: 4
      desired_size: 1
    labels:
      nvidia.com/gpu.present: "true"
    taints:
      - key: nvidia.com/gpu
        value: "true"
        effect: NO_SCHEDULE
    update_config:
      max_unavailable: 1
    tags:
      app.kubernetes.io/part-of: llm-inference
    wait: true

- name: Raise the maximum size; the autoscaler keeps the desired size
  eks_llm.inference.eks_nodegroup:
    name: gpu-l40s
    cluster_name: llm
    scaling_config:
      min_size: 1
      max_size: 8

- name: Roll the nodes to the Kubernetes version of the upgraded cluster
  eks_llm.inference.eks_nodegroup:
    name: gpu-l40s
    cluster_name: llm
    version: "1.34"
    wait_timeout: 3600

- name: Delete the node group
  eks_llm.inference.eks_nodegroup:
    name: gpu-l40s
    cluster_name: llm
    state: absent
    wait: true
"""

RETURN = r"""
nodegroup:
  description:
    - The node group as C(DescribeNodegroup) reports it, keys in snake_case
      (tag and label keys unchanged).
    - Empty when the node group does not exist, or would only be created in check mode.
    - After O(state=absent) the node group as the delete call returned it.
  returned: always
  type: dict
  contains:
    nodegroup_name:
      description: Name of the node group.
      type: str
      sample: gpu-l40s
    nodegroup_arn:
      description: ARN of the node group.
      type: str
    cluster_name:
      description: Name of the cluster.
      type: str
      sample: llm
    status:
      description: Status of the node group.
      type: str
      sample: ACTIVE
    version:
      description: Kubernetes version of the nodes.
      type: str
      sample: "1.33"
    release_version:
      description: AMI release version.
      type: str
      sample: 1.33.0-20250704
    ami_type:
      description: AMI type.
      type: str
      sample: AL2023_x86_64_NVIDIA
    capacity_type:
      description: Capacity type.
      type: str
      sample: ON_DEMAND
    instance_types:
      description: Instance types.
      type: list
      elements: str
      sample: [g6e.xlarge]
    subnets:
      description: Subnets of the nodes.
      type: list
      elements: str
    node_role:
      description: IAM role of the nodes.
      type: str
    disk_size:
      description: Root volume size in GiB.
      type: int
    scaling_config:
      description: Scaling configuration.
      type: dict
      sample:
        min_size: 1
        max_size: 4
        desired_size: 1
    labels:
      description: Kubernetes labels.
      type: dict
    taints:
      description: Kubernetes taints.
      type: list
      elements: dict
      sample:
        - key: nvidia.com/gpu
          value: "true"
          effect: NO_SCHEDULE
    update_config:
      description: Update strategy.
      type: dict
      sample:
        max_unavailable: 1
    launch_template:
      description: Launch template (id, name, version) when one is used.
      type: dict
    resources:
      description: Auto Scaling groups and remote access security group.
      type: dict
    health:
      description: Health issues reported by EKS.
      type: dict
    tags:
      description: Tags of the node group.
      type: dict
updates:
  description:
    - The updates started by this run, in order. In check mode the updates that
      would be started, with RV(updates[].id) null and RV(updates[].status) V(Planned).
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Update ID.
      type: str
    type:
      description: Update type, V(ConfigUpdate) or V(VersionUpdate).
      type: str
      sample: ConfigUpdate
    status:
      description: Final status of the update.
      type: str
      sample: Successful
    params:
      description: Parameters of the update as EKS reports them.
      type: list
      elements: dict
"""

import time

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags

from ansible_collections.eks_llm.inference.plugins.module_utils.common import AnsibleEKSModule
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_utils import PlanError
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_utils import UPDATE_POLL_DELAY
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_utils import WAITER_DELAY
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_utils import call_api
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_utils import describe_nodegroup
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_utils import describe_to_ansible
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_utils import fail_with
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_utils import known_ami_types
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_utils import nodegroup_create_request
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_utils import nodegroup_diff
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_utils import nodegroup_summary
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_utils import plan_nodegroup_updates
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_utils import reconcile_tags
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_utils import run_updates
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_utils import run_waiter
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_utils import update_record

SETTLING = ("CREATING", "UPDATING")
UPDATABLE = ("ACTIVE", "DEGRADED")


def ansible_nodegroup(nodegroup):
    return describe_to_ansible(nodegroup, ignore_list=["tags", "labels"])


class NodegroupManager:
    def __init__(self, module, client):
        self.module = module
        self.client = client
        self.params = module.params
        self.name = module.params["name"]
        self.cluster_name = module.params["cluster_name"]
        self.what = "node group %s of cluster %s" % (self.name, self.cluster_name)
        self.deadline = time.monotonic() + module.params["wait_timeout"]
        self.updates = []

    def fail(self, error):
        fail_with(self.module, error, updates=self.updates)

    def exit(self, changed, nodegroup, diff=None):
        result = {"changed": changed, "nodegroup": ansible_nodegroup(nodegroup), "updates": self.updates}
        if diff is not None and self.module._diff:
            result["diff"] = diff
        self.module.exit_json(**result)

    def describe(self):
        return describe_nodegroup(self.client, self.cluster_name, self.name)

    def wait(self, waiter_name, state_text):
        try:
            run_waiter(
                self.client, waiter_name, self.deadline, WAITER_DELAY, clusterName=self.cluster_name, nodegroupName=self.name
            )
        except AnsibleAWSError as e:
            e.message = "The %s did not %s within wait_timeout" % (self.what, state_text)
            raise

    def validate_ami_type(self):
        ami_type = self.params.get("ami_type")
        if ami_type is None:
            return
        known = known_ami_types(self.client)
        if known and ami_type not in known:
            self.module.fail_json(
                msg="ami_type %s is not an EKS AMI type known to botocore; use one of: %s" % (ami_type, ", ".join(known)),
                nodegroup={},
                updates=[],
            )

    # state=present -----------------------------------------------------

    def create(self):
        missing = [opt for opt in ("node_role_arn", "subnets") if not self.params.get(opt)]
        if missing:
            self.module.fail_json(
                msg="The %s does not exist and cannot be created without %s" % (self.what, " and ".join(missing)),
                nodegroup={},
                updates=[],
            )
        try:
            request = nodegroup_create_request(self.params)
        except PlanError as e:
            self.module.fail_json(msg=str(e), nodegroup={}, updates=[])
        diff = nodegroup_diff({}, self.params, [])
        if self.module.check_mode:
            self.exit(True, {}, diff)
        nodegroup = call_api(self.client, "create_nodegroup", "create %s" % self.what, **request)["nodegroup"]
        if self.params["wait"]:
            self.wait("nodegroup_active", "become ACTIVE")
            nodegroup = self.describe() or nodegroup
        self.exit(True, nodegroup, diff)

    def present(self):
        self.validate_ami_type()
        nodegroup = self.describe()
        if nodegroup is None:
            return self.create()

        status = nodegroup.get("status")
        if status == "DELETING":
            self.module.fail_json(
                msg="The %s is being deleted; wait for the deletion to finish before creating it again" % self.what,
                nodegroup=ansible_nodegroup(nodegroup),
                updates=[],
            )
        if status in ("CREATE_FAILED", "DELETE_FAILED"):
            issues = ((nodegroup.get("health") or {}).get("issues")) or []
            self.module.fail_json(
                msg="The %s is in status %s (%s); delete it (state=absent) and create it again"
                % (
                    self.what,
                    status,
                    "; ".join("%s: %s" % (i.get("code"), i.get("message")) for i in issues) or "no health issues reported",
                ),
                nodegroup=ansible_nodegroup(nodegroup),
                updates=[],
            )
        if status in SETTLING and self.params["wait"]:
            self.wait("nodegroup_active", "become ACTIVE")
            nodegroup = self.describe()

        before = nodegroup_summary(nodegroup)
        errors, plan = plan_nodegroup_updates(self.cluster_name, self.name, nodegroup, self.params)
        if errors:
            self.module.fail_json(
                msg="Cannot reconcile %s: %s" % (self.what, "; ".join(errors)),
                errors=errors,
                nodegroup=ansible_nodegroup(nodegroup),
                updates=[],
            )
        to_set, to_remove = {}, []
        if self.params.get("tags") is not None:
            to_set, to_remove = compare_aws_tags(before.get("tags") or {}, self.params["tags"], purge_tags=self.params["purge_tags"])

        changed = bool(plan or to_set or to_remove)
        diff = nodegroup_diff(before, self.params, plan)
        if self.module.check_mode:
            self.updates = [update_record(None, planned_type=item["type"]) for item in plan]
            self.exit(changed, nodegroup, diff)

        if to_set or to_remove:
            reconcile_tags(self.client, nodegroup["nodegroupArn"], to_set, to_remove)

        if plan and nodegroup.get("status") not in UPDATABLE:
            self.module.fail_json(
                msg="The %s is %s and EKS only accepts updates on an ACTIVE node group; "
                "run again with wait=true or once it is ACTIVE (pending: %s)"
                % (self.what, nodegroup.get("status"), ", ".join(item["type"] for item in plan)),
                nodegroup=ansible_nodegroup(nodegroup),
                updates=self.updates,
            )

        run_updates(
            self.client,
            plan,
            self.deadline,
            UPDATE_POLL_DELAY,
            {"name": self.cluster_name, "nodegroupName": self.name},
            self.updates,
            self.what,
        )

        if changed:
            nodegroup = self.describe() or nodegroup
        self.exit(changed, nodegroup, diff)

    # state=absent ------------------------------------------------------

    def absent(self):
        nodegroup = self.describe()
        if nodegroup is None:
            self.exit(False, {})
        if nodegroup.get("status") == "DELETING":
            if self.params["wait"]:
                self.wait("nodegroup_deleted", "finish deleting")
            self.exit(False, nodegroup)
        diff = {"before": nodegroup_diff(nodegroup_summary(nodegroup), {}, [])["before"], "after": {}}
        if self.module.check_mode:
            self.exit(True, nodegroup, diff)
        response = call_api(
            self.client, "delete_nodegroup", "delete %s" % self.what, clusterName=self.cluster_name, nodegroupName=self.name
        )
        if self.params["wait"]:
            self.wait("nodegroup_deleted", "finish deleting")
        self.exit(True, response.get("nodegroup") or nodegroup, diff)


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        cluster_name=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        node_role_arn=dict(type="str", aliases=["node_role"]),
        subnets=dict(type="list", elements="str"),
        instance_types=dict(type="list", elements="str"),
        ami_type=dict(type="str"),
        capacity_type=dict(type="str", choices=["ON_DEMAND", "SPOT", "CAPACITY_BLOCK"]),
        scaling_config=dict(
            type="dict",
            options=dict(
                min_size=dict(type="int"),
                max_size=dict(type="int"),
                desired_size=dict(type="int"),
            ),
        ),
        force_desired_size=dict(type="bool", default=False),
        disk_size=dict(type="int"),
        labels=dict(type="dict"),
        taints=dict(
            type="list",
            elements="dict",
            options=dict(
                key=dict(type="str", required=True, no_log=False),
                value=dict(type="str"),
                effect=dict(type="str", required=True, choices=["NO_SCHEDULE", "NO_EXECUTE", "PREFER_NO_SCHEDULE"]),
            ),
        ),
        update_config=dict(
            type="dict",
            options=dict(
                max_unavailable=dict(type="int"),
                max_unavailable_percentage=dict(type="int"),
            ),
            mutually_exclusive=[("max_unavailable", "max_unavailable_percentage")],
            required_one_of=[("max_unavailable", "max_unavailable_percentage")],
        ),
        version=dict(type="str"),
        release_version=dict(type="str"),
        launch_template=dict(
            type="dict",
            options=dict(
                id=dict(type="str"),
                name=dict(type="str"),
                version=dict(type="str"),
            ),
            mutually_exclusive=[("id", "name")],
            required_one_of=[("id", "name")],
        ),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
        wait=dict(type="bool", default=False),
        wait_timeout=dict(type="int", default=1200),
    )
    module = AnsibleEKSModule(argument_spec=argument_spec, supports_check_mode=True)
    manager = NodegroupManager(module, module.retrying_client("eks"))
    try:
        if module.params["state"] == "absent":
            manager.absent()
        else:
            manager.present()
    except AnsibleAWSError as e:
        manager.fail(e)


if __name__ == "__main__":
    main()
