"""EKS Auto Mode's compute, for the local Kubernetes stand-in.

STAND-IN (local tests only). In a cluster whose Auto Mode compute capability is on, EKS serves the NodeClass API
(eks.amazonaws.com/v1) and runs Karpenter itself: a NodePool whose nodeClassRef names a NodeClass gets nodes with the
NodeClass's role, subnets and security groups, once the NodeClass is ready. Karpenter's KWOK provider (the local
Karpenter) knows only KWOKNodeClasses, so this thread, run by the AWS stand-in while ``kube_admin_kubeconfig`` is set,
does Auto Mode's part with the provider's help:

- while a running cluster has Auto Mode compute on, the NodeClass CRD (tests/upstream/eks.amazonaws.com_nodeclasses.yaml)
  is served; with no such cluster and no NodeClass left it is removed, so a NodeClass sent to a cluster without Auto
  Mode is refused, as on EKS;
- each NodeClass is checked as the nodes it launches would be: its role exists, trusts EC2, carries Auto Mode's node
  policies and has an access entry of type EC2 with AmazonEKSAutoNodePolicy (without it EKS's nodes never join;
  tests/upstream/eks_auto_mode.json), and its subnet and security group terms select something. The verdicts are its
  status conditions (SubnetsReady, SecurityGroupsReady, RoleReady, Ready), with the subnets and groups it selected;
- a ready NodeClass gets a KWOKNodeClass twin (TWIN_PREFIX + name) whose nodeRegistrationDelay is the stand-in's node
  boot (setting ``node_registration_delay``);
- each NodePool naming a NodeClass gets a NodePool twin naming that KWOKNodeClass, with the same limits, disruption,
  taints and template labels (plus Auto Mode's ``eks.amazonaws.com/compute-type: auto``), and Auto Mode's instance
  label keys (eks.amazonaws.com/instance-*) turned into the ones the KWOK instance types carry
  (karpenter.k8s.aws/instance-*); the twin's status is copied back to the NodePool;
- a twin whose original is gone, or whose cluster is, is deleted (Karpenter then drains and removes its nodes).

What differs from EKS: the nodes and NodeClaims carry the twin's name in ``karpenter.sh/nodepool``, and a NodePool
whose NodeClass is not ready says so in its status but has no twin.
"""
import copy
import datetime
import json
import logging
import os

import yaml

from . import config
from .kube_controller import Controller

LOG = logging.getLogger(__name__)
UPSTREAM = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "upstream")
CRD_FILE = os.path.join(UPSTREAM, "eks.amazonaws.com_nodeclasses.yaml")
with open(os.path.join(UPSTREAM, "eks_auto_mode.json"), encoding="utf-8") as _facts:
    AUTO_MODE = json.load(_facts)
GROUP, VERSION, PLURAL = "eks.amazonaws.com", "v1", "nodeclasses"
KARPENTER = ("karpenter.sh", "v1", "nodepools")
KWOK_CLASSES = ("karpenter.kwok.sh", "v1alpha1", "kwoknodeclasses")
TWIN_PREFIX = "auto-mode-"
# on each twin: the name of the NodePool or NodeClass it stands for
TWIN_LABEL = "standin.eks-llm/auto-mode-twin-of"
AUTO_LABEL_PREFIX = "eks.amazonaws.com/instance-"
KWOK_LABEL_PREFIX = "karpenter.k8s.aws/instance-"
COMPUTE_TYPE_LABEL = "eks.amazonaws.com/compute-type"


