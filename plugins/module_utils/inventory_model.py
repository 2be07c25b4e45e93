# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
"""The inventory variable model: one spec, one validator, one normalised result.

Every environment (local stand-ins, a real AWS account, AWX) is described by the
same ``eks_llm_*`` variables. :func:`validate` checks types and the rules a
person would otherwise learn from a failed deploy half an hour in, collects
every problem, and returns the normalised configuration the roles consume.
It reads the inventory only: no facts, no API calls.
"""

import ipaddress
import re

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.eks_llm.inference.plugins.module_utils import benchmark as benchmark_results
from ansible_collections.eks_llm.inference.plugins.module_utils import benchmark_plan
from ansible_collections.eks_llm.inference.plugins.module_utils import capacity_reservation
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_utils import LOG_TYPES
from ansible_collections.eks_llm.inference.plugins.module_utils import gpu_catalog
from ansible_collections.eks_llm.inference.plugins.module_utils import inventory_shape
from ansible_collections.eks_llm.inference.plugins.module_utils import versions
from ansible_collections.eks_llm.inference.plugins.module_utils import workload_identity

MANAGED_BY = versions.COLLECTION_NAME  # the label value and tag value of everything we create
DEPLOYMENT_TAG = "eks-llm:deployment"
MANAGED_BY_TAG = "eks-llm:managed-by"

KUBERNETES_VERSIONS = ["1.31", "1.32", "1.33", "1.34"]
# Karpenter's karpenter.sh/capacity-type values (reserved: On-Demand Capacity Reservations and Capacity Blocks)
CAPACITY_TYPES = ("reserved", "spot", "on-demand")
ENGINES = ["nim_operator", "nim_chart", "triton_vllm", "vllm"]
# Engines that serve the OpenAI API on port 8000 (what Open WebUI can talk to)
OPENAI_ENGINES = ("nim_operator", "nim_chart", "vllm")
# Engines that run vLLM from a Hugging Face model id (the `vllm:` block of a model)
VLLM_ENGINES = ("triton_vllm", "vllm")
REQUIRED_ADDONS = ["vpc-cni", "coredns", "kube-proxy", "eks-pod-identity-agent"]
EBS_CSI_ADDON = "aws-ebs-csi-driver"
# The CSI drivers: EFS for the shared model caches, EBS for ReadWriteOnce volumes such as Prometheus' (EKS >= 1.30
# has neither a default StorageClass nor the in-tree EBS provisioner).
DEFAULT_ADDONS = REQUIRED_ADDONS + ["aws-efs-csi-driver", EBS_CSI_ADDON]
# eks_llm_cluster.compute_mode: Karpenter of ours on a core node group, or EKS Auto Mode (AWS runs Karpenter, networking,
# DNS, Pod Identity, EBS CSI and the GPU drivers and device plugin; tests/upstream/eks_auto_mode.json)
COMPUTE_MODES = ["karpenter", "auto_mode"]
AUTO_MODE_BUILT_IN_ADDONS = REQUIRED_ADDONS + [EBS_CSI_ADDON]
AUTO_MODE_ADDONS = ["aws-efs-csi-driver"]
REGIONS = [
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "ca-west-1", "sa-east-1", "mx-central-1",
    "eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2",
    "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3",
    "ap-southeast-4", "ap-southeast-5", "ap-southeast-7", "ap-south-1", "ap-south-2", "ap-east-1", "ap-east-2",
    "me-south-1", "me-central-1", "il-central-1", "af-south-1",
]

# The platform's StorageClass for EBS volumes (its provisioner is the aws-ebs-csi-driver add-on); Prometheus' default.
BLOCK_STORAGE_CLASS = "gp3"

