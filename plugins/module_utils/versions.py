# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
"""Every Helm chart and container image the collection deploys, pinned in one place.

A release of the collection is tested with exactly these versions. The inventory may point a chart
at another source (``eks_llm_chart_overrides``: an internal mirror, or the stand-in charts the local
environment uses) or an image at a mirror (``eks_llm_image_overrides``), but the names are fixed
here so a typo cannot silently deploy something else.
"""

# The collection itself: the user agent of our AWS calls, and the managed-by label and tag of everything it creates
# (galaxy.yml's namespace.name and version; tests/unit/test_collection_build.py keeps them equal).
COLLECTION_NAME = "eks_llm.inference"
COLLECTION_VERSION = "0.1.0"

# ``auth: ngc`` marks a chart whose repository needs NGC credentials (user ``$oauthtoken``, the NGC API key as
# password). NGC's Helm repositories are https://helm.ngc.nvidia.com/<org>: the ``nvidia`` org is public, every
# other org (``nim``...) refuses anonymous pulls (tests/unit/plugins/module_utils/test_ngc_auth.py keeps this true).
# The marker stays when the inventory points the chart at another repository (a mirror of NGC keeps the auth).
CHARTS = {
    "karpenter": {
        "chart_ref": "oci://public.ecr.aws/karpenter/karpenter", "repo_url": "", "version": "1.14.3",
        "release": "karpenter", "namespace": "karpenter",
    },
    "nvidia-device-plugin": {
        "chart_ref": "nvidia-device-plugin", "repo_url": "https://nvidia.github.io/k8s-device-plugin", "version": "0.18.0",
        "release": "nvidia-device-plugin", "namespace": "gpu-system",
    },
    "gpu-operator": {
        "chart_ref": "gpu-operator", "repo_url": "https://helm.ngc.nvidia.com/nvidia", "version": "v25.10.0",
        "release": "gpu-operator", "namespace": "gpu-system",
    },
    "dcgm-exporter": {
        "chart_ref": "dcgm-exporter", "repo_url": "https://nvidia.github.io/dcgm-exporter/helm-charts", "version": "4.6.0",
        "release": "dcgm-exporter", "namespace": "gpu-system",
    },
    "kube-prometheus-stack": {
        "chart_ref": "kube-prometheus-stack", "repo_url": "https://prometheus-community.github.io/helm-charts", "version": "79.0.1",
        "release": "kube-prometheus-stack", "namespace": "monitoring",
    },
    "prometheus-adapter": {
        "chart_ref": "prometheus-adapter", "repo_url": "https://prometheus-community.github.io/helm-charts", "version": "5.2.0",
        "release": "prometheus-adapter", "namespace": "monitoring",
    },
    "fluent-bit": {
        "chart_ref": "aws-for-fluent-bit", "repo_url": "https://aws.github.io/eks-charts", "version": "0.1.35",
        "release": "fluent-bit", "namespace": "logging",
    },
    "k8s-nim-operator": {
        "chart_ref": "k8s-nim-operator", "repo_url": "https://helm.ngc.nvidia.com/nvidia", "version": "v3.0.2",
        "release": "nim-operator", "namespace": "nim-operator",
    },
    "nim-llm": {
        "chart_ref": "nim-llm", "repo_url": "https://helm.ngc.nvidia.com/nim", "version": "1.7.0",
        "release": "", "namespace": "", "auth": "ngc",
    },
}

IMAGES = {
    "triton_vllm": "nvcr.io/nvidia/tritonserver:25.10-vllm-python-py3",
    # vLLM's own OpenAI-compatible server (engine vllm). v0.26.0: release notes of 2026-09 (dependency bumps to
    # vllm 0.26.0 from 2026-09-04 on). Its metrics are the V1 engine's `vllm:` names (VLLM_VERSION below).
    "vllm": "vllm/vllm-openai:v0.26.0",
    "triton_sdk": "nvcr.io/nvidia/tritonserver:25.10-py3-sdk",
    # AIPerf's own image (its Helm chart: image.repository nvcr.io/nvidia/aiperf, tag = the release without "v"),
    # the same release as the controller's `make aiperf` (Makefile AIPERF_VERSION): tests/upstream/aiperf_image.json
    "aiperf": "nvcr.io/nvidia/aiperf:0.13.0",
    "python": "public.ecr.aws/docker/library/python:3.12.12-slim",
    "open_webui": "ghcr.io/open-webui/open-webui:v0.6.36",
    # The fluent-bit chart (0.1.35) defaults to 2.32.2.20240516, which cannot use EKS Pod Identity (2.32.5 can):
    # the image is set explicitly. 2.34.x keeps Fluent Bit 1.9.10, whose configuration the chart renders.
    "fluent_bit": "public.ecr.aws/aws-observability/aws-for-fluent-bit:2.34.1.20251112",
}

# The vLLM release inside IMAGES["vllm"]: the LLM stand-in exports this release's metric names (tests/standin/llm_server.py,
# flavor vllm: V1 names with the `vllm:` prefix, e.g. vllm:num_requests_waiting and vllm:kv_cache_usage_perc; the
# V0-era vllm:gpu_cache_usage_perc and vllm:time_per_output_token_seconds are gone), and a unit test keeps the two equal.
VLLM_VERSION = "0.26.0"

# Karpenter AMI aliases per node pool ami_family: pinned, so a new AMI release is a reviewed change.
# For GPU instance types Karpenter resolves these to the NVIDIA variants (drivers and toolkit included).
AMI_ALIASES = {
    "al2023": "al2023@v20251016",
    "bottlerocket": "bottlerocket@v1.50.0",
}

CHART_OVERRIDE_KEYS = ("chart_ref", "repo_url", "version")


def resolve(chart_overrides, image_overrides, problems):
    """Apply the inventory's overrides; report unknown names or keys to ``problems``."""
    charts = dict((name, dict(spec)) for name, spec in CHARTS.items())
    for name, override in (chart_overrides or {}).items():
        if name not in charts:
            problems.add("eks_llm_chart_overrides", "%r is not a chart the collection deploys; known: %s" % (name, ", ".join(sorted(charts))))
            continue
        if not isinstance(override, dict) or set(override) - set(CHART_OVERRIDE_KEYS):
            problems.add("eks_llm_chart_overrides.%s" % name, "expected a dict with %s, got %r" % (", ".join(CHART_OVERRIDE_KEYS), override))
            continue
        charts[name].update(override)
        if charts[name]["chart_ref"].startswith(("/", "./", "../")):
            # a chart directory carries its own version (helm rejects a different one) and needs no repository
            charts[name]["version"] = override.get("version", "")
            charts[name]["repo_url"] = override.get("repo_url", "")
    images = dict(IMAGES)
    for name, image in (image_overrides or {}).items():
        if name not in images:
            problems.add("eks_llm_image_overrides", "%r is not an image the collection deploys; known: %s" % (name, ", ".join(sorted(images))))
            continue
        if not isinstance(image, str) or ":" not in image.rsplit("/", 1)[-1] or image.endswith(":latest"):
            problems.add("eks_llm_image_overrides.%s" % name, "%r: give a full reference with a pinned tag (not latest)" % (image,))
            continue
        images[name] = image
    return charts, images
