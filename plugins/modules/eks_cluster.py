#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE), which is compatible with the
# GNU General Public License v3.0 that Ansible itself is distributed under.

DOCUMENTATION = r"""
---
module: eks_cluster
version_added: 0.1.0
short_description: Create, update, upgrade and delete Amazon EKS clusters
description:
  - Creates an Amazon EKS cluster, reconciles the configuration of an existing
    one, upgrades its Kubernetes version, or deletes it.
  - Unlike M(community.aws.eks_cluster) this module also changes existing
    clusters. It compares the task with C(DescribeCluster) and issues one
    update call per update type, as EKS requires, in this order
    authentication mode, secrets encryption, control plane logging, endpoint
    access, subnets and security groups, upgrade policy, Kubernetes version.
    Each update is followed until C(DescribeUpdate) reports it V(Successful);
    a V(Failed) or V(Cancelled) update fails the task with the errors EKS
    reported.
  - Options that are not set are not managed, an existing cluster keeps its
    current value.
  - Changes EKS cannot make (a different O(role_arn), O(service_ipv4_cidr) or
    O(encryption_kms_key_arn), a version jump of more than one minor version or
    a downgrade, an authentication mode change back towards V(CONFIG_MAP)) fail
    before anything is changed, with a message naming the option, the current
    and the wanted value.
  - Updates of an existing cluster are always followed to completion, whatever
    O(wait) says, because EKS refuses a new update while another one runs; the
    whole run is bounded by O(wait_timeout).
author:
  - eks_llm maintainers (@eks-llm)
options:
  name:
    description:
      - Name of the EKS cluster.
    required: true
    type: str
  state:
    description:
      - V(present) creates or updates the cluster.
      - V(absent) deletes it. A cluster that still has managed node groups or
        Fargate profiles is not deleted; the task fails and lists them, delete
        them first (for example with M(eks_llm.inference.eks_nodegroup)).
    choices: [present, absent]
    default: present
    type: str
  version:
    description:
      - Kubernetes version of the control plane, as C(MAJOR.MINOR), for example V("1.33").
        Quote it in YAML, V(1.30) unquoted is the number 1.3.
      - When omitted on creation EKS picks its default version.
      - On an existing cluster a version one minor above the current one
        starts an upgrade. A larger jump or a lower version fails and says
        which version to set next.
    type: str
  role_arn:
    description:
      - ARN of the IAM role the EKS control plane uses.
      - Required to create a cluster. It cannot be changed afterwards.
    type: str
  subnets:
    description:
      - IDs of the subnets (at least two, in different Availability Zones) for the
        control plane network interfaces.
      - Required to create a cluster. On an existing cluster a different set is
        applied with a C(VpcConfigUpdate); the subnets must be in the cluster's VPC.
    type: list
    elements: str
  security_groups:
    description:
      - IDs of additional security groups for the control plane network interfaces.
      - On an existing cluster a different set is applied with a C(VpcConfigUpdate).
    type: list
    elements: str
  endpoint_public_access:
    description:
      - Whether the Kubernetes API server endpoint is reachable from the internet.
      - EKS default is V(true).
    type: bool
  endpoint_private_access:
    description:
      - Whether the Kubernetes API server endpoint is reachable from inside the VPC.
      - EKS default is V(false).
    type: bool
  public_access_cidrs:
    description:
      - CIDR blocks allowed to reach the public endpoint. Order does not matter.
      - EKS default is V(0.0.0.0/0).
    type: list
    elements: str
  logging:
    description:
      - Control plane log types to send to CloudWatch Logs. Every type not
        listed is disabled; V([]) disables all of them.
    type: list
    elements: str
    choices: [api, audit, authenticator, controllerManager, scheduler]
  authentication_mode:
    description:
      - How the cluster authenticates IAM principals.
      - EKS only moves one way, V(CONFIG_MAP) to V(API_AND_CONFIG_MAP) to V(API).
        V(CONFIG_MAP) to V(API) is done as two updates. Any other change fails.
      - A cluster that does not report a mode is taken as V(CONFIG_MAP), the EKS default.
    choices: [API, API_AND_CONFIG_MAP, CONFIG_MAP]
    type: str
  bootstrap_cluster_creator_admin_permissions:
    description:
      - Whether the IAM principal that creates the cluster gets a cluster admin
        access entry. Only used when the cluster is created.
      - Setting a different value than the existing cluster reports fails.
    type: bool
  encryption_kms_key_arn:
    description:
      - ARN of the KMS key used for envelope encryption of Kubernetes secrets.
      - On an existing cluster without secrets encryption the key is associated
        with C(AssociateEncryptionConfig). EKS cannot change or remove the key
        afterwards, so a different key fails.
    type: str
  service_ipv4_cidr:
    description:
      - CIDR block Kubernetes assigns service IP addresses from. Only used when the
        cluster is created; a different value on an existing cluster fails.
    type: str
  upgrade_policy:
    description:
      - Support type of the cluster's Kubernetes version once standard support ends.
    choices: [STANDARD, EXTENDED]
    type: str
  auto_mode:
    description:
      - EKS Auto Mode. EKS switches its compute (C(computeConfig)), block storage (C(storageConfig.blockStorage)) and load
        balancing (C(kubernetesNetworkConfig.elasticLoadBalancing)) capabilities together, so this one option sets all three,
        on create and on an existing cluster (one C(AutoModeUpdate)).
      - Not set, Auto Mode is not compared.
    type: dict
    suboptions:
      enabled:
        description: Whether Auto Mode is on.
        type: bool
        required: true
      node_pools:
        description:
          - Built-in node pools to run. V([]) runs only your own NodePools and NodeClasses (whose role needs an access
            entry of type C(EC2) with C(AmazonEKSAutoNodePolicy)).
          - EKS needs O(auto_mode.node_role_arn) with built-in node pools and refuses it without them.
        type: list
        elements: str
        choices: [general-purpose, system]
        default: []
      node_role_arn:
        description:
          - IAM role of the built-in node pools' nodes. EKS cannot change it once Auto Mode compute is enabled.
        type: str
  wait:
    description:
      - Wait for a new cluster to become V(ACTIVE), for an existing cluster in
        V(CREATING) or V(UPDATING) to settle, and for a deleted cluster to be gone.
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
  - Tags are reconciled on existing clusters with C(TagResource) and C(UntagResource).
  - In check mode nothing is changed; RV(updates) lists the updates that would be started.
"""