def _backends():
    """(cluster, ec2, iam backends) of every running cluster (ACTIVE, or UPDATING: an update does not stop Auto Mode)
    with Auto Mode compute on."""
    from moto.core import DEFAULT_ACCOUNT_ID  # pylint: disable=import-outside-toplevel
    from moto.ec2.models import ec2_backends  # pylint: disable=import-outside-toplevel
    from moto.eks.models import eks_backends  # pylint: disable=import-outside-toplevel
    from moto.iam.models import iam_backends  # pylint: disable=import-outside-toplevel

    for region in list(eks_backends[DEFAULT_ACCOUNT_ID]):
        for cluster in list(eks_backends[DEFAULT_ACCOUNT_ID][region].clusters.values()):
            if cluster.status in ("ACTIVE", "UPDATING") and (getattr(cluster, "compute_config", None) or {}).get("enabled"):
                yield cluster, ec2_backends[DEFAULT_ACCOUNT_ID][region], iam_backends[DEFAULT_ACCOUNT_ID]["global"]


def _condition(kind, problem, generation, old):
    """A status condition: True without a problem, else False with it; lastTransitionTime kept while the status holds."""
    status = "False" if problem else "True"
    previous = [c for c in old if c.get("type") == kind and c.get("status") == status]
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"type": kind, "status": status, "reason": ("Not" + kind) if problem else kind, "message": problem or "",
            "observedGeneration": generation, "lastTransitionTime": previous[0]["lastTransitionTime"] if previous else now}


def _tags(resource):
    return dict((t["key"], t["value"]) for t in resource.get_tags())


def _selected(terms, resources, names=None):
    """The resources (id -> resource) a list of selector terms picks: by id, by name (security groups), by all tags."""
    chosen = {}
    for term in terms:
        for rid, resource in resources.items():
            tags = _tags(resource)
            if (term.get("id") in (None, rid) and term.get("name") in (None, (names or {}).get(rid))
                    and all(tags.get(key) == value for key, value in (term.get("tags") or {}).items())):
                chosen[rid] = resource
    return chosen


def _role_problem(role_name, cluster, iam):
    """Why nodes with this role could not join the cluster, or None."""
    from . import eks_ext  # pylint: disable=import-outside-toplevel

    roles = [r for r in iam.roles.values() if r.name == role_name]
    if not roles:
        return "IAM role %s not found" % role_name
    role = roles[0]
    facts = AUTO_MODE["node_role"]
    trust = json.dumps(role.assume_role_policy_document if isinstance(role.assume_role_policy_document, dict)
                       else json.loads(role.assume_role_policy_document or "{}"))
    if facts["trust_service"] not in trust:
        return "IAM role %s does not trust %s" % (role_name, facts["trust_service"])
    attached = set(policy.name for policy in role.managed_policies.values())
    missing = [name for name in facts["managed_policies"] if name not in attached]
    if missing:
        return "IAM role %s lacks %s" % (role_name, ", ".join(missing))
    access = AUTO_MODE["node_class_access_entry"]
    entry = eks_ext._ext(cluster)["entries"].get(role.arn)  # pylint: disable=protected-access
    if not entry or entry["type"] != access["type"]:
        return "IAM role %s has no access entry of type %s in cluster %s: its nodes could not join" % (role_name, access["type"], cluster.name)
    if not any(arn.endswith("/" + access["access_policy"]) for arn in entry["_policies"]):
        return "the access entry of %s in cluster %s has no %s" % (role_name, cluster.name, access["access_policy"])
    return None