DEPLOYMENT_NAME_RE = re.compile(r"^[a-z][a-z0-9-]{1,30}[a-z0-9]$")
DNS_LABEL_RE = re.compile(r"^[a-z]([-a-z0-9]{0,38}[a-z0-9])?$")
BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
HF_MODEL_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")
S3_URI_RE = re.compile(r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$")
IMAGE_RE = re.compile(r"^[a-z0-9.-]+(:[0-9]+)?(/[a-z0-9._-]+)+$")
QUANTITY_RE = re.compile(r"^[0-9]+(Mi|Gi|Ti)$")
# Karpenter's durations (whole seconds, minutes, hours); Never where a NodePool allows it
_DURATION = r"([0-9]+(s|m|h))+"
DURATION_RE = re.compile(r"^%s$|^Never$" % _DURATION)
# The KWOKNodeClass CRD's pattern of nodeRegistrationDelay (karpenter kwok/apis/v1alpha1/kwoknodeclass.go): no Never
KWOK_DURATION_RE = re.compile(r"^%s$" % _DURATION)
VPC_ID_RE = re.compile(r"^vpc-[0-9a-f]{8,17}$")
SUBNET_ID_RE = re.compile(r"^subnet-[0-9a-f]{8,17}$")
ARN_RE = re.compile(r"^arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)/.+$")

_addon = dict(type="dict", options=dict(
    version=dict(type="str", default="default"),
    configuration=dict(type="dict", default={}),
))

_model_options = dict(
    name=dict(type="str", required=True),
    engine=dict(type="str", required=True),
    node_pool=dict(type="str"),
    namespace=dict(type="str", default="llm"),
    parameters_billion=dict(type="float", required=True),
    precision=dict(type="str", default="bf16"),
    tensor_parallel=dict(type="int", default=1),
    gpu_memory_utilization=dict(type="float", default=0.9),
    kv_cache_min_gib=dict(type="float", default=1.0),
    max_model_len=dict(type="int", default=4096),
    replicas=dict(type="int", default=1),
    autoscaling=dict(type="dict", default={}, options=dict(
        enabled=dict(type="bool", default=False),
        min_replicas=dict(type="int", default=1),
        max_replicas=dict(type="int", default=4),
        target=dict(type="float", default=1.0),
    )),
    cache_size=dict(type="str", default="50Gi"),
    served_model_name=dict(type="str", default=""),
    nim=dict(type="dict", options=dict(
        image=dict(type="str", required=True),
        tag=dict(type="str", required=True),
        profile=dict(type="str", default=""),
        llm_engine=dict(type="str", default="", choices=["", "tensorrt_llm", "vllm", "sglang"]),
    )),
    vllm=dict(type="dict", options=dict(
        model_id=dict(type="str", required=True),
        revision=dict(type="str", default="main"),
        dtype=dict(type="str", default="auto"),
        enforce_eager=dict(type="bool", default=False),
    )),
)

SPEC = dict(
    eks_llm_name=dict(type="str", required=True),
    eks_llm_region=dict(type="str", required=True),
    eks_llm_aws_endpoint_url=dict(type="str", default=""),
    eks_llm_tags=dict(type="dict", default={}),
    eks_llm_network=dict(type="dict", default={}, options=dict(
        vpc_id=dict(type="str", default=""),
        private_subnet_ids=dict(type="list", elements="str", default=[]),
        public_subnet_ids=dict(type="list", elements="str", default=[]),
        cidr=dict(type="str", default="10.0.0.0/16"),
        availability_zones=dict(type="list", elements="str", default=[]),
        az_count=dict(type="int", default=2),
        nat_gateways=dict(type="str", default="single", choices=["single", "per_az"]),
    )),
    eks_llm_cluster=dict(type="dict", default={}, options=dict(
        version=dict(type="str", default="1.33"),
        endpoint_public_access=dict(type="bool", default=True),
        endpoint_private_access=dict(type="bool", default=True),
        public_access_cidrs=dict(type="list", elements="str", default=["0.0.0.0/0"]),
        logging=dict(type="list", elements="str", default=["api", "audit", "authenticator"]),
        secrets_encryption=dict(type="bool", default=True),
        admin_principal_arns=dict(type="list", elements="str", default=[]),
        log_retention_days=dict(type="int", default=30),
        addons=dict(type="dict", default={}),
        compute_mode=dict(type="str", default="karpenter", choices=COMPUTE_MODES),
    )),
    eks_llm_core_nodes=dict(type="dict", default={}, options=dict(
        instance_types=dict(type="list", elements="str", default=["m6i.large"]),
        min_size=dict(type="int", default=2),
        desired_size=dict(type="int", default=2),
        max_size=dict(type="int", default=3),
        disk_size=dict(type="int", default=50),
        ami_type=dict(type="str", default="AL2023_x86_64_STANDARD",
                      choices=["AL2023_x86_64_STANDARD", "AL2023_ARM_64_STANDARD", "BOTTLEROCKET_x86_64", "BOTTLEROCKET_ARM_64"]),
        capacity_type=dict(type="str", default="ON_DEMAND", choices=["ON_DEMAND", "SPOT"]),
    )),
    eks_llm_gpu_node_pools=dict(type="list", elements="dict", default=[], options=dict(
        name=dict(type="str", required=True),
        instance_types=dict(type="list", elements="str", default=[]),
        instance_families=dict(type="list", elements="str", default=[]),
        capacity_types=dict(type="list", elements="str", default=["on-demand"]),
        # Karpenter's capacityReservationSelectorTerms of the pool's node class (capacity type `reserved`)
        capacity_reservations=dict(type="list", elements="dict", default=[], options=dict(
            id=dict(type="str", default=""),
            tags=dict(type="dict", default={}),
            owner_id=dict(type="str", default=""),
        )),
        gpu_limit=dict(type="int", default=8),
        ami_family=dict(type="str", default="al2023", choices=["al2023", "bottlerocket"]),
        data_volume_gib=dict(type="int", default=200),
        weight=dict(type="int", default=10),
        consolidate_after=dict(type="str", default="10m"),
        expire_after=dict(type="str", default="720h"),
    )),
    eks_llm_efs=dict(type="dict", default={}, options=dict(
        enabled=dict(type="bool", default=True),
        throughput_mode=dict(type="str", default="elastic", choices=["elastic", "bursting"]),
        backup=dict(type="bool", default=True),
    )),
    eks_llm_model_bucket=dict(type="dict", default={}, options=dict(
        name=dict(type="str", default=""),
        versioning=dict(type="bool", default=True),
    )),
    eks_llm_logging=dict(type="dict", default={}, options=dict(
        retention_days=dict(type="int", default=30),
        fluent_bit=dict(type="bool", default=True),
    )),
    eks_llm_monitoring=dict(type="dict", default={}, options=dict(
        enabled=dict(type="bool", default=True),
        prometheus_retention=dict(type="str", default="15d"),
        prometheus_storage_size=dict(type="str", default="50Gi"),
        prometheus_storage_class=dict(type="str", default=BLOCK_STORAGE_CLASS),
        grafana_enabled=dict(type="bool", default=True),
        dcgm_exporter=dict(type="bool", default=True),
        alerts=dict(type="bool", default=True),
        thresholds=dict(type="dict", default={}, options=dict(
            gpu_temperature_celsius=dict(type="int", default=85),
            gpu_memory_used_ratio=dict(type="float", default=0.99),
            ttft_p99_seconds=dict(type="float", default=2.0),
            error_ratio=dict(type="float", default=0.05),
            waiting_requests=dict(type="int", default=10),
        )),
    )),
    eks_llm_karpenter=dict(type="dict", default={}, options=dict(
        interruption_queue=dict(type="bool", default=True),
        node_class_kind=dict(type="str", default="EC2NodeClass", choices=["EC2NodeClass", "KWOKNodeClass"]),
        replicas=dict(type="int", default=2),
        cpu_pool=dict(type="bool", default=True),
        cpu_limit=dict(type="int", default=64),
        # KWOKNodeClass only: how long Karpenter's KWOK provider waits before a node registers (a GPU instance's boot)
        kwok_node_registration_delay=dict(type="str", default=""),
    )),
    eks_llm_gpu_software=dict(type="dict", default={}, options=dict(
        mode=dict(type="str", default="device_plugin", choices=["device_plugin", "gpu_operator"]),
        time_slicing_replicas=dict(type="int", default=1),
    )),
    eks_llm_preflight=dict(type="dict", default={}, options=dict(
        check_quotas=dict(type="bool", default=True),
        estimate_cost=dict(type="bool", default=True),
        max_usd_per_hour=dict(type="float"),
    )),
    eks_llm_models=dict(type="list", elements="dict", default=[], options=_model_options),
    eks_llm_verify=dict(type="dict", default={}, options=dict(
        enabled=dict(type="bool", default=True),
        mode=dict(type="str", default="in_cluster", choices=["in_cluster", "controller"]),
        check_workloads=dict(type="bool", default=True),
        expect_metrics=dict(type="bool", default=True),
        check_prometheus=dict(type="bool", default=True),
        check_hpa=dict(type="bool", default=True),
        check_interruption=dict(type="bool", default=True),
        check_identity=dict(type="bool", default=True),
        check_logs=dict(type="bool", default=True),
        check_storage=dict(type="bool", default=True),
        storage_timeout_s=dict(type="int", default=300),
        time_to_serving_max_s=dict(type="int", default=1800),
        endpoint_overrides=dict(type="dict", default={}),
        prometheus_url=dict(type="str", default=""),
        prompts_file=dict(type="str", default=""),
        concurrency=dict(type="int", default=8),
        timeout_s=dict(type="int", default=120),
        max_tokens=dict(type="int", default=64),
        namespace=dict(type="str", default="llm-verify"),
        results_dir=dict(type="str", default="reports"),
    )),
    eks_llm_benchmark=dict(type="dict", default={}, options=dict(
        enabled=dict(type="bool", default=False),
        runner=dict(type="str", default="aiperf", choices=list(benchmark_plan.RUNNERS)),
        mode=dict(type="str", default="in_cluster", choices=list(benchmark_plan.MODES)),
        profiles=dict(type="list", elements="dict", default=[], options=dict(
            name=dict(type="str", required=True),
            input_tokens=dict(type="int", default=128),
            output_tokens=dict(type="int", default=128),
            concurrencies=dict(type="list", elements="int", default=[8, 16, 32, 64, 128]),
            request_count=dict(type="int", default=0),
            warmup_requests=dict(type="int", default=10),
            streaming=dict(type="bool", default=True),
            endpoint_type=dict(type="str", default="", choices=[""] + list(benchmark_plan.ENDPOINT_TYPES)),
        )),
        models=dict(type="list", elements="str", default=[]),
        tokenizer=dict(type="dict", default={}),
        goodput=dict(type="dict", default={}),
        slos=dict(type="list", elements="dict", default=[]),
        fail_on_slo=dict(type="bool", default=True),
        endpoint_overrides=dict(type="dict", default={}),
        results_dir=dict(type="str", default="reports"),
        baseline=dict(type="str", default=""),
        aiperf_bin=dict(type="str", default="aiperf"),
        request_timeout_s=dict(type="int", default=600),
        run_timeout_s=dict(type="int", default=3600),
    )),
    eks_llm_open_webui=dict(type="dict", default={}, options=dict(
        enabled=dict(type="bool", default=False),
        namespace=dict(type="str", default="open-webui"),
        storage_size=dict(type="str", default="5Gi"),
    )),
    eks_llm_exposure=dict(type="dict", default={}, options=dict(
        mode=dict(type="str", default="cluster_ip", choices=["cluster_ip", "internal_nlb"]),
        source_ranges=dict(type="list", elements="str", default=[]),
    )),
    eks_llm_chart_overrides=dict(type="dict", default={}),
    eks_llm_image_overrides=dict(type="dict", default={}),
    eks_llm_workload_credentials=dict(type="dict", default={}),
    eks_llm_ngc_api_key=dict(type="str", default="", no_log=True),
    eks_llm_hf_token=dict(type="str", default="", no_log=True),
    # Where verify and benchmark copy their report directories (s3://bucket/prefix); empty: nowhere.
    eks_llm_reports_s3_uri=dict(type="str", default=""),
)
# Per-run overrides (AWX survey answers, -e): flat variables a survey can set, applied to the inventory's model,
# its node pool and the benchmark before any other check, so a bad answer gets the message a bad inventory gets.
RUN_OVERRIDES = dict(
    eks_llm_run_model=dict(type="str", default=""),
    eks_llm_run_engine=dict(type="str", default=""),
    eks_llm_run_replicas=dict(type="int"),
    eks_llm_run_gpu_instance_type=dict(type="str", default=""),
    eks_llm_run_gpu_limit=dict(type="int"),
    eks_llm_run_benchmark_concurrencies=dict(type="list", elements="int", default=[]),
    eks_llm_run_slo_ttft_p99_ms=dict(type="float"),
    eks_llm_run_slo_itl_p99_ms=dict(type="float"),
)
SPEC.update(RUN_OVERRIDES)
# SLO metric (p99, max) each survey answer sets
RUN_SLOS = {"eks_llm_run_slo_ttft_p99_ms": "time_to_first_token_ms", "eks_llm_run_slo_itl_p99_ms": "inter_token_latency_ms"}

# Run-time switches of playbooks (acceptance.yml; teardown.yml's confirmation, which AWX's Teardown template asks
# for), passed with -e; not part of the inventory model.
PLAYBOOK_VARIABLES = ("eks_llm_acceptance_confirm", "eks_llm_acceptance_hours", "eks_llm_teardown_confirm",
                      "eks_llm_teardown_require_confirm")

# Kubernetes identities that get AWS permissions through EKS Pod Identity; shared by the AWS layer
# (associations) and the platform/inference layers (service accounts), so they cannot drift apart.
SERVICE_ACCOUNTS = {
    "karpenter_controller": {"namespace": "karpenter", "service_account": "karpenter"},
    "efs_csi": {"namespace": "kube-system", "service_account": "efs-csi-controller-sa"},
    "ebs_csi": {"namespace": "kube-system", "service_account": "ebs-csi-controller-sa"},
    "fluent_bit": {"namespace": "logging", "service_account": "fluent-bit"},
}
TRITON_SERVICE_ACCOUNT = "triton"
# where the triton_vllm role syncs model_repository/ in the model bucket (what Triton's service account reads)
TRITON_REPOSITORY_PREFIX = "triton/model_repository"
# The service account of the vLLM servers that stream their weights from the model bucket (one per namespace)
VLLM_SERVICE_ACCOUNT = "vllm"
# The IAM role (name suffix after "<name>-") of each workload whose image decides its credential mechanism
# (workload_identity.WORKLOADS); roles/iam/vars/main.yml uses the same suffixes (a unit test keeps them equal).
WORKLOAD_ROLE_SUFFIXES = {
    "karpenter_controller": "karpenter-controller",
    "fluent_bit": "fluent-bit",
    "triton": "triton-model-reader",
    "vllm": "vllm-model-reader",
}

# The contract between the platform layer and the inference layer: names both sides use, kept in one
# place so a DaemonSet, a NodePool and a model workload cannot disagree about a label or a taint.
PLATFORM = {
    # every GPU node carries this taint; GPU DaemonSets and model workloads tolerate it
    "gpu_taint": {"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"},
    # labels every GPU NodePool puts on its nodes: GPU DaemonSets select gpu_node_label=true,
    # model workloads select pool_label=<pool name>
    "gpu_node_label": "eks-llm/gpu",
    "pool_label": "eks-llm/node-pool",
    # ReadWriteMany claims on EFS (model caches, Open WebUI's data)
    "storage_class": "efs-ap",
    # ReadWriteOnce claims on encrypted gp3 EBS volumes (Prometheus' TSDB, which does not support NFS)
    "block_storage_class": BLOCK_STORAGE_CLASS,
    "namespaces": {
        "karpenter": SERVICE_ACCOUNTS["karpenter_controller"]["namespace"],
        "gpu": "gpu-system",
        "monitoring": "monitoring",
        "logging": SERVICE_ACCOUNTS["fluent_bit"]["namespace"],
        "nim_operator": "nim-operator",
    },
    # ConfigMaps with this label are loaded by Grafana's dashboard sidecar
    "dashboard_label": {"key": "grafana_dashboard", "value": "1"},
    # custom metrics (pods) exposed by prometheus-adapter for the models' HPAs
    "autoscaling_metrics": {
        "openai": "llm_requests_waiting",
        # requests waiting for their first token per pod (Little's law on vllm:time_to_first_token_seconds_sum)
        "triton": "triton_requests_waiting",
    },
    # Secrets the inference layer creates in each model namespace
    "secrets": {"ngc_registry": "ngc-registry", "ngc_api": "ngc-api", "hf_token": "hf-token"},
}

# Namespaces models (and Open WebUI) may not use: the inference layer owns the namespaces it creates and
# removes them with the last model in them.
RESERVED_NAMESPACES = sorted(set(["default", "kube-system", "kube-public", "kube-node-lease"]
                                 + list(PLATFORM["namespaces"].values())))

LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653]