EXAMPLES = r"""
- name: Create a cluster for GPU inference and wait for it
  eks_llm.inference.eks_cluster:
    name: llm
    version: "1.33"
    role_arn: arn:aws:iam::123456789012:role/llm-eks-cluster
    subnets:
      - subnet-0a1b2c3d4e5f60001
      - subnet-0a1b2c3d4e5f60002
    endpoint_public_access: true
    endpoint_private_access: true
    public_access_cidrs:
      - 203.0.113.0/24
    logging: [api, audit, authenticator]
    authentication_mode: API
    bootstrap_cluster_creator_admin_permissions: true
    encryption_kms_key_arn: arn:aws:kms:us-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab
    upgrade_policy: STANDARD
    tags:
      app.kubernetes.io/part-of: llm-inference
    wait: true
  register: eks

- name: A cluster in EKS Auto Mode that runs only our own NodePools (no built-in node pools, no node group)
  eks_llm.inference.eks_cluster:
    name: llm
    version: "1.34"
    role_arn: arn:aws:iam::123456789012:role/llm-eks-cluster
    subnets:
      - subnet-0a1b2c3d4e5f60001
      - subnet-0a1b2c3d4e5f60002
    authentication_mode: API
    auto_mode:
      enabled: true
      node_pools: []
    wait: true

- name: Upgrade the control plane by one minor version
  eks_llm.inference.eks_cluster:
    name: llm
    version: "1.34"
    wait_timeout: 3600

- name: Move an existing cluster from the aws-auth ConfigMap to access entries
  eks_llm.inference.eks_cluster:
    name: llm
    authentication_mode: API

- name: Delete the cluster (its node groups must be deleted first)
  eks_llm.inference.eks_cluster:
    name: llm
    state: absent
    wait: true
"""