def node_class_status(node_class, cluster, ec2, iam):
    """The status Auto Mode would give this NodeClass: {conditions, subnets, securityGroups}."""
    spec, meta = node_class.get("spec") or {}, node_class["metadata"]
    generation, old = meta.get("generation"), (node_class.get("status") or {}).get("conditions") or []
    vpc_id = cluster.resources_vpc_config.get("vpcId")
    # nodes launch in the cluster's VPC: subnets and groups of another VPC do not count
    subnets = _selected(spec.get("subnetSelectorTerms") or [],
                        dict((s.id, s) for zone in ec2.subnets.values() for s in zone.values() if s.vpc_id == vpc_id))
    in_vpc = ec2.groups.get(vpc_id) or {}
    groups = _selected(spec.get("securityGroupSelectorTerms") or [], dict(in_vpc), names=dict((g.id, g.name) for g in in_vpc.values()))
    problems = {
        "SubnetsReady": None if subnets else "no subnet of the cluster's VPC matches subnetSelectorTerms",
        "SecurityGroupsReady": None if groups else "no security group of the cluster's VPC matches securityGroupSelectorTerms",
        "RoleReady": _role_problem((spec.get("role") or "").rsplit("/", 1)[-1], cluster, iam),
    }
    conditions = [_condition(kind, problem, generation, old) for kind, problem in problems.items()]
    failed = ["%s: %s" % (kind, problem) for kind, problem in problems.items() if problem]
    conditions.append(_condition("Ready", "; ".join(failed), generation, old))
    return {"conditions": conditions,
            "subnets": [{"id": s.id, "zone": s.availability_zone} for s in sorted(subnets.values(), key=lambda s: s.id)],
            "securityGroups": [{"id": g.id, "name": g.name} for g in sorted(groups.values(), key=lambda g: g.id)]}


def _ready(status):
    return any(c["type"] == "Ready" and c["status"] == "True" for c in status.get("conditions") or [])


def twin_node_pool(pool):
    """The KWOK NodePool standing for an Auto Mode NodePool (its spec as the API server defaulted it)."""
    spec = copy.deepcopy(pool["spec"])
    template = spec["template"]
    template["spec"]["nodeClassRef"] = {"group": KWOK_CLASSES[0], "kind": "KWOKNodeClass",
                                        "name": TWIN_PREFIX + template["spec"]["nodeClassRef"]["name"]}
    for requirement in template["spec"].get("requirements") or []:
        if requirement["key"].startswith(AUTO_LABEL_PREFIX):
            requirement["key"] = KWOK_LABEL_PREFIX + requirement["key"][len(AUTO_LABEL_PREFIX):]
    metadata = template.setdefault("metadata", {})
    metadata["labels"] = dict(metadata.get("labels") or {}, **{COMPUTE_TYPE_LABEL: "auto"})
    return {"apiVersion": "/".join(KARPENTER[:2]), "kind": "NodePool",
            "metadata": {"name": TWIN_PREFIX + pool["metadata"]["name"], "labels": {TWIN_LABEL: pool["metadata"]["name"]}},
            "spec": spec}


def twin_node_class(node_class):
    spec = {}
    delay = config.get("node_registration_delay")
    if delay:
        spec["nodeRegistrationDelay"] = delay
    return {"apiVersion": "/".join(KWOK_CLASSES[:2]), "kind": "KWOKNodeClass",
            "metadata": {"name": TWIN_PREFIX + node_class["metadata"]["name"], "labels": {TWIN_LABEL: node_class["metadata"]["name"]}},
            "spec": spec}


def _is_auto(pool):
    return ((pool.get("spec") or {}).get("template", {}).get("spec", {}).get("nodeClassRef") or {}).get("group") == GROUP


def _crd_served(extensions):
    from kubernetes.client.rest import ApiException  # pylint: disable=import-outside-toplevel

    try:
        extensions.read_custom_resource_definition("%s.%s" % (PLURAL, GROUP))
        return True
    except ApiException as exc:
        if exc.status == 404:
            return False
        raise


def _ensure(custom, api, wanted, existing):
    """Create the twin, or replace it when its spec differs."""
    group, version, plural = api
    current = existing.get(wanted["metadata"]["name"])
    if current is None:
        custom.create_cluster_custom_object(group, version, plural, wanted)
    elif current.get("spec") != wanted["spec"] or current["metadata"].get("labels") != wanted["metadata"]["labels"]:
        body = dict(wanted, metadata=dict(wanted["metadata"], resourceVersion=current["metadata"]["resourceVersion"]))
        custom.replace_cluster_custom_object(group, version, plural, wanted["metadata"]["name"], body)