class Problems(object):
    """Collects problems as 'variable: what was given; what is allowed'."""

    def __init__(self):
        self.items = []
        # {top-level list variable: inventory index of each element kept}: elements the shape check dropped do not
        # shift the indices later messages name
        self.positions = {}

    def index(self, variable, position):
        kept = self.positions.get(variable)
        return kept[position] if kept is not None and position < len(kept) else position

    def add(self, variable, message):
        self.items.append("%s: %s" % (variable, message))


def _check_name(problems, value):
    if not DEPLOYMENT_NAME_RE.match(value or ""):
        problems.add("eks_llm_name", "%r is not usable as an EKS cluster, IAM role, S3 bucket and SQS queue name prefix;"
                     " use 3-32 characters: lowercase letters, digits and '-', starting with a letter and not ending with '-'" % value)


def _check_tags(problems, tags):
    if len(tags) > 40:
        problems.add("eks_llm_tags", "%d tags given; AWS allows 50 per resource and the collection adds up to 10, so at most 40" % len(tags))
    for key, value in tags.items():
        key = str(key)
        if key.lower().startswith("aws:") or key.startswith("eks-llm:"):
            problems.add("eks_llm_tags", "tag key %r is reserved (prefixes 'aws:' and 'eks-llm:')" % key)
        if not 1 <= len(key) <= 128:
            problems.add("eks_llm_tags", "tag key %r must be 1-128 characters" % key)
        if len(str(value)) > 256:
            problems.add("eks_llm_tags", "value of tag %r is %d characters; at most 256" % (key, len(str(value))))


def _network(problems, region, net):
    if net["vpc_id"]:
        if not VPC_ID_RE.match(net["vpc_id"]):
            problems.add("eks_llm_network.vpc_id", "%r is not a VPC id: 'vpc-' followed by 8 or 17 hex digits, e.g. vpc-0abc1234def567890" % net["vpc_id"])
        if len(net["private_subnet_ids"]) < 2:
            problems.add("eks_llm_network.private_subnet_ids", "an existing VPC needs at least 2 private subnets in different AZs"
                         " (EKS requires 2 AZs); %d given" % len(net["private_subnet_ids"]))
        for subnet in net["private_subnet_ids"] + net["public_subnet_ids"]:
            if not SUBNET_ID_RE.match(subnet):
                problems.add("eks_llm_network", "%r is not a subnet id: 'subnet-' followed by 8 or 17 hex digits, e.g. subnet-0abc1234def567890" % subnet)
        # nothing to create: the subnets (and their zones) are the user's
        return dict(net, private_subnets=[], public_subnets=[])
    try:
        cidr = ipaddress.ip_network(net["cidr"])
    except ValueError:
        problems.add("eks_llm_network.cidr", "%r is not an IPv4 CIDR block; give one with a /16 to /20 prefix, e.g. 10.0.0.0/16" % net["cidr"])
        cidr = None
    if cidr is not None and not 16 <= cidr.prefixlen <= 20:
        problems.add("eks_llm_network.cidr", "%s: the VPC prefix must be /16 to /20 (room for private and public subnets"
                     " in every AZ); AWS allows /16 at most" % net["cidr"])
        cidr = None
    zones = net["availability_zones"]
    if zones:
        for zone in zones:
            if not re.match(r"^%s[a-z]$" % re.escape(region), zone):
                problems.add("eks_llm_network.availability_zones", "%r is not an availability zone of region %s (e.g. %sa)" % (zone, region, region))
        if len(set(zones)) != len(zones):
            problems.add("eks_llm_network.availability_zones", "zones are listed twice: %s; list each zone once" % ", ".join(zones))
    else:
        if not 2 <= net["az_count"] <= 6:
            problems.add("eks_llm_network.az_count", "%d given; EKS needs at least 2 AZs, at most 6 are used" % net["az_count"])
        zones = ["%s%s" % (region, letter) for letter in "abcdef"[:max(2, min(6, net["az_count"]))]]
    if len(zones) < 2:
        problems.add("eks_llm_network.availability_zones", "EKS needs subnets in at least 2 availability zones; %d given" % len(zones))
    normalised = dict(net, availability_zones=zones, private_subnets=[], public_subnets=[])
    if cidr is not None:
        blocks = list(cidr.subnets(prefixlen_diff=3))
        public_blocks = list(blocks[7].subnets(prefixlen_diff=3))
        for index, zone in enumerate(zones[:6]):
            normalised["private_subnets"].append({"az": zone, "cidr": str(blocks[index])})
            normalised["public_subnets"].append({"az": zone, "cidr": str(public_blocks[index])})
    return normalised


def _cluster(problems, cluster):
    if cluster["version"] not in KUBERNETES_VERSIONS:
        problems.add("eks_llm_cluster.version", "%r is not a supported EKS version; allowed: %s" % (cluster["version"], ", ".join(KUBERNETES_VERSIONS)))
    if not (cluster["endpoint_public_access"] or cluster["endpoint_private_access"]):
        problems.add("eks_llm_cluster", "endpoint_public_access and endpoint_private_access are both false; the API server would be unreachable")
    for cidr in cluster["public_access_cidrs"]:
        try:
            ipaddress.ip_network(cidr)
        except ValueError:
            problems.add("eks_llm_cluster.public_access_cidrs", "%r is not a CIDR block (e.g. 203.0.113.0/24)" % cidr)
    for log_type in cluster["logging"]:
        if log_type not in LOG_TYPES:
            problems.add("eks_llm_cluster.logging", "%r is not a control-plane log type; allowed: %s" % (log_type, ", ".join(LOG_TYPES)))
    for arn in cluster["admin_principal_arns"]:
        if not ARN_RE.match(arn):
            problems.add("eks_llm_cluster.admin_principal_arns", "%r is not an IAM role or user ARN: arn:aws:iam::<12-digit account>:role/<name>"
                         " or arn:aws:iam::<account>:user/<name>" % arn)
    if cluster["log_retention_days"] not in LOG_RETENTION_DAYS:
        problems.add("eks_llm_cluster.log_retention_days", "%d is not a CloudWatch Logs retention; allowed: %s"
                     % (cluster["log_retention_days"], ", ".join(str(d) for d in LOG_RETENTION_DAYS)))
    auto = cluster["compute_mode"] == "auto_mode"
    addons = {}
    for name in AUTO_MODE_ADDONS if auto else DEFAULT_ADDONS:
        addons[name] = {"version": "default", "configuration": {}}
    for name, settings in (cluster["addons"] or {}).items():
        if auto and name in AUTO_MODE_BUILT_IN_ADDONS:
            if settings is not None:
                problems.add("eks_llm_cluster.addons.%s" % name, "EKS Auto Mode (compute_mode: auto_mode) runs %s itself, as part of"
                             " the cluster; the add-on is not installed: remove the key" % name)
            continue
        if settings is None:  # `name: null` removes an optional add-on
            if name in REQUIRED_ADDONS:
                problems.add("eks_llm_cluster.addons", "%r is required by the collection and cannot be removed" % name)
            addons.pop(name, None)
            continue
        if not isinstance(settings, dict) or set(settings) - {"version", "configuration"}:
            problems.add("eks_llm_cluster.addons.%s" % name, "expected a dict with 'version' and/or 'configuration', got %r" % (settings,))
            continue
        addons[name] = dict(addons.get(name, {"version": "default", "configuration": {}}), **settings)
    return dict(cluster, addons=addons)


def _core_nodes(problems, nodes):
    if not nodes["min_size"] <= nodes["desired_size"] <= nodes["max_size"]:
        problems.add("eks_llm_core_nodes", "sizes must satisfy min_size <= desired_size <= max_size; given %d <= %d <= %d"
                     % (nodes["min_size"], nodes["desired_size"], nodes["max_size"]))
    if nodes["min_size"] < 1:
        problems.add("eks_llm_core_nodes.min_size", "at least 1 node is needed for system pods (Karpenter, CoreDNS); %d given" % nodes["min_size"])
    if not 20 <= nodes["disk_size"] <= 16384:
        problems.add("eks_llm_core_nodes.disk_size", "%d GiB given; allowed 20-16384" % nodes["disk_size"])
    return nodes


