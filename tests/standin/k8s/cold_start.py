"""A GPU pod's cold start on the local Kubernetes, phase by phase, with real durations scaled down.

On EKS a model's first pod waits for its GPU node to boot, then for the engine image to be pulled (NIM and Triton
images are 10-20 GB), then for the engine to load the weights before its readiness probe passes. KWOK readies a pod
at once and records no kubelet events, so a local time to serving would show nothing. Here:

* the node's boot is the KWOKNodeClass's ``nodeRegistrationDelay`` (Karpenter's KWOK provider creates the Node that
  long after the NodeClaim; KWOK's node stages then report it Ready from its creation). The local inventory reads it
  from EKS_LLM_STANDIN_NODE_REGISTRATION_DELAY, which ``make local-up`` writes;
* pods that request ``nvidia.com/gpu`` (the engines) go through four Stages once scheduled and their volumes are
  mounted (the kubelet mounts before it pulls): Pulling -> (image pull) -> Pulled -> Started -> (engine load) ->
  loaded, with the kubelet's event reasons; upstream KWOK's pod-ready Stage waits for ``loaded`` and for the mounts
  (GATE_SELECTOR).

Durations are what a cold start of an 8B model on a g5/g6e node takes on AWS (REAL_SECONDS) times the scale: the
cluster start's ``--cold-start-scale`` (default: EKS_LLM_STANDIN_COLD_START_SCALE, else DEFAULT_SCALE); 0 keeps the
events and drops the waits.
"""
import os

# A cold start on AWS, seconds: EC2 launch + GPU AMI boot + kubelet registration (~1-1.5 min); a 12-15 GB engine image
# (NIM, Triton, vLLM) pulled and unpacked at ~100 MB/s; an 8B model's weights read from its EFS cache into GPU memory
# and the engine warmed up (ai-on-eks measured ~81 s for a cached Llama-3.1-8B NIM on g5, pod start -> ready).
REAL_SECONDS = {"node_boot": 75, "image_pull": 150, "engine_load": 90}
DEFAULT_SCALE = 0.02
SCALE_VARIABLE = "EKS_LLM_STANDIN_COLD_START_SCALE"
REGISTRATION_DELAY_VARIABLE = "EKS_LLM_STANDIN_NODE_REGISTRATION_DELAY"
ANNOTATION = "standin.eks-llm/cold-start"

# A jq expression: for a pod with a GPU, where its cold start is; "cpu" for every other pod.
_PHASE = ('if ([.spec.containers[]? | select(.resources.limits["nvidia.com/gpu"] != null)] | length) > 0'
          ' then (.metadata.annotations["%s"] // "pending") else "cpu" end' % ANNOTATION)
# A pod's claims are mounted once the volume stand-in (efs_csi_ext) says so in its verdict annotation; "none" for a pod
# without claims. The kubelet pulls only after mounting, and readies no pod whose volumes are not mounted.
_MOUNTED = ('if ([.spec.volumes[]? | select(.persistentVolumeClaim)] | length) > 0'
            ' then (.metadata.annotations["standin.eks-llm/volumes"] // "pending") else "none" end')


def _selector_term(expression, values):
    """One matchExpressions entry as YAML text, indented for upstream's Stage files."""
    return "    - key: '%s'\n      operator: 'In'\n      values:\n%s" % (expression, "".join("      - '%s'\n" % v for v in values))


# The terms added to upstream's pod-ready Stage: volumes mounted, and a GPU pod's engine loaded.
GATE_SELECTOR = _selector_term(_MOUNTED, ["none", "mounted"]) + _selector_term(_PHASE, ["cpu", "loaded"])


def scale_from(value=None):
    """The scale given, else the environment's, else DEFAULT_SCALE; refuses a negative one."""
    if value is None:
        value = os.environ.get(SCALE_VARIABLE) or DEFAULT_SCALE
    scale = float(value)
    if scale < 0:
        raise ValueError("the cold start scale must be 0 or more, got %s" % value)
    return scale


def durations(scale):
    """Wall seconds of each phase here."""
    return dict((phase, round(seconds * scale, 3)) for phase, seconds in REAL_SECONDS.items())


def registration_seconds(scale):
    """The node boot here in whole seconds, as the KWOKNodeClass CRD takes it (at least 1 when scaled at all)."""
    seconds = REAL_SECONDS["node_boot"] * scale
    return max(1, round(seconds)) if seconds > 0 else 0


def registration_delay(scale):
    """registration_seconds as the KWOKNodeClass's nodeRegistrationDelay ('2s'); '' for none."""
    seconds = registration_seconds(scale)
    return "%ds" % seconds if seconds else ""


def _stage(name, phase_now, delay_s, event, next_phase):
    expressions = [
        {"key": ".metadata.deletionTimestamp", "operator": "DoesNotExist"},
        {"key": ".spec.nodeName", "operator": "Exists"},
        {"key": ".status.phase", "operator": "In", "values": ["Pending"]},
        {"key": _MOUNTED, "operator": "In", "values": ["none", "mounted"]},
        {"key": _PHASE, "operator": "In", "values": [phase_now]},
    ]
    steps = [{"event": {"type": "Normal", "reason": event[0], "message": event[1]}}] if event else []
    steps.append({"patch": {"root": "metadata", "type": "merge", "template": "annotations:\n  %s: %s\n" % (ANNOTATION, next_phase)}})
    spec = {"resourceRef": {"apiGroup": "v1", "kind": "Pod"}, "selector": {"matchExpressions": expressions}, "steps": steps}
    if delay_s:
        spec["delay"] = {"durationMilliseconds": int(delay_s * 1000)}
    return {"apiVersion": "kwok.x-k8s.io/v1alpha1", "kind": "Stage", "metadata": {"name": name}, "spec": spec}


def stages(scale):
    """The Stage objects of a GPU pod's cold start."""
    took = durations(scale)
    pulled = "Successfully pulled image in %gs (the stand-in's scaled %d s pull)" % (took["image_pull"], REAL_SECONDS["image_pull"])
    return [
        _stage("eks-llm-gpu-pod-pulling", "pending", 0, ("Pulling", "Pulling image"), "pulling"),
        _stage("eks-llm-gpu-pod-pulled", "pulling", took["image_pull"], ("Pulled", pulled), "pulled"),
        _stage("eks-llm-gpu-pod-started", "pulled", 0, ("Started", "Started container"), "loading"),
        _stage("eks-llm-gpu-pod-loaded", "loading", took["engine_load"], None, "loaded"),
    ]