RETURN = r"""
cluster:
  description:
    - The cluster as C(DescribeCluster) reports it, keys in snake_case (tag keys unchanged).
    - Empty when the cluster does not exist, or would only be created in check mode.
    - After O(state=absent) the cluster as the delete call returned it.
  returned: always
  type: dict
  contains:
    name:
      description: Name of the cluster.
      type: str
      sample: llm
    arn:
      description: ARN of the cluster.
      type: str
      sample: arn:aws:eks:us-west-2:123456789012:cluster/llm
    status:
      description: Status of the cluster.
      type: str
      sample: ACTIVE
    version:
      description: Kubernetes version.
      type: str
      sample: "1.33"
    platform_version:
      description: EKS platform version.
      type: str
      sample: eks.5
    endpoint:
      description: URL of the Kubernetes API server.
      type: str
      sample: https://0123456789ABCDEF.gr7.us-west-2.eks.amazonaws.com
    certificate_authority:
      description: Certificate authority of the API server.
      type: dict
      contains:
        data:
          description: Base64 encoded CA certificate for kubeconfig.
          type: str
    identity:
      description: Identity providers of the cluster.
      type: dict
      contains:
        oidc:
          description: OIDC issuer, for IAM roles for service accounts.
          type: dict
          contains:
            issuer:
              description: OIDC issuer URL.
              type: str
              sample: https://oidc.eks.us-west-2.amazonaws.com/id/0123456789ABCDEF
    role_arn:
      description: IAM role of the control plane.
      type: str
    resources_vpc_config:
      description: Subnets, security groups and endpoint access of the control plane.
      type: dict
      sample:
        subnet_ids: [subnet-0a1b2c3d4e5f60001, subnet-0a1b2c3d4e5f60002]
        security_group_ids: []
        cluster_security_group_id: sg-0123456789abcdef0
        vpc_id: vpc-0123456789abcdef0
        endpoint_public_access: true
        endpoint_private_access: true
        public_access_cidrs: [203.0.113.0/24]
    kubernetes_network_config:
      description: Service CIDR, IP family and (EKS Auto Mode) whether load balancing is managed.
      type: dict
      sample:
        service_ipv4_cidr: 172.20.0.0/16
        ip_family: ipv4
        elastic_load_balancing:
          enabled: true
    compute_config:
      description: EKS Auto Mode's compute capability.
      type: dict
      sample:
        enabled: true
        node_pools: []
    storage_config:
      description: EKS Auto Mode's block storage capability.
      type: dict
      sample:
        block_storage:
          enabled: true
    logging:
      description: Control plane logging.
      type: dict
      sample:
        cluster_logging:
          - types: [api, audit, authenticator]
            enabled: true
          - types: [controllerManager, scheduler]
            enabled: false
    access_config:
      description: Authentication mode and whether the creator was made admin.
      type: dict
      sample:
        authentication_mode: API
        bootstrap_cluster_creator_admin_permissions: true
    encryption_config:
      description: Envelope encryption of secrets.
      type: list
      elements: dict
    upgrade_policy:
      description: Support type after standard support ends.
      type: dict
      sample:
        support_type: STANDARD
    created_at:
      description: Creation time.
      type: str
    tags:
      description: Tags of the cluster.
      type: dict
      sample:
        app.kubernetes.io/part-of: llm-inference
updates:
  description:
    - The updates started by this run, in order. In check mode the updates that
      would be started, with RV(updates[].id) null and RV(updates[].status) V(Planned).
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Update ID, for C(aws eks describe-update).
      type: str
      sample: 1d6cdbb2-47e3-3f62-bd5d-5f2b1d7b5e6c
    type:
      description: Update type.
      type: str
      sample: VersionUpdate
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
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_utils import CLUSTER_SETTINGS_SPEC
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_utils import PlanError
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_utils import UPDATE_POLL_DELAY
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_utils import WAITER_DELAY
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_utils import call_api
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_utils import cluster_create_request
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_utils import cluster_diff
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_utils import cluster_summary
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_utils import cluster_to_ansible
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_utils import describe_cluster
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_utils import fail_with
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_utils import list_fargate_profiles
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_utils import list_nodegroups
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_utils import plan_cluster_updates
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_utils import reconcile_tags
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_utils import run_waiter
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_utils import run_updates
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_utils import update_record

SETTLING = ("CREATING", "UPDATING", "PENDING")


class ClusterManager:
    def __init__(self, module, client):
        self.module = module
        self.client = client
        self.params = module.params
        self.name = module.params["name"]
        self.deadline = time.monotonic() + module.params["wait_timeout"]
        self.updates = []

    def fail(self, error):
        fail_with(self.module, error, updates=self.updates)

    def exit(self, changed, cluster, diff=None):
        result = {"changed": changed, "cluster": cluster_to_ansible(cluster), "updates": self.updates}
        if diff is not None and self.module._diff:
            result["diff"] = diff
        self.module.exit_json(**result)

    def describe(self):
        return describe_cluster(self.client, self.name)

    def wait_active(self):
        try:
            run_waiter(self.client, "cluster_active", self.deadline, WAITER_DELAY, name=self.name)
        except AnsibleAWSError as e:
            e.message = "Cluster %s did not become ACTIVE within wait_timeout" % self.name
            raise

    def call(self, method, description, **kwargs):
        return call_api(self.client, method, description, **kwargs)

    # state=present -----------------------------------------------------

    def create(self):
        missing = [opt for opt in ("role_arn", "subnets") if not self.params.get(opt)]
        if missing:
            self.module.fail_json(
                msg="Cluster %s does not exist and cannot be created without %s" % (self.name, " and ".join(missing)),
                cluster={},
                updates=[],
            )
        try:
            request = cluster_create_request(self.params)
        except PlanError as e:
            self.module.fail_json(msg=str(e), cluster={}, updates=[])
        diff = cluster_diff({}, self.params)
        if self.module.check_mode:
            self.exit(True, {}, diff)
        cluster = self.call("create_cluster", "create cluster %s" % self.name, **request)["cluster"]
        if self.params["wait"]:
            self.wait_active()
            cluster = self.describe() or cluster
        self.exit(True, cluster, diff)

    def present(self):
        cluster = self.describe()
        if cluster is None:
            return self.create()

        status = cluster.get("status")
        if status == "DELETING":
            self.module.fail_json(
                msg="Cluster %s is being deleted; wait for the deletion to finish before creating it again" % self.name,
                cluster=cluster_to_ansible(cluster),
                updates=[],
            )
        if status == "FAILED":
            self.module.fail_json(
                msg="Cluster %s is in status FAILED; delete it (state=absent) and create it again" % self.name,
                cluster=cluster_to_ansible(cluster),
                updates=[],
            )
        if status in SETTLING and self.params["wait"]:
            self.wait_active()
            cluster = self.describe()

        before = cluster_summary(cluster)
        errors, plan = plan_cluster_updates(self.name, before, self.params)
        if errors:
            self.module.fail_json(
                msg="Cannot reconcile cluster %s: %s" % (self.name, "; ".join(errors)),
                errors=errors,
                cluster=cluster_to_ansible(cluster),
                updates=[],
            )
        to_set, to_remove = {}, []
        if self.params.get("tags") is not None:
            to_set, to_remove = compare_aws_tags(before.get("tags") or {}, self.params["tags"], purge_tags=self.params["purge_tags"])

        changed = bool(plan or to_set or to_remove)
        diff = cluster_diff(before, self.params)
        if self.module.check_mode:
            self.updates = [update_record(None, planned_type=item["type"]) for item in plan]
            self.exit(changed, cluster, diff)

        if to_set or to_remove:
            reconcile_tags(self.client, cluster["arn"], to_set, to_remove)

        if plan and cluster.get("status") != "ACTIVE":
            self.module.fail_json(
                msg="Cluster %s is %s and EKS only accepts updates on an ACTIVE cluster; "
                "run again with wait=true or once it is ACTIVE (pending: %s)"
                % (self.name, cluster.get("status"), ", ".join(item["type"] for item in plan)),
                cluster=cluster_to_ansible(cluster),
                updates=self.updates,
            )

        run_updates(
            self.client, plan, self.deadline, UPDATE_POLL_DELAY, {"name": self.name}, self.updates, "cluster %s" % self.name
        )

        if changed:
            cluster = self.describe() or cluster
        self.exit(changed, cluster, diff)

    # state=absent ------------------------------------------------------

    def absent(self):
        cluster = self.describe()
        if cluster is None:
            self.exit(False, {})
        if cluster.get("status") == "DELETING":
            if self.params["wait"]:
                self.wait_deleted()
            self.exit(False, cluster)

        nodegroups = list_nodegroups(self.client, self.name)
        profiles = list_fargate_profiles(self.client, self.name)
        if nodegroups or profiles:
            blockers = []
            if nodegroups:
                blockers.append("node groups: %s" % ", ".join(sorted(nodegroups)))
            if profiles:
                blockers.append("Fargate profiles: %s" % ", ".join(sorted(profiles)))
            self.module.fail_json(
                msg="Cluster %s still has %s; delete them first, then delete the cluster" % (self.name, "; ".join(blockers)),
                nodegroups=sorted(nodegroups),
                fargate_profiles=sorted(profiles),
                cluster=cluster_to_ansible(cluster),
                updates=[],
            )
        diff = {"before": cluster_diff(cluster_summary(cluster), {})["before"], "after": {}}
        if self.module.check_mode:
            self.exit(True, cluster, diff)
        response = self.call("delete_cluster", "delete cluster %s" % self.name, name=self.name)
        if self.params["wait"]:
            self.wait_deleted()
        self.exit(True, response.get("cluster") or cluster, diff)

    def wait_deleted(self):
        try:
            run_waiter(self.client, "cluster_deleted", self.deadline, WAITER_DELAY, name=self.name)
        except AnsibleAWSError as e:
            e.message = "Cluster %s was not deleted within wait_timeout" % self.name
            raise


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        security_groups=dict(type="list", elements="str"),
        encryption_kms_key_arn=dict(type="str", no_log=False),
        service_ipv4_cidr=dict(type="str"),
        upgrade_policy=dict(type="str", choices=["STANDARD", "EXTENDED"]),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
        wait=dict(type="bool", default=False),
        wait_timeout=dict(type="int", default=1200),
        **CLUSTER_SETTINGS_SPEC
    )
    module = AnsibleEKSModule(argument_spec=argument_spec, supports_check_mode=True)
    manager = ClusterManager(module, module.retrying_client("eks"))
    try:
        if module.params["state"] == "absent":
            manager.absent()
        else:
            manager.present()
    except AnsibleAWSError as e:
        manager.fail(e)


if __name__ == "__main__":
    main()