def _auto_mode(problems, params, shaped):
    """What EKS Auto Mode cannot do, or does itself, asked for next to compute_mode: auto_mode (refused, with the reason).

    Auto Mode has no node group of ours, runs AWS's Karpenter (interruption handling included) and its own
    Bottlerocket-based AMIs with the NVIDIA drivers and device plugin, allows no SSH/SSM to nodes, and launches nodes
    only from NodePools (ours: no built-in pools), so the CPU pool is what runs the platform's pods.
    """
    mode = "eks_llm_cluster.compute_mode is auto_mode"
    if "eks_llm_core_nodes" in shaped:
        problems.add("eks_llm_core_nodes", "given, but %s: Auto Mode has no managed node group; system and platform pods run on"
                     " the CPU NodePool (eks_llm_karpenter.cpu_pool): remove eks_llm_core_nodes" % mode)
    karpenter = shaped.get("eks_llm_karpenter") or {}
    for key, reason in (("interruption_queue", "Auto Mode handles Spot and capacity interruptions itself (no queue or rules of ours)"),
                        ("replicas", "Auto Mode runs AWS's Karpenter controller, not ours"),
                        ("node_class_kind", "Auto Mode's NodePools use its own NodeClass (eks.amazonaws.com/v1)"),
                        ("kwok_node_registration_delay", "it belongs to the KWOKNodeClass of the local stand-in")):
        if key in karpenter:
            problems.add("eks_llm_karpenter." + key, "given, but %s: %s; remove the key" % (mode, reason))
    if not params["eks_llm_karpenter"]["cpu_pool"]:
        problems.add("eks_llm_karpenter.cpu_pool", "false, but %s without built-in node pools: the CPU NodePool is the only place"
                     " the platform's pods (monitoring, EFS CSI controller, Fluent Bit) can run; keep it" % mode)
    software = params["eks_llm_gpu_software"]
    if software["mode"] == "gpu_operator":
        problems.add("eks_llm_gpu_software.mode", "gpu_operator, but %s: Auto Mode's AMIs carry the NVIDIA drivers and device plugin,"
                     " and its nodes accept no operator-managed driver or toolkit; use device_plugin (nothing is installed)" % mode)
    if software["time_slicing_replicas"] != 1:
        problems.add("eks_llm_gpu_software.time_slicing_replicas", "%d, but %s: the device plugin is AWS's, built into the AMI, with no"
                     " time-slicing configuration of ours; use 1" % (software["time_slicing_replicas"], mode))
    for position, pool in enumerate(shaped.get("eks_llm_gpu_node_pools") or []):
        if isinstance(pool, dict) and "ami_family" in pool:
            problems.add("eks_llm_gpu_node_pools[%d] (%s).ami_family" % (problems.index("eks_llm_gpu_node_pools", position), pool.get("name")),
                         "given, but %s: Auto Mode launches its own Bottlerocket-based AMI (no custom AMI or AMI family);"
                         " remove the key" % mode)
    if "karpenter_controller" in (shaped.get("eks_llm_workload_credentials") or {}):
        problems.add("eks_llm_workload_credentials.karpenter_controller", "given, but %s: there is no Karpenter controller of ours"
                     " to give credentials to; remove the key" % mode)
    if "karpenter" in (shaped.get("eks_llm_chart_overrides") or {}):
        problems.add("eks_llm_chart_overrides.karpenter", "given, but %s: the Karpenter chart is not installed; remove the key" % mode)


def _pools(problems, pools):
    normalised = []
    seen = set()
    for position, pool in enumerate(pools):
        index = problems.index("eks_llm_gpu_node_pools", position)
        where = "eks_llm_gpu_node_pools[%d] (%s)" % (index, pool["name"])
        if not DNS_LABEL_RE.match(pool["name"]):
            problems.add(where + ".name", "%r must be a DNS label: lowercase letters, digits and '-', starting with a letter, ending with a letter or digit,"
                         " at most 40 characters" % pool["name"])
        if pool["name"] in seen:
            problems.add(where + ".name", "duplicate node pool name %r; every pool needs its own name" % pool["name"])
        seen.add(pool["name"])
        unknown = [t for t in pool["instance_types"] if t not in gpu_catalog.INSTANCE_TYPES]
        if unknown:
            problems.add(where + ".instance_types", "unknown GPU instance type(s) %s; known: %s"
                         % (", ".join(unknown), ", ".join(sorted(gpu_catalog.INSTANCE_TYPES))))
        bad_families = [f for f in pool["instance_families"] if f not in gpu_catalog.GPU_FAMILIES]
        if bad_families:
            problems.add(where + ".instance_families", "unknown GPU family(ies) %s; known: %s"
                         % (", ".join(bad_families), ", ".join(sorted(gpu_catalog.GPU_FAMILIES))))
        if not pool["instance_types"] and not pool["instance_families"]:
            problems.add(where, "give instance_types (e.g. [g5.xlarge]) or instance_families (e.g. [g5])")
        bad_capacity = [c for c in pool["capacity_types"] if c not in CAPACITY_TYPES]
        if bad_capacity or not pool["capacity_types"] or len(set(pool["capacity_types"])) != len(pool["capacity_types"]):
            problems.add(where + ".capacity_types", "%r: allowed values are %s (each at most once; Karpenter prefers reserved,"
                         " then spot, then on-demand)" % (pool["capacity_types"], ", ".join(CAPACITY_TYPES)))
        reserved = "reserved" in pool["capacity_types"]
        if reserved and not pool["capacity_reservations"]:
            problems.add(where + ".capacity_reservations", "capacity type reserved needs the reservations the pool launches into:"
                         " [{id: cr-...}] or [{tags: {key: value}, owner_id: <12-digit account>}]")
        if pool["capacity_reservations"] and not reserved:
            problems.add(where + ".capacity_reservations", "given, but capacity_types %r has no reserved: Karpenter would never"
                         " launch into them; add reserved (alone, or with on-demand/spot as the fallback)" % (pool["capacity_types"],))
        capacity_reservation.check_terms(problems, where + ".capacity_reservations", pool["capacity_reservations"])
        if pool["gpu_limit"] < 1:
            problems.add(where + ".gpu_limit", "%d: must allow at least 1 GPU (Karpenter's limit on the pool's GPUs)" % pool["gpu_limit"])
        for key in ("consolidate_after", "expire_after"):
            if not DURATION_RE.match(pool[key]):
                problems.add(where + "." + key, "%r is not a duration like 30s, 10m, 720h or Never" % pool[key])
        if not 20 <= pool["data_volume_gib"] <= 16384:
            problems.add(where + ".data_volume_gib", "%d GiB given; allowed 20-16384 (inference images are many GB)" % pool["data_volume_gib"])
        resolved = gpu_catalog.expand_pool_instance_types(pool["instance_types"], pool["instance_families"])
        # reservations are selected by the node class: a reserved pool gets a class of its own
        node_class = "gpu-%s" % pool["ami_family"] + ("-%s" % pool["name"] if pool["capacity_reservations"] else "")
        normalised.append(dict(pool, resolved_instance_types=resolved, node_class=node_class,
                               capacity_reservation_selector_terms=capacity_reservation.selector_terms(pool["capacity_reservations"])))
    return normalised


# Hugging Face organisations / name prefixes whose repositories are gated (a token of an account that accepted the
# license is needed); a model elsewhere downloads anonymously, so no token warning for it.
GATED_HF_PREFIXES = ("meta-llama/", "mistralai/", "google/gemma", "google/codegemma", "google/medgemma")


