"""The AWS cloud provider's service controller, for the local Kubernetes stand-in.

STAND-IN (local tests only). On EKS a Service of type LoadBalancer annotated
``service.beta.kubernetes.io/aws-load-balancer-type: nlb`` gets a Network Load Balancer from the control plane's
AWS cloud provider: it puts the finalizer ``service.kubernetes.io/load-balancer-cleanup`` on the Service, creates
the NLB (internal when ``aws-load-balancer-internal`` is true) in the cluster's subnets tagged for load balancers,
tags it with the cluster, the Service and the annotation ``aws-load-balancer-additional-resource-tags``, and writes
its DNS name into ``status.loadBalancer.ingress``. When the Service goes (or stops being a LoadBalancer) it deletes
the NLB and lifts the finalizer. KWOK runs no cloud provider, so this thread does the same against the AWS stand-in's
ELBv2 (moto) and the local API server; Services with a ``loadBalancerClass`` belong to another controller and are
left alone, as EKS does. Without tagged subnets the Service stays pending, as on EKS.
"""
import logging

from .kube_controller import Controller

LOG = logging.getLogger(__name__)
FINALIZER = "service.kubernetes.io/load-balancer-cleanup"
ANNOTATION = "service.beta.kubernetes.io/aws-load-balancer-"
SERVICE_TAG = "kubernetes.io/service-name"


def _backends():
    """(cluster name, region, ec2 backend, elbv2 backend) of every EKS cluster the stand-in holds."""
    from moto.core import DEFAULT_ACCOUNT_ID  # pylint: disable=import-outside-toplevel
    from moto.ec2.models import ec2_backends  # pylint: disable=import-outside-toplevel
    from moto.eks.models import eks_backends  # pylint: disable=import-outside-toplevel
    from moto.elbv2.models import elbv2_backends  # pylint: disable=import-outside-toplevel

    for region in list(eks_backends[DEFAULT_ACCOUNT_ID]):
        for name in list(eks_backends[DEFAULT_ACCOUNT_ID][region].clusters):
            yield name, region, ec2_backends[DEFAULT_ACCOUNT_ID][region], elbv2_backends[DEFAULT_ACCOUNT_ID][region]


def _subnets(ec2, cluster, internal):
    """One subnet per zone tagged for this cluster's internal (or internet-facing) load balancers."""
    role = "kubernetes.io/role/internal-elb" if internal else "kubernetes.io/role/elb"
    chosen = {}
    for zone, subnets in sorted(ec2.subnets.items()):
        for subnet in subnets.values():
            tags = dict((t["key"], t["value"]) for t in subnet.get_tags())
            if tags.get(role) in ("1", "") and "kubernetes.io/cluster/%s" % cluster in tags:
                chosen.setdefault(zone, subnet.id)
    return sorted(chosen.values())


def _additional_tags(annotations):
    pairs = [p.strip() for p in (annotations.get(ANNOTATION + "additional-resource-tags") or "").split(",") if p.strip()]
    return [{"Key": k.strip(), "Value": v.strip()} for k, v in (p.split("=", 1) if "=" in p else (p, "") for p in pairs)]


def _find(elbv2, service_name):
    for balancer in list(elbv2.load_balancers.values()):
        if elbv2.describe_tags([balancer.arn])[balancer.arn].get(SERVICE_TAG) == service_name:
            return balancer
    return None


def _wants_nlb(service):
    annotations = service.metadata.annotations or {}
    return (service.spec.type == "LoadBalancer" and not service.spec.load_balancer_class
            and annotations.get(ANNOTATION + "type") == "nlb" and service.metadata.deletion_timestamp is None)


def _ensure(core, service, backends):
    meta = service.metadata
    service_name = "%s/%s" % (meta.namespace, meta.name)
    annotations = meta.annotations or {}
    internal = annotations.get(ANNOTATION + "internal") in ("true", "0.0.0.0/0")
    if FINALIZER not in (meta.finalizers or []):
        core.patch_namespaced_service(meta.name, meta.namespace, {"metadata": {"finalizers": (meta.finalizers or []) + [FINALIZER]}})
    for cluster, region, ec2, elbv2 in backends:
        balancer = _find(elbv2, service_name)
        if balancer is None:
            subnets = _subnets(ec2, cluster, internal)
            if not subnets:
                LOG.warning("no subnets tagged for %s load balancers of cluster %s: %s stays pending",
                            "internal" if internal else "internet-facing", cluster, service_name)
                continue
            tags = [{"Key": "kubernetes.io/cluster/%s" % cluster, "Value": "owned"}, {"Key": SERVICE_TAG, "Value": service_name}]
            # the cloud provider's name: "a" + the Service's uid without dashes, 32 characters
            name = ("a" + meta.uid.replace("-", ""))[:32]
            balancer = elbv2.create_load_balancer(name=name, security_groups=[], subnet_ids=subnets,
                                                  scheme="internal" if internal else "internet-facing",
                                                  loadbalancer_type="network", tags=tags + _additional_tags(annotations))
            LOG.info("created %s NLB %s for %s in %s", balancer.scheme, balancer.name, service_name, region)
        ingress = (service.status.load_balancer.ingress or []) if service.status.load_balancer else []
        if [i.hostname for i in ingress] != [balancer.dns_name]:
            core.patch_namespaced_service_status(meta.name, meta.namespace, {"status": {"loadBalancer": {"ingress": [{"hostname": balancer.dns_name}]}}})
        return


def _release(core, service, backends):
    meta = service.metadata
    service_name = "%s/%s" % (meta.namespace, meta.name)
    for dummy_cluster, dummy_region, dummy_ec2, elbv2 in backends:
        balancer = _find(elbv2, service_name)
        if balancer is not None:
            elbv2.delete_load_balancer(balancer.arn)
            LOG.info("deleted NLB %s of %s", balancer.name, service_name)
    finalizers = [f for f in (meta.finalizers or []) if f != FINALIZER]
    core.patch_namespaced_service(meta.name, meta.namespace, {"metadata": {"finalizers": finalizers or None}})
    if service.spec.type == "LoadBalancer" and meta.deletion_timestamp is None and service.status.load_balancer \
            and service.status.load_balancer.ingress:
        core.patch_namespaced_service_status(meta.name, meta.namespace, {"status": {"loadBalancer": {"ingress": None}}})


def reconcile(api_client):
    """One pass over every Service: NLBs for the annotated LoadBalancer ones, none for the others."""
    from kubernetes import client  # pylint: disable=import-outside-toplevel

    core = client.CoreV1Api(api_client)
    services = core.list_service_for_all_namespaces().items
    if not any(s.spec.type == "LoadBalancer" or FINALIZER in (s.metadata.finalizers or []) for s in services):
        return
    backends = list(_backends())
    for service in services:
        if _wants_nlb(service):
            _ensure(core, service, backends)
        elif FINALIZER in (service.metadata.finalizers or []):
            _release(core, service, backends)


CONTROLLER = Controller("service-lb", reconcile)
install = CONTROLLER.install