def _delete_stale(custom, api, twins, wanted_names):
    from kubernetes.client.rest import ApiException  # pylint: disable=import-outside-toplevel

    for name in sorted(set(twins) - set(wanted_names)):
        try:
            custom.delete_cluster_custom_object(api[0], api[1], api[2], name)
        except ApiException as exc:
            if exc.status != 404:
                raise


def _twins(custom, api):
    items = custom.list_cluster_custom_object(api[0], api[1], api[2], label_selector=TWIN_LABEL)["items"]
    return dict((item["metadata"]["name"], item) for item in items)


def reconcile(api_client):
    from kubernetes import client  # pylint: disable=import-outside-toplevel

    custom, extensions = client.CustomObjectsApi(api_client), client.ApiextensionsV1Api(api_client)
    clusters = list(_backends())
    served = _crd_served(extensions)
    if clusters and not served:
        with open(CRD_FILE, encoding="utf-8") as handle:
            extensions.create_custom_resource_definition(yaml.safe_load(handle))
        return  # the next pass finds it established
    node_classes = custom.list_cluster_custom_object(GROUP, VERSION, PLURAL)["items"] if served else []
    if not clusters and served and not node_classes:
        extensions.delete_custom_resource_definition("%s.%s" % (PLURAL, GROUP))
    ready = set()
    if clusters:
        cluster, ec2, iam = clusters[0]
        for node_class in node_classes:
            status = node_class_status(node_class, cluster, ec2, iam)
            _patch_status(custom, (GROUP, VERSION, PLURAL), node_class, status)
            if _ready(status) and not node_class["metadata"].get("deletionTimestamp"):
                ready.add(node_class["metadata"]["name"])
    pools = [p for p in custom.list_cluster_custom_object(*KARPENTER)["items"] if _is_auto(p)] if clusters else []
    twin_pools, twin_classes = _twins(custom, KARPENTER), _twins(custom, KWOK_CLASSES)
    wanted_classes = [twin_node_class(c) for c in node_classes if c["metadata"]["name"] in ready]
    for wanted in wanted_classes:
        _ensure(custom, KWOK_CLASSES, wanted, twin_classes)
    wanted_pools = []
    for pool in pools:
        if pool["metadata"].get("deletionTimestamp"):
            continue
        if pool["spec"]["template"]["spec"]["nodeClassRef"]["name"] in ready:
            wanted_pools.append(twin_node_pool(pool))
            _ensure(custom, KARPENTER, wanted_pools[-1], twin_pools)
        _mirror_status(custom, pool, twin_pools.get(TWIN_PREFIX + pool["metadata"]["name"]), ready)
    _delete_stale(custom, KARPENTER, twin_pools, [p["metadata"]["name"] for p in wanted_pools])
    _delete_stale(custom, KWOK_CLASSES, twin_classes, [c["metadata"]["name"] for c in wanted_classes])


def _mirror_status(custom, pool, twin, ready):
    """The NodePool's status as Auto Mode's Karpenter keeps it: the twin's, or NodeClassReady False while its NodeClass
    is not ready."""
    generation = pool["metadata"].get("generation")
    old = (pool.get("status") or {}).get("conditions") or []
    class_name = pool["spec"]["template"]["spec"]["nodeClassRef"]["name"]
    if class_name not in ready:
        problem = "NodeClass %s is not ready" % class_name
        status = {"conditions": [_condition("NodeClassReady", problem, generation, old), _condition("Ready", problem, generation, old)]}
    elif twin and twin.get("status"):
        status = copy.deepcopy(twin["status"])
        for condition in status.get("conditions") or []:
            condition["observedGeneration"] = generation
    else:
        return
    _patch_status(custom, KARPENTER, pool, status)


def _patch_status(custom, api, item, status):
    """Write the status fields that differ from the object's (one request, none when nothing changed)."""
    if status != {key: (item.get("status") or {}).get(key) for key in status}:
        custom.patch_cluster_custom_object_status(*api, item["metadata"]["name"], {"status": status})


CONTROLLER = Controller("auto-mode", reconcile)
install = CONTROLLER.install