def _models(problems, models, pools, ngc_api_key, hf_token):
    pools_by_name = dict((p["name"], p) for p in pools)
    seen = set()
    normalised = []
    for position, model in enumerate(models):
        index = problems.index("eks_llm_models", position)
        where = "eks_llm_models[%d] (%s)" % (index, model["name"])
        if not DNS_LABEL_RE.match(model["name"]):
            problems.add(where + ".name", "%r must be a DNS label (it names Kubernetes objects): lowercase letters, digits, '-',"
                         " starting with a letter, at most 40 characters" % model["name"])
        if model["name"] in seen:
            problems.add(where + ".name", "duplicate model name %r; every model needs its own name" % model["name"])
        seen.add(model["name"])
        if model["engine"] not in ENGINES:
            problems.add(where + ".engine", "unknown engine %r; allowed: %s" % (model["engine"], ", ".join(ENGINES)))
        if not DNS_LABEL_RE.match(model["namespace"]):
            problems.add(where + ".namespace", "%r is not a valid Kubernetes namespace name: lowercase letters, digits and '-', starting with a"
                         " letter, at most 40 characters" % model["namespace"])
        elif model["namespace"] in RESERVED_NAMESPACES:
            problems.add(where + ".namespace", "%r belongs to the cluster or the platform layer; models need their own"
                         " namespace (reserved: %s)" % (model["namespace"], ", ".join(RESERVED_NAMESPACES)))
        if model["precision"] not in gpu_catalog.BYTES_PER_PARAMETER:
            problems.add(where + ".precision", "%r: allowed %s" % (model["precision"], ", ".join(gpu_catalog.BYTES_PER_PARAMETER)))
        if model["parameters_billion"] <= 0:
            problems.add(where + ".parameters_billion", "%s: the model size in billions of parameters must be positive" % model["parameters_billion"])
        if model["tensor_parallel"] not in (1, 2, 4, 8):
            problems.add(where + ".tensor_parallel", "%d: allowed 1, 2, 4 or 8 GPUs per replica" % model["tensor_parallel"])
        if not 0.1 <= model["gpu_memory_utilization"] <= 0.98:
            problems.add(where + ".gpu_memory_utilization", "%s: allowed 0.1-0.98" % model["gpu_memory_utilization"])
        if not QUANTITY_RE.match(model["cache_size"]):
            problems.add(where + ".cache_size", "%r is not a Kubernetes storage quantity like 50Gi" % model["cache_size"])
        if model["replicas"] < 1:
            problems.add(where + ".replicas", "%d: at least 1" % model["replicas"])
        scaling = model["autoscaling"]
        if scaling["enabled"] and not 1 <= scaling["min_replicas"] <= scaling["max_replicas"]:
            problems.add(where + ".autoscaling", "needs 1 <= min_replicas <= max_replicas; given %d..%d" % (scaling["min_replicas"], scaling["max_replicas"]))
        if model["engine"] in ("nim_operator", "nim_chart"):
            if not model["nim"]:
                problems.add(where + ".nim", "engine %s needs nim: {image: nvcr.io/nim/<org>/<model>, tag: <pinned version>}" % model["engine"])
            else:
                if not IMAGE_RE.match(model["nim"]["image"]):
                    problems.add(where + ".nim.image", "%r is not an image repository like nvcr.io/nim/meta/llama3-8b-instruct"
                                 " (no tag here)" % model["nim"]["image"])
                if model["nim"]["tag"] in ("", "latest"):
                    problems.add(where + ".nim.tag", "%r: pin an explicit NIM version (e.g. 1.0.3); 'latest' changes under you" % model["nim"]["tag"])
            if not ngc_api_key:
                problems.add(where, "engine %s pulls from nvcr.io and NGC: set NGC_API_KEY in the environment or eks_llm_ngc_api_key"
                             " (Ansible Vault)" % model["engine"])
            elif not ngc_api_key.startswith("nvapi-"):
                problems.add("eks_llm_ngc_api_key", "the NGC API key does not start with 'nvapi-' (value hidden); create a personal key"
                             " at https://org.ngc.nvidia.com/setup/personal-keys")
        if model["engine"] == "triton_vllm":
            if not model["vllm"]:
                problems.add(where + ".vllm", "engine triton_vllm needs a model source: vllm: {model_id: <hf org/name or s3://bucket/prefix>}")
            elif not (HF_MODEL_RE.match(model["vllm"]["model_id"]) or S3_URI_RE.match(model["vllm"]["model_id"])):
                problems.add(where + ".vllm.model_id", "%r is neither a Hugging Face id (org/name) nor an s3:// URI" % model["vllm"]["model_id"])
        if model["engine"] == "vllm":
            if not model["vllm"]:
                problems.add(where + ".vllm", "engine vllm needs a model source: vllm: {model_id: <hf org/name or s3://bucket/prefix>}")
            elif not (HF_MODEL_RE.match(model["vllm"]["model_id"]) or S3_URI_RE.match(model["vllm"]["model_id"])):
                problems.add(where + ".vllm.model_id", "%r is neither a Hugging Face id (org/name, e.g. facebook/opt-350m) nor an"
                             " s3:// URI of the model bucket" % model["vllm"]["model_id"])
        if model["vllm"] and model["engine"] not in VLLM_ENGINES:
            problems.add(where + ".vllm", "is read by the engines %s only; engine %s takes its model from nim:"
                         % (" and ".join(VLLM_ENGINES), model["engine"]))
        if hf_token and not hf_token.startswith("hf_"):
            problems.add("eks_llm_hf_token", "the Hugging Face token does not start with 'hf_' (value hidden)")
        pool_name = model["node_pool"] or (pools[0]["name"] if len(pools) == 1 else None)
        result = dict(model, node_pool=pool_name, placement={}, served_model_name=_served_model_name(model))
        if pool_name is None:
            problems.add(where + ".node_pool", "several GPU node pools exist (%s): name the one this model runs on" % ", ".join(pools_by_name) if pools
                         else "no GPU node pool is defined: add one to eks_llm_gpu_node_pools")
        elif pool_name not in pools_by_name:
            problems.add(where + ".node_pool", "%r is not a GPU node pool; defined: %s" % (pool_name, ", ".join(pools_by_name) or "none"))
        elif model["precision"] in gpu_catalog.BYTES_PER_PARAMETER and model["parameters_billion"] > 0:
            fit = gpu_catalog.placement(model, pools_by_name[pool_name]["resolved_instance_types"])
            result["placement"] = fit
            if fit["problems"]:
                numbers = (pool_name, fit["weights_gib"], model["precision"], model["parameters_billion"],
                           model["tensor_parallel"], fit["per_gpu_weights_gib"], "; ".join(fit["problems"]))
                problems.add(where, "cannot be placed on node pool %r: %.1f GiB of %s weights (%.1fB parameters) over tensor_parallel=%d"
                             " = %.1f GiB per GPU; %s" % numbers)
        normalised.append(result)
    return normalised


EFS_CSI_ADDON = "aws-efs-csi-driver"


def _dependencies(problems, params, models, addons, shaped):
    """Settings that only work together, each checked where the user would change it.

    Shared storage: every model keeps its weights cache on the EFS class (Triton's cache claim, the NIMCache, the
    nim-llm model store), and so does Open WebUI; without EFS or its CSI add-on those claims stay Pending.
    Autoscaling: the HPA reads the engines' metrics through Prometheus and prometheus-adapter (monitoring).
    Monitoring parts: Grafana, the DCGM exporter and the alert rules live in the monitoring stack.
    Verify: the Prometheus check needs that stack too. ``shaped`` is what the inventory wrote (to tell an
    explicit true from a default).
    """
    efs, monitoring, verify = params["eks_llm_efs"], params["eks_llm_monitoring"], params["eks_llm_verify"]
    on_efs = ["eks_llm_models[%d] (%s)" % (problems.index("eks_llm_models", i), m["name"]) for i, m in enumerate(models)]
    if params["eks_llm_open_webui"]["enabled"]:
        on_efs.append("eks_llm_open_webui")
    if on_efs and not efs["enabled"]:
        problems.add("eks_llm_efs.enabled", "false, but %s keep their caches on the EFS storage class (claims would stay"
                     " Pending): enable EFS or remove them" % ", ".join(on_efs))
    elif on_efs and EFS_CSI_ADDON not in addons:
        problems.add("eks_llm_cluster.addons", "%s is removed, but %s keep their caches on the EFS storage class it provisions"
                     " (claims would stay Pending): keep the add-on" % (EFS_CSI_ADDON, ", ".join(on_efs)))
    if monitoring["enabled"]:
        return
    scaled = ["eks_llm_models[%d] (%s).autoscaling" % (problems.index("eks_llm_models", i), m["name"])
              for i, m in enumerate(models) if m["autoscaling"]["enabled"]]
    if scaled:
        problems.add("eks_llm_monitoring.enabled", "false, but %s scale on engine metrics that only Prometheus and"
                     " prometheus-adapter (the monitoring stack) provide: enable monitoring or switch autoscaling off"
                     % ", ".join(scaled))
    for key in ("grafana_enabled", "dcgm_exporter", "alerts"):
        if (shaped.get("eks_llm_monitoring") or {}).get(key) is True:
            problems.add("eks_llm_monitoring." + key, "true, but monitoring.enabled is false: %s is part of the monitoring"
                         " stack; enable monitoring or drop the key" % key)
    if verify["enabled"] and (shaped.get("eks_llm_verify") or {}).get("check_prometheus") is True:
        problems.add("eks_llm_verify.check_prometheus", "true, but eks_llm_monitoring.enabled is false: there is no"
                     " Prometheus to ask; set check_prometheus: false or enable monitoring")


def _pool_capacity(problems, pools, models):
    """Each pool's gpu_limit holds its models at their minimum and maximum scale.

    Karpenter's limit counts the GPUs of the nodes it launches; a replica takes ``tensor_parallel`` GPUs and at
    least one node of the smallest eligible type, so the numbers below are lower bounds: above the limit, the
    pool can never hold the models (at minimum scale nothing past the limit starts; at maximum the HPA's
    replicas stay Pending).
    """
    for position, pool in enumerate(pools):
        where = "eks_llm_gpu_node_pools[%d] (%s).gpu_limit" % (problems.index("eks_llm_gpu_node_pools", position), pool["name"])
        placed = [m for m in models if m["node_pool"] == pool["name"] and (m["placement"] or {}).get("eligible_instance_types")]
        if not placed:
            continue
        smallest_node = min(gpu_catalog.INSTANCE_TYPES[t]["gpus"] for m in placed for t in m["placement"]["eligible_instance_types"])
        for scale, replicas_of in (("minimum", gpu_catalog.min_replicas), ("maximum", gpu_catalog.max_replicas)):
            gpus = max(smallest_node, sum(replicas_of(m) * m["tensor_parallel"] for m in placed))
            if gpus > pool["gpu_limit"]:
                parts = ", ".join("%s %d x %d GPU" % (m["name"], replicas_of(m), m["tensor_parallel"]) for m in placed)
                problems.add(where, "%d: the models on this pool need at least %d GPUs at their %s scale (%s%s); raise"
                             " gpu_limit to %d or lower the models' %s" % (
                                 pool["gpu_limit"], gpus, scale, parts,
                                 "; the smallest eligible node has %d" % smallest_node if gpus == smallest_node else "",
                                 gpus, "replicas / autoscaling.min_replicas" if scale == "minimum" else "replicas / autoscaling.max_replicas"))
                break


PROMETHEUS_DURATION_RE = re.compile(r"^([0-9]+(y|w|d|h|m|s|ms))+$")


def _monitoring(problems, monitoring, models, given, addons):
    """eks_llm_monitoring: Prometheus retention/storage and alert thresholds that cannot misfire.

    ``given`` is eks_llm_monitoring as written in the inventory (to tell a chosen storage class from the default),
    ``addons`` the normalised EKS add-ons (the default class needs the EBS CSI driver)."""
    where = "eks_llm_monitoring"
    if not PROMETHEUS_DURATION_RE.match(monitoring["prometheus_retention"]):
        problems.add(where + ".prometheus_retention", "%r is not a Prometheus duration like 15d, 12h or 2w" % monitoring["prometheus_retention"])
    size = monitoring["prometheus_storage_size"]
    if size and not QUANTITY_RE.match(size):
        problems.add(where + ".prometheus_storage_size", "%r is not a Kubernetes storage quantity like 50Gi (empty: no volume)" % size)
    if (given or {}).get("prometheus_storage_class") and not size:
        problems.add(where + ".prometheus_storage_class", "a storage class without prometheus_storage_size has no volume to provision")
    if size and monitoring["prometheus_storage_class"] == BLOCK_STORAGE_CLASS and EBS_CSI_ADDON not in addons:
        problems.add(where + ".prometheus_storage_class", "%r is provisioned by the %s add-on, which eks_llm_cluster.addons removes;"
                     " keep the add-on, name another StorageClass, or set prometheus_storage_size: '' (no volume)"
                     % (BLOCK_STORAGE_CLASS, EBS_CSI_ADDON))
    monitoring = dict(monitoring, prometheus_storage_class=monitoring["prometheus_storage_class"] if size else "")
    limits = monitoring["thresholds"]
    if not 40 <= limits["gpu_temperature_celsius"] <= 110:
        problems.add(where + ".thresholds.gpu_temperature_celsius", "%d: allowed 40-110" % limits["gpu_temperature_celsius"])
    reserved = max([m["gpu_memory_utilization"] for m in models] or [0.0])
    if not reserved < limits["gpu_memory_used_ratio"] <= 1.0:
        problems.add(where + ".thresholds.gpu_memory_used_ratio", "%s: allowed above %s and at most 1.0; vLLM and NIM reserve"
                     " gpu_memory_utilization of GPU memory up front (highest in eks_llm_models: %s), so a lower"
                     " threshold would fire as soon as a model starts" % (limits["gpu_memory_used_ratio"], reserved, reserved))
    if not 0.0 < limits["ttft_p99_seconds"] <= 600:
        problems.add(where + ".thresholds.ttft_p99_seconds", "%s: allowed above 0 up to 600" % limits["ttft_p99_seconds"])
    if not 0.0 < limits["error_ratio"] < 1.0:
        problems.add(where + ".thresholds.error_ratio", "%s: a share of requests, above 0 and below 1" % limits["error_ratio"])
    if limits["waiting_requests"] < 1:
        problems.add(where + ".thresholds.waiting_requests", "%d: at least 1" % limits["waiting_requests"])
    return monitoring


def _front_end(problems, webui, exposure, models, tags):
    if webui["enabled"]:
        if not any(m["engine"] in OPENAI_ENGINES for m in models):
            problems.add("eks_llm_open_webui.enabled", "Open WebUI talks to OpenAI-compatible endpoints; no model uses a NIM"
                         " engine (nim_operator or nim_chart) or vllm, so it would have nothing to show")
        if not DNS_LABEL_RE.match(webui["namespace"]) or webui["namespace"] in RESERVED_NAMESPACES:
            problems.add("eks_llm_open_webui.namespace", "%r is not a namespace Open WebUI can own (DNS label, not one of %s)"
                         % (webui["namespace"], ", ".join(RESERVED_NAMESPACES)))
        if not QUANTITY_RE.match(webui["storage_size"]):
            problems.add("eks_llm_open_webui.storage_size", "%r is not a Kubernetes storage quantity like 5Gi" % webui["storage_size"])
    for cidr in exposure["source_ranges"]:
        try:
            ipaddress.ip_network(cidr)
        except ValueError:
            problems.add("eks_llm_exposure.source_ranges", "%r is not a CIDR block (e.g. 10.0.0.0/8)" % cidr)
    if exposure["source_ranges"] and exposure["mode"] == "cluster_ip":
        problems.add("eks_llm_exposure.source_ranges", "source ranges only apply to mode internal_nlb")
    if exposure["mode"] == "internal_nlb":
        # the NLB gets the deployment's tags through an annotation of comma-separated key=value pairs
        for key, value in sorted(tags.items()):
            if "," in key or "=" in key or "," in str(value):
                problems.add("eks_llm_tags", "tag %r=%r: with eks_llm_exposure.mode internal_nlb the tags reach the load"
                             " balancer as comma-separated key=value pairs, so keys cannot hold ',' or '=' and values"
                             " cannot hold ','" % (key, value))


URL_RE = re.compile(r"^https?://[^/\s]+(/\S*)?$")
# Ports of the Services the inference layer creates (Service name = model name, in the model's namespace).
OPENAI_PORT = 8000
TRITON_HTTP_PORT = 8000
TRITON_METRICS_PORT = 8002


# The API the verify probe speaks to each engine (roles/verify/files/llm_probe.py); NIM engines: "openai".
PROBE_APIS = {"triton_vllm": "triton", "vllm": "vllm"}


def _served_model_name(model):
    """The model name the server lists and requests must name: NIM serves <org>/<model> of its image."""
    if model["served_model_name"]:
        return model["served_model_name"]
    if model["engine"] in ("nim_operator", "nim_chart") and model["nim"]:
        return "/".join(model["nim"]["image"].split("/")[-2:])
    return model["name"]


def _in_cluster_endpoints(model):
    host = "%s.%s.svc.cluster.local" % (model["name"], model["namespace"])
    if model["engine"] == "triton_vllm":
        return {"base_url": "http://%s:%d" % (host, TRITON_HTTP_PORT), "metrics_url": "http://%s:%d/metrics" % (host, TRITON_METRICS_PORT)}
    return {"base_url": "http://%s:%d" % (host, OPENAI_PORT), "metrics_url": "http://%s:%d%s" % (host, OPENAI_PORT, _openai_metrics_path(model))}


def _openai_metrics_path(model):
    """NIM serves its metrics under /v1/metrics; vLLM's OpenAI server at /metrics."""
    return "/metrics" if model["engine"] == "vllm" else "/v1/metrics"


def _kwok_registration_delay(problems, karpenter, auto_mode):
    """eks_llm_karpenter.kwok_node_registration_delay: a field of the local stand-in's KWOKNodeClass (Auto Mode refuses it
    with its own reason)."""
    delay, where = karpenter["kwok_node_registration_delay"], "eks_llm_karpenter.kwok_node_registration_delay"
    if not delay or auto_mode:
        return
    if karpenter["node_class_kind"] != "KWOKNodeClass":
        problems.add(where, "given, but node_class_kind is %s: the delay is a field of the local stand-in's KWOKNodeClass;"
                     " remove the key" % karpenter["node_class_kind"])
    elif not KWOK_DURATION_RE.match(delay):
        problems.add(where, "%r: whole seconds, minutes or hours as the KWOKNodeClass CRD accepts them (e.g. 75s, 1m15s)" % delay)


def _verify(problems, verify, models, charts):
    """eks_llm_verify: where the probe runs and which endpoint of every model it talks to."""
    where = "eks_llm_verify"
    ranges = (("concurrency", 1, 256), ("timeout_s", 1, 3600), ("max_tokens", 1, 8192), ("storage_timeout_s", 30, 3600),
              ("time_to_serving_max_s", 30, 86400))
    for key, low, high in ranges:
        if not low <= verify[key] <= high:
            problems.add("%s.%s" % (where, key), "%d given; allowed %d-%d" % (verify[key], low, high))
    if not DNS_LABEL_RE.match(verify["namespace"]):
        problems.add(where + ".namespace", "%r is not a valid Kubernetes namespace name (the probe Jobs run there): lowercase letters, digits"
                     " and '-', starting with a letter, at most 40 characters" % verify["namespace"])
    names = [m["name"] for m in models]
    overrides = {}
    for name, override in (verify["endpoint_overrides"] or {}).items():
        if name not in names:
            problems.add(where + ".endpoint_overrides", "%r is not a model of eks_llm_models (models: %s)" % (name, ", ".join(names) or "none"))
        if not isinstance(override, dict) or set(override) - {"base_url", "metrics_url"} or not override.get("base_url"):
            problems.add("%s.endpoint_overrides.%s" % (where, name), "expected {base_url: http://host:port, metrics_url: http://host:port/path},"
                         " got %r" % (override,))
            continue
        for key, url in sorted(override.items()):
            if not URL_RE.match(str(url)):
                problems.add("%s.endpoint_overrides.%s.%s" % (where, name, key), "%r is not an http(s) URL" % (url,))
        overrides[name] = override
    endpoints, unreachable = {}, []
    for model in models:
        triton = model["engine"] == "triton_vllm"
        endpoint = _in_cluster_endpoints(model)
        if model["name"] in overrides:
            override = overrides[model["name"]]
            default_metrics = "" if triton else override["base_url"].rstrip("/") + _openai_metrics_path(model)
            endpoint = {"base_url": override["base_url"], "metrics_url": override.get("metrics_url") or default_metrics}
            if verify["expect_metrics"] and not endpoint["metrics_url"]:
                problems.add("%s.endpoint_overrides.%s" % (where, model["name"]), "Triton serves metrics on its own port:"
                             " give metrics_url (e.g. http://host:8002/metrics) or set expect_metrics: false")
        elif verify["mode"] == "controller":
            unreachable.append(model["name"])
        endpoints[model["name"]] = dict(endpoint, api=PROBE_APIS.get(model["engine"], "openai"), namespace=model["namespace"],
                                        served_model_name=model["served_model_name"])
    if verify["enabled"] and unreachable:
        problems.add(where + ".endpoint_overrides", "mode controller probes from the controller, which cannot resolve cluster Service"
                     " names: give base_url (and metrics_url) for %s, or use mode in_cluster" % ", ".join(unreachable))
    prometheus_url = verify["prometheus_url"]
    if prometheus_url and not URL_RE.match(prometheus_url):
        problems.add(where + ".prometheus_url", "%r is not an http(s) URL" % prometheus_url)
    if not prometheus_url and verify["mode"] == "in_cluster":
        prometheus_url = "http://%s-prometheus.%s.svc.cluster.local:9090" % (charts["kube-prometheus-stack"]["release"],
                                                                             PLATFORM["namespaces"]["monitoring"])
    if verify["enabled"] and verify["check_prometheus"] and not prometheus_url:
        problems.add(where + ".prometheus_url", "check_prometheus in mode controller needs a Prometheus URL the controller reaches;"
                     " give prometheus_url or set check_prometheus: false")
    return dict(verify, endpoint_overrides=overrides, endpoints=endpoints, prometheus_url=prometheus_url)


def _workload_credentials(problems, wanted, charts, images):
    """The credential mechanism of each workload that calls AWS, from what its image supports
    (workload_identity.WORKLOADS) and what the inventory asks for (eks_llm_workload_credentials)."""
    chosen = {}
    for workload in sorted(set(wanted) - set(workload_identity.WORKLOADS)):
        problems.add("eks_llm_workload_credentials", "%r is not a workload that calls AWS; known: %s"
                     % (workload, ", ".join(sorted(workload_identity.WORKLOADS))))
    for workload, entry in sorted(workload_identity.WORKLOADS.items()):
        ask = wanted.get(workload) or "auto"
        if ask not in workload_identity.CHOICES:
            problems.add("eks_llm_workload_credentials.%s" % workload, "%r given; allowed: %s" % (ask, ", ".join(workload_identity.CHOICES)))
            continue
        image = images.get(entry["image"]) or "%s:%s" % (  # a chart's workload: the chart's version is its image's
            charts[entry["image"]]["chart_ref"], charts[entry["image"]]["version"] or versions.CHARTS[entry["image"]]["version"])
        mechanism, problem = workload_identity.choose(workload, image, ask)
        if problem:
            problems.add("eks_llm_workload_credentials.%s" % workload, problem)
        chosen[workload] = mechanism
    return chosen


def streams_from_s3(model):
    """True for a model whose engine reads its weights from S3 (an s3:// model_id)."""
    return model["engine"] in VLLM_ENGINES and bool(model["vllm"]) and model["vllm"]["model_id"].startswith("s3://")


# vllm-project/vllm PR #10192 (merged 2024-12): `vllm serve s3://...` with --load-format runai_streamer; v0.7.0 is the
# first release known to carry it (and runai-model-streamer[s3] in the vllm-openai image).
VLLM_S3_STREAMING_FROM = (0, 7, 0)


def _model_sources(problems, models, name, region, bucket, images):
    """Weights in S3 must be in the deployment's model bucket (the only bucket the model readers' roles can read),
    and engine vllm must run an image that streams from S3."""
    for index, model in enumerate(models):
        if not streams_from_s3(model):
            continue
        where = "eks_llm_models[%d] (%s).vllm.model_id" % (problems.index("eks_llm_models", index), model["name"])
        source = s3_location(model["vllm"]["model_id"])
        expected = bucket or "%s-models-<account>-%s" % (name, region)
        if (source["bucket"] != bucket) if bucket else not re.match(r"^%s-models-\d{12}-%s$" % (re.escape(name), re.escape(region)), source["bucket"]):
            problems.add(where, "%r is in bucket %r; the model's pods can read only the model bucket %s (eks_llm_model_bucket.name):"
                         " copy the weights there" % (model["vllm"]["model_id"], source["bucket"], expected))
        elif not source["prefix"]:
            problems.add(where, "%r names no prefix: give the folder that holds config.json, the tokenizer and the *.safetensors"
                         " files (s3://bucket/models/<name>)" % model["vllm"]["model_id"])
        if model["engine"] == "vllm":
            image = images["vllm"]
            version = workload_identity.WORKLOADS["vllm"]["version"](workload_identity.image_tag(image))
            if version is not None and version < VLLM_S3_STREAMING_FROM:
                problems.add(where, "%s cannot stream weights from S3 (--load-format runai_streamer with s3:// models needs"
                             " vllm/vllm-openai >= v%s)" % (image, ".".join(str(part) for part in VLLM_S3_STREAMING_FROM)))


def _service_accounts(name, models, credentials):
    """Every Kubernetes identity with AWS permissions: where it lives, its role and how it gets credentials."""
    def identity(key, entry):
        return dict(entry, role_name="%s-%s" % (name, WORKLOAD_ROLE_SUFFIXES[key]), credentials=credentials[key])
    accounts = dict((key, dict(entry, credentials=workload_identity.POD_IDENTITY)) for key, entry in SERVICE_ACCOUNTS.items())
    accounts.update((key, identity(key, SERVICE_ACCOUNTS[key])) for key in ("karpenter_controller", "fluent_bit"))
    accounts["triton"] = [identity("triton", {"namespace": ns, "service_account": TRITON_SERVICE_ACCOUNT,
                                              "prefix": TRITON_REPOSITORY_PREFIX + "/"})
                          for ns in sorted(set(m["namespace"] for m in models if m["engine"] == "triton_vllm"))]
    # one per namespace, with the folder of its first streamed model by name (what verify reads with the account's role)
    first_folder = {}
    for model in sorted(models, key=lambda m: m["name"]):
        if model["engine"] == "vllm" and streams_from_s3(model):
            first_folder.setdefault(model["namespace"], s3_location(model["vllm"]["model_id"])["prefix"] + "/")
    accounts["vllm"] = [identity("vllm", {"namespace": ns, "service_account": VLLM_SERVICE_ACCOUNT, "prefix": prefix})
                        for ns, prefix in sorted(first_folder.items())]
    return accounts


def _apply_run_overrides(problems, params):
    """The eks_llm_run_* answers written into the model, its pool and the benchmark they change."""
    models, pools = params["eks_llm_models"], params["eks_llm_gpu_node_pools"]
    wanted = params["eks_llm_run_model"]
    if wanted and wanted not in [m["name"] for m in models]:
        problems.add("eks_llm_run_model", "%r is not a model of eks_llm_models (models: %s)" % (wanted, ", ".join(m["name"] for m in models) or "none"))
        return
    asked = dict((k, params[k]) for k in RUN_OVERRIDES if k != "eks_llm_run_model" and params[k] not in (None, "", []))
    if not asked:
        return
    chosen = [m for m in models if m["name"] == wanted] if wanted else models
    if len(chosen) != 1:
        problems.add("eks_llm_run_model", "%r: %s set, so name the model of eks_llm_models they change (models: %s)"
                     % (wanted, ", ".join(sorted(asked)), ", ".join(m["name"] for m in models) or "none"))
        return
    model = chosen[0]
    if params["eks_llm_run_engine"]:
        model["engine"] = params["eks_llm_run_engine"]
    if params["eks_llm_run_replicas"] is not None:
        model["replicas"] = params["eks_llm_run_replicas"]
        model["autoscaling"] = dict(model["autoscaling"], min_replicas=params["eks_llm_run_replicas"])
    pool_name = model["node_pool"] or (pools[0]["name"] if len(pools) == 1 else None)
    pool = dict((p["name"], p) for p in pools).get(pool_name)
    if pool is not None and params["eks_llm_run_gpu_instance_type"]:
        pool["instance_types"], pool["instance_families"] = [params["eks_llm_run_gpu_instance_type"]], []
    if pool is not None and params["eks_llm_run_gpu_limit"] is not None:
        pool["gpu_limit"] = params["eks_llm_run_gpu_limit"]
    bench = params["eks_llm_benchmark"]
    if params["eks_llm_run_benchmark_concurrencies"]:
        bench["profiles"] = [dict(p, concurrencies=params["eks_llm_run_benchmark_concurrencies"]) for p in bench["profiles"]]
    for variable, metric in sorted(RUN_SLOS.items()):
        if params[variable] is not None:
            kept = [s for s in bench["slos"] if not (isinstance(s, dict) and s.get("metric") == metric and s.get("stat", "p99") == "p99")]
            bench["slos"] = kept + [{"metric": metric, "stat": "p99", "max": params[variable]}]


def _check_reports_s3_uri(problems, uri):
    if uri and not S3_URI_RE.match(uri):
        problems.add("eks_llm_reports_s3_uri", "%r is not an S3 location like s3://bucket/prefix (bucket: 3-63 lowercase letters,"
                     " digits, '.', '-')" % uri)


def s3_location(uri):
    """{bucket, prefix} of an s3:// URI (prefix without slashes at either end); {} when not set."""
    if not uri:
        return {}
    bucket, _sep, prefix = uri[len("s3://"):].partition("/")
    return {"bucket": bucket, "prefix": prefix.strip("/")}


def validate(variables):
    """Validate the ``eks_llm_*`` variables. Returns (normalised_config, problems, warnings)."""
    problems = Problems()
    given = dict((k, v) for k, v in variables.items() if k.startswith("eks_llm_") and k not in PLAYBOOK_VARIABLES
                 # an unanswered optional survey question arrives empty: the inventory's value stays
                 and not (k in RUN_OVERRIDES and v in ("", None)))
    shaped = inventory_shape.check(problems, SPEC, given)
    for key, placeholder in (("eks_llm_name", "unnamed"), ("eks_llm_region", REGIONS[0])):
        # reported already; a stand-in value lets every other variable be checked in the same run
        shaped.setdefault(key, placeholder)
    result = ArgumentSpecValidator(SPEC).validate(shaped)
    for error in result.error_messages:  # the shape check should have said it all; never silently pass
        problems.add("inventory", error)
    if result.error_messages:
        return None, problems.items, []
    params = result.validated_parameters
    warnings = []
    _apply_run_overrides(problems, params)
    _check_reports_s3_uri(problems, params["eks_llm_reports_s3_uri"])
    _check_name(problems, params["eks_llm_name"])
    if params["eks_llm_region"] not in REGIONS:
        problems.add("eks_llm_region", "%r is not an AWS region with EKS; allowed: %s" % (params["eks_llm_region"], ", ".join(REGIONS)))
    _check_tags(problems, params["eks_llm_tags"])
    bucket = params["eks_llm_model_bucket"]["name"]
    if bucket and (not BUCKET_RE.match(bucket) or ".." in bucket or re.match(r"^\d+\.\d+\.\d+\.\d+$", bucket)):
        problems.add("eks_llm_model_bucket.name", "%r is not a valid S3 bucket name (3-63 lowercase letters, digits, '.', '-')" % bucket)
    if params["eks_llm_logging"]["retention_days"] not in LOG_RETENTION_DAYS:
        problems.add("eks_llm_logging.retention_days", "%d is not a CloudWatch Logs retention; allowed: %s"
                     % (params["eks_llm_logging"]["retention_days"], ", ".join(str(d) for d in LOG_RETENTION_DAYS)))
    network = _network(problems, params["eks_llm_region"], params["eks_llm_network"])
    cluster = _cluster(problems, params["eks_llm_cluster"])
    auto_mode = cluster["compute_mode"] == "auto_mode"
    if auto_mode:
        _auto_mode(problems, params, shaped)
        # no queue (Auto Mode handles interruptions), no controller replicas of ours
        params["eks_llm_karpenter"] = dict(params["eks_llm_karpenter"], interruption_queue=False)
    # the add-ons the checks below count on: Auto Mode's built-in EBS CSI driver provisions the gp3 class too
    checked_addons = dict(cluster["addons"], **({EBS_CSI_ADDON: {"version": "built-in", "configuration": {}}} if auto_mode else {}))
    core_nodes = _core_nodes(problems, params["eks_llm_core_nodes"])
    pools = _pools(problems, params["eks_llm_gpu_node_pools"])
    models = _models(problems, params["eks_llm_models"], pools, params["eks_llm_ngc_api_key"], params["eks_llm_hf_token"])
    _pool_capacity(problems, pools, models)
    reserved = [p["name"] for p in pools if "reserved" in p["capacity_types"]]
    if reserved and not auto_mode and not params["eks_llm_karpenter"]["interruption_queue"]:
        warnings.append("GPU node pool(s) %s use reserved capacity but eks_llm_karpenter.interruption_queue is false: Karpenter"
                        " gets no EC2 Capacity Reservation interruption warnings and learns of a reclaimed node only when it"
                        " is gone (it still drains Capacity Block nodes 40 minutes before the block ends)" % ", ".join(reserved))
    _dependencies(problems, params, models, checked_addons, shaped)
    gated = [m["name"] for m in models if m["engine"] in VLLM_ENGINES and m["vllm"] and m["vllm"]["model_id"].startswith(GATED_HF_PREFIXES)]
    if gated and not params["eks_llm_hf_token"]:
        warnings.append("no Hugging Face token (HF_TOKEN / eks_llm_hf_token): %s %s gated on Hugging Face and will fail to download"
                        " (accept the model's license with your account, then export HF_TOKEN)"
                        % (", ".join(gated), "is" if len(gated) == 1 else "are"))
    _front_end(problems, params["eks_llm_open_webui"], params["eks_llm_exposure"], models, params["eks_llm_tags"])
    monitoring = _monitoring(problems, params["eks_llm_monitoring"], models, shaped.get("eks_llm_monitoring"), checked_addons)
    _kwok_registration_delay(problems, params["eks_llm_karpenter"], auto_mode)
    if not 1 <= params["eks_llm_karpenter"]["replicas"] <= 3:
        problems.add("eks_llm_karpenter.replicas", "%d: 1-3 controller replicas (2 keeps Karpenter up during a node replacement)"
                     % params["eks_llm_karpenter"]["replicas"])
    ceiling = params["eks_llm_preflight"]["max_usd_per_hour"]
    if ceiling is not None and ceiling <= 0:
        problems.add("eks_llm_preflight.max_usd_per_hour", "%s: a ceiling in USD per hour above 0 (leave it unset for none)" % ceiling)
    if ceiling is not None and not params["eks_llm_preflight"]["estimate_cost"]:
        problems.add("eks_llm_preflight.max_usd_per_hour", "set, but estimate_cost is false: the ceiling is checked against"
                     " the estimate; set estimate_cost: true or remove the ceiling")
    if not 1 <= params["eks_llm_gpu_software"]["time_slicing_replicas"] <= 16:
        problems.add("eks_llm_gpu_software.time_slicing_replicas", "%d: 1 (no sharing) to 16 pods per GPU"
                     % params["eks_llm_gpu_software"]["time_slicing_replicas"])
    charts, images = versions.resolve(params["eks_llm_chart_overrides"], params["eks_llm_image_overrides"], problems)
    credentials = _workload_credentials(problems, params["eks_llm_workload_credentials"], charts, images)
    _model_sources(problems, models, params["eks_llm_name"], params["eks_llm_region"], bucket, images)
    verify = params["eks_llm_verify"]
    if not params["eks_llm_monitoring"]["enabled"]:
        # no Prometheus, no HPA metrics: the checks that read them are off unless the inventory insists (a problem above)
        written = shaped.get("eks_llm_verify") or {}
        verify = dict(verify, check_prometheus=written.get("check_prometheus") is True, check_hpa=written.get("check_hpa") is True)
    verify = _verify(problems, verify, models, charts)
    bench = benchmark_plan.validate(problems, params["eks_llm_benchmark"], models, {
        "in_cluster_endpoints": _in_cluster_endpoints, "url_re": URL_RE, "slo_metrics": benchmark_results.SLO_METRICS,
        "slo_stats": benchmark_results.SLO_STATS, "goodput_keys": benchmark_results.GOODPUT_THRESHOLDS})
    bench_image = benchmark_plan.job_image({"images": images, "benchmark": bench})
    if bench["enabled"] and bench["mode"] == "in_cluster" and benchmark_plan.on_ngc_registry(bench_image) and not params["eks_llm_ngc_api_key"]:
        problems.add("eks_llm_benchmark", "the in-cluster benchmark Job pulls %s from nvcr.io, which needs the NGC pull secret:"
                     " set NGC_API_KEY in the environment or eks_llm_ngc_api_key (Ansible Vault), or point"
                     " eks_llm_image_overrides at a mirror" % bench_image)
    if problems.items:
        return None, problems.items, warnings
    name = params["eks_llm_name"]
    tags = dict(params["eks_llm_tags"])
    tags.update({DEPLOYMENT_TAG: name, MANAGED_BY_TAG: MANAGED_BY})
    config = {
        "name": name,
        "region": params["eks_llm_region"],
        "aws_endpoint_url": params["eks_llm_aws_endpoint_url"],
        "tags": tags,
        "network": network,
        "cluster": cluster,
        "core_nodes": core_nodes,
        "gpu_node_pools": pools,
        "efs": params["eks_llm_efs"],
        "model_bucket": params["eks_llm_model_bucket"],
        "logging": params["eks_llm_logging"],
        "monitoring": monitoring,
        "karpenter": params["eks_llm_karpenter"],
        "preflight": params["eks_llm_preflight"],
        "models": models,
        "verify": verify,
        "benchmark": bench,
        "open_webui": params["eks_llm_open_webui"],
        "exposure": params["eks_llm_exposure"],
        "engines": sorted(set(m["engine"] for m in models)),
        "service_accounts": _service_accounts(name, models, credentials),
        "workload_credentials": credentials,
        "gpu_software": params["eks_llm_gpu_software"],
        "ami_aliases": dict(versions.AMI_ALIASES),
        "charts": charts,
        "images": images,
        "platform": dict(PLATFORM, labels={"app.kubernetes.io/managed-by": MANAGED_BY, "app.kubernetes.io/part-of": name}),
        "has_ngc_api_key": bool(params["eks_llm_ngc_api_key"]),
        "has_hf_token": bool(params["eks_llm_hf_token"]),
        "reports_s3": s3_location(params["eks_llm_reports_s3_uri"]),
        # CloudWatch log groups: EKS names the control plane's after the cluster; Fluent Bit ships containers' logs to
        # the other (created by the logging role's log_group entry point, written by its role, read by verify)
        "log_groups": {"cluster": "/aws/eks/%s/cluster" % name, "workloads": "/aws/eks/%s/workloads" % name},
    }
    return config, [], warnings
