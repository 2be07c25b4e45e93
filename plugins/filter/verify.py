# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
"""Filters of the verify role: judge what the Kubernetes API returned, read the probe's result, write the report.

Every check is a record ``{model, check, ok, expected, got}``; ``ok`` is None for a check the inventory
switched off (then ``got`` says which setting). Nothing passes by default: a missing object, an empty
list or an unknown value is a failure that says what came back.
"""

import json

from ansible_collections.eks_llm.inference.plugins.module_utils import inference, time_to_serving as serving_time, verify_objects

RESULT_MARKER = "EKS_LLM_PROBE_RESULT "


def _check(model, name, ok, expected, got):
    return {"model": model, "check": name, "ok": ok, "expected": expected, "got": got}


def _by_item(results):
    """Registered loop results -> {(namespace, name, kind): [resources]} (kind may be absent)."""
    found = {}
    for result in results or []:
        item = result.get("item") or {}
        key = (item.get("namespace"), item.get("name"), item.get("kind"))
        found[key] = result.get("resources") or []
    return found


def _condition(obj, kind):
    for condition in (obj.get("status") or {}).get("conditions") or []:
        if condition.get("type") == kind:
            return condition
    return {}


def _rollout(obj):
    """(complete, description) of a Deployment or StatefulSet."""
    spec, status, meta = obj.get("spec") or {}, obj.get("status") or {}, obj.get("metadata") or {}
    wanted = spec.get("replicas", 1)
    ready = status.get("readyReplicas", 0)
    updated = status.get("updatedReplicas", 0)
    available = status.get("availableReplicas", ready)
    observed = status.get("observedGeneration", 0) >= meta.get("generation", 1)
    got = "%s %s/%s: %d/%d ready, %d updated, %d available%s" % (
        obj.get("kind"), meta.get("namespace"), meta.get("name"), ready, wanted, updated, available,
        "" if observed else ", generation %s not observed yet" % meta.get("generation"))
    if obj.get("kind") == "StatefulSet" and status.get("updateRevision") != status.get("currentRevision"):
        return False, got + ", revision %s not rolled out" % status.get("updateRevision")
    return wanted >= 1 and observed and ready == wanted and updated == wanted and available == wanted, got


def workload_kinds(models):
    """What to read for each model: [{name, namespace, kind, api_version, object_name}] (a NIMCache's name carries a
    hash of what it holds: inference.nim_cache_name)."""
    reads = []
    for model in models:
        if model["engine"] == "nim_operator":
            kinds = [("apps.nvidia.com/v1alpha1", "NIMCache", inference.nim_cache_name(model)),
                     ("apps.nvidia.com/v1alpha1", "NIMService", model["name"])]
        else:
            kinds = [("apps/v1", "Deployment", model["name"]), ("apps/v1", "StatefulSet", model["name"])]
        reads.extend({"name": model["name"], "namespace": model["namespace"], "kind": kind, "api_version": api, "object_name": name}
                     for api, kind, name in kinds)
    return reads


def service_pod_selectors(service_results):
    """[{name, namespace, selector: 'k=v,...'}] for every model Service found with a selector."""
    reads = []
    for result in service_results or []:
        item = result.get("item") or {}
        for service in result.get("resources") or []:
            selector = (service.get("spec") or {}).get("selector") or {}
            if selector:
                reads.append({"name": item["name"], "namespace": item["namespace"],
                              "selector": ",".join("%s=%s" % (k, v) for k, v in sorted(selector.items()))})
    return reads


def _mount_failures(events):
    """FailedMount messages by (namespace, pod name), newest last."""
    failures = {}
    for event in sorted(events or [], key=lambda e: e.get("lastTimestamp") or e.get("eventTime") or ""):
        involved = event.get("involvedObject") or {}
        if event.get("reason") == "FailedMount" and involved.get("kind") == "Pod":
            failures.setdefault((involved.get("namespace"), involved.get("name")), []).append(event.get("message") or "")
    return failures


def _mount_cause(messages):
    """The cause of a pod's failed volume mounts, in words."""
    message = messages[-1]
    if "access denied by server" in message:
        return ("EFS mount denied by the file system policy (or the node role's IAM permissions for "
                "elasticfilesystem:ClientMount/ClientWrite): %s" % message)
    return "volume mount failed: %s" % message


def workload_checks(models, workload_results, service_results, pod_results, nodes, pool_label, events=None):
    """Checks of every model's workload: rolled out / Ready, Service with a selector, pods Ready on the model's pool.

    events: FailedMount events of the models' namespaces; a pod that is not Ready because its volumes
    cannot be mounted says why (an EFS mount refused by the file system policy shows here on a real cluster).
    """
    mount_failures = _mount_failures(events)
    workloads, services, pods = _by_item(workload_results), _by_item(service_results), _by_item(pod_results)
    node_pools = dict(((n.get("metadata") or {}).get("name"), ((n.get("metadata") or {}).get("labels") or {}).get(pool_label))
                      for n in nodes or [])
    checks = []
    for model in models:
        name, namespace = model["name"], model["namespace"]
        where = "%s/%s" % (namespace, name)
        if model["engine"] == "nim_operator":
            for kind in ("NIMCache", "NIMService"):
                found = workloads.get((namespace, name, kind)) or []
                state = ((found[0].get("status") or {}).get("state") if found else None)
                got = "%s %s: state %s" % (kind, where, state) if found else "no %s %s" % (kind, where)
                if found and state != "Ready":
                    message = _condition(found[0], "Ready").get("message") or _condition(found[0], "Failed").get("message")
                    got += " (%s)" % message if message else ""
                checks.append(_check(name, kind.lower(), found != [] and state == "Ready", "%s %s with status.state Ready" % (kind, where), got))
        else:
            found = (workloads.get((namespace, name, "Deployment")) or []) + (workloads.get((namespace, name, "StatefulSet")) or [])
            if found:
                ok, got = _rollout(found[0])
            else:
                ok, got = False, "neither a Deployment nor a StatefulSet %s" % where
            checks.append(_check(name, "rollout", ok, "Deployment or StatefulSet %s rolled out, every replica ready" % where, got))
        service = services.get((namespace, name, None)) or []
        selector = ((service[0].get("spec") or {}).get("selector") or {}) if service else {}
        if not service:
            got = "no Service %s" % where
        elif not selector:
            got = "Service %s has no pod selector" % where
        else:
            got = "Service %s selects %s" % (where, ", ".join("%s=%s" % kv for kv in sorted(selector.items())))
        checks.append(_check(name, "service", bool(selector), "Service %s selecting the model's pods" % where, got))
        model_pods = [p for p in pods.get((namespace, name, None)) or [] if not (p.get("metadata") or {}).get("deletionTimestamp")]
        expected = "Ready pods of Service %s, all on nodes labelled %s=%s" % (where, pool_label, model["node_pool"])
        if not selector:
            checks.append(_check(name, "pods", False, expected, "no pods to judge: %s" % got))
            continue
        if not model_pods:
            checks.append(_check(name, "pods", False, expected, "no pods match the Service's selector"))
            continue
        problems, placed = [], []
        for pod in model_pods:
            pod_name = pod["metadata"]["name"]
            node = (pod.get("spec") or {}).get("nodeName")
            ready = _condition(pod, "Ready").get("status") == "True"
            if not ready:
                problems.append("pod %s not Ready (phase %s)" % (pod_name, (pod.get("status") or {}).get("phase")))
                if (namespace, pod_name) in mount_failures:
                    problems[-1] += ": " + _mount_cause(mount_failures[(namespace, pod_name)])
            if not node:
                problems.append("pod %s not scheduled" % pod_name)
            elif node_pools.get(node) != model["node_pool"]:
                problems.append("pod %s on node %s (%s=%s)" % (pod_name, node, pool_label, node_pools.get(node) or "unlabelled"))
            else:
                placed.append("%s on %s" % (pod_name, node))
        checks.append(_check(name, "pods", not problems, expected, "; ".join(problems) if problems else ", ".join(placed)))
    return checks


def _typed(entry):
    """The type-named body of an HPA metric entry: Pods -> pods, Object -> object, ContainerResource -> containerResource."""
    kind = entry.get("type") or ""
    return kind, entry.get(kind[:1].lower() + kind[1:]) or {}


def _metric_name(body):
    return (body.get("metric") or {}).get("name") or body.get("name") or ""


def hpa_metric_values(hpa):
    """[(metric name, current value or '')] for every metric the HPA's spec names ('' is what kubectl shows as <unknown>)."""
    current = {}
    for entry in (hpa.get("status") or {}).get("currentMetrics") or []:
        kind, body = _typed(entry)
        value = body.get("current") or {}
        found = [str(value[key]) for key in ("averageValue", "value", "averageUtilization") if value.get(key) not in (None, "")]
        current[(kind, _metric_name(body))] = found[0] if found else ""
    result = []
    for entry in (hpa.get("spec") or {}).get("metrics") or []:
        kind, body = _typed(entry)
        result.append((_metric_name(body), current.get((kind, _metric_name(body)), "")))
    return result


def hpa_value(resources, metric):
    """'name = value, ...' when the HPA names `metric` and every metric of its spec has a current value, else ''."""
    for hpa in resources or []:
        values = hpa_metric_values(hpa)
        if any(name == metric for name, dummy in values) and all(value for dummy, value in values):
            return ", ".join("%s = %s" % item for item in values)
    return ""


def hpa_checks(models, hpa_results, metrics):
    """For every autoscaled model: its HPA exists, scales on the engine's custom metric, and each of its metrics has a value."""
    found = _by_item(hpa_results)
    checks = []
    for model in models:
        if not model["autoscaling"]["enabled"]:
            continue
        metric = metrics["triton" if model["engine"] == "triton_vllm" else "openai"]
        where = "%s/%s" % (model["namespace"], model["name"])
        expected = "HPA %s on pods metric %s, every metric with a current value" % (where, metric)
        hpas = found.get((model["namespace"], model["name"], None)) or []
        values = hpa_metric_values(hpas[0]) if hpas else []
        unknown = [name for name, value in values if not value]
        if not hpas:
            got = "no HPA %s" % where
        elif metric not in [name for name, dummy in values]:
            got = "HPA %s scales on %s, not on %s" % (where, ", ".join(name for name, dummy in values) or "no metric", metric)
        elif unknown:
            active = _condition(hpas[0], "ScalingActive")
            got = "%s is <unknown>%s" % (", ".join(unknown), " (ScalingActive %s: %s)" % (active.get("reason"), active.get("message")) if active else "")
        else:
            got = ", ".join("%s = %s" % item for item in values)
        ok = bool(hpas) and metric in [name for name, dummy in values] and not unknown
        checks.append(_check(model["name"], "hpa_metric", ok, expected, got))
    return checks


def probe_result(text, source):
    """The probe's JSON result from its output (stdout or a Job log); a failed 'probe' check when there is none."""
    for line in reversed((text or "").splitlines()):
        line = line.strip()
        if line.startswith(RESULT_MARKER):
            try:
                result = json.loads(line[len(RESULT_MARKER):])
            except ValueError as error:
                got = "an unreadable result line (%s)" % error
                break
            if isinstance(result, dict) and isinstance(result.get("checks"), list):
                return result
            got = "a result line without checks"
            break
    else:
        tail = [line for line in (text or "").splitlines() if line.strip()][-5:]
        got = "no %sline; last output: %s" % (RESULT_MARKER, " | ".join(tail) or "(none)")
    return {"ok": False, "prompts": {}, "checks": [_check("*", "probe", False, "one result line from llm_probe (%s)" % source, got)]}


STORAGE_PROBE_LABEL = verify_objects.STORAGE_PROBE_LABEL


def namespace_object(name, labels):
    """The verify role's Namespace (labels plus app.kubernetes.io/component=verify), built by
    plugins/module_utils/verify_objects.py."""
    return verify_objects.namespace(name, labels)


def probe_objects(settings):
    """The LLM probe's ConfigMap and Job for one run (plugins/module_utils/verify_objects.py).

    settings: {run, namespace, labels, image, deadline_s, probe, prompts, spec}. Returns {name, config_map, job}.
    """
    return verify_objects.llm_probe(settings)


def storage_probe_objects(probes, settings):
    """The storage probes' ConfigMap, claims and Jobs (plugins/module_utils/verify_objects.py).

    probes: the verify_storage_probes list; settings: {namespace, labels, image, timeout_s, script}. Returns
    {config_map, claims, jobs}, the claims and Jobs in the probes' order.
    """
    return verify_objects.storage_probes(probes, settings)


def storage_probes(models, storage_class, pool_label, taint):
    """One probe per (GPU pool, storage class) the models use: a claim and a Job pinned to the pool.

    Every model keeps its cache (Triton), NIMCache or model store on the platform's shared storage class, so
    each pool a model runs on is probed with that class. Returns [{name, pool, storage_class, node_selector,
    tolerations}] sorted by pool.
    """
    probes = []
    for pool in sorted(set(m["node_pool"] for m in models)):
        name = ("storage-probe-" + pool)[:63].rstrip("-")
        probes.append({
            "name": name, "pool": pool, "storage_class": storage_class,
            "node_selector": {pool_label: pool},
            "tolerations": [{"key": taint["key"], "operator": "Exists", "effect": taint["effect"]}],
        })
    return probes


def _terminated(pod):
    for status in (pod.get("status") or {}).get("containerStatuses") or []:
        state = (status.get("state") or {}).get("terminated")
        if state:
            return state
    return {}


def _waiting_reason(pod):
    for status in (pod.get("status") or {}).get("containerStatuses") or []:
        waiting = (status.get("state") or {}).get("waiting")
        if waiting:
            return "%s%s" % (waiting.get("reason") or "waiting", ": " + waiting["message"] if waiting.get("message") else "")
    condition = _condition(pod, "PodScheduled")
    if condition.get("status") == "False":
        return "not scheduled: %s" % (condition.get("message") or condition.get("reason") or "no reason given")
    return ""


def _involved(event, kind):
    involved = event.get("involvedObject") or {}
    return involved.get("name") if involved.get("kind") == kind else None


def _event_time(event):
    return event.get("lastTimestamp") or event.get("eventTime") or event.get("firstTimestamp") or ""


def storage_settled(probes, events, jobs):
    """True when every probe's Job (this run's: ``jobs`` are the created Jobs) completed or failed, or its pod was
    refused its volume ("access denied" is final; a mount that times out may still succeed, so it is waited for).
    Events of an earlier run's Job or pods of the same name are ignored (uid, time)."""
    started = dict(((j.get("metadata") or {}).get("name"), j.get("metadata") or {}) for j in jobs or [])
    for probe in probes:
        job = started.get(probe["name"])
        if not job:
            return False
        mine = [e for e in events or [] if _event_time(e) >= (job.get("creationTimestamp") or "")]
        finished = any((e.get("involvedObject") or {}).get("uid") == job.get("uid")
                       and e.get("reason") in ("Completed", "BackoffLimitExceeded", "DeadlineExceeded") for e in mine)
        refused = any((_involved(e, "Pod") or "").startswith(probe["name"] + "-") and e.get("reason") == "FailedMount"
                      and "access denied by server" in (e.get("message") or "") for e in mine)
        if not (finished or refused):
            return False
    return True


def storage_checks(probes, pods, events, namespace, timeout_s):
    """Judge each storage probe from its pod (Succeeded = wrote and read back) and the FailedMount events."""
    mount_failures = _mount_failures(events)
    by_probe = {}
    for pod in pods or []:
        probe = ((pod.get("metadata") or {}).get("labels") or {}).get(STORAGE_PROBE_LABEL)
        by_probe.setdefault(probe, []).append(pod)
    checks = []
    for probe in probes:
        expected = ("a pod on GPU pool %s writes, reads back and removes a file on a volume of storage class %s within %s s"
                    % (probe["pool"], probe["storage_class"], timeout_s))
        found = by_probe.get(probe["name"]) or []
        if not found:
            checks.append(_check("pool " + probe["pool"], "storage", False, expected,
                                 "no pod of Job %s/%s" % (namespace, probe["name"])))
            continue
        pod = found[-1]
        pod_name, phase = pod["metadata"]["name"], (pod.get("status") or {}).get("phase")
        node = (pod.get("spec") or {}).get("nodeName") or "no node"
        message = (_terminated(pod).get("message") or "").strip()
        if phase == "Succeeded":
            got = "pod %s on %s: %s" % (pod_name, node, message or "completed")
        elif (namespace, pod_name) in mount_failures:
            got = "pod %s on %s, phase %s: %s" % (pod_name, node, phase, _mount_cause(mount_failures[(namespace, pod_name)]))
        elif phase == "Failed":
            got = "pod %s on %s failed: %s" % (pod_name, node, message or _terminated(pod).get("reason") or "no message")
        else:
            waiting = _waiting_reason(pod)
            got = "pod %s on %s still %s after %s s%s" % (pod_name, node, phase, timeout_s, (": " + waiting) if waiting else "")
        checks.append(_check("pool " + probe["pool"], "storage", phase == "Succeeded", expected, got))
    return checks


def identity_check(result):
    """A workload_identity_info result as a report check (the step that failed is named in `got`)."""
    where = "%s/%s" % (result["namespace"], result["service_account"])
    return _check(where, "workload_identity", bool(result["ok"]),
                  "the service account's token buys its IRSA role's credentials, which read the model repository",
                  result["message"] if result["ok"] else "%s (step %s)" % (result["message"], result["step"]))


def time_to_serving(models, pod_results, events, nodes, nodeclaims, first_answers):
    """Each model's time to serving (NodeClaim created, node Ready, image pulled, container started, engine ready,
    first answer) from the pods its Service selects, the Events of its namespace, the GPU nodes, Karpenter's
    NodeClaims and the probe's first answers (module_utils/time_to_serving.py)."""
    pods = dict(((namespace, name), found) for (namespace, name, _kind), found in _by_item(pod_results).items())
    return serving_time.for_models(models, pods, events, nodes, nodeclaims, first_answers)


def time_to_serving_checks(serving, max_seconds, verify_started=None):
    """A check a model: its first answer came within max_seconds of its serving pod's creation (a pod Ready long before
    verify_started is not judged again)."""
    return serving_time.checks(serving, int(max_seconds), verify_started)


def skipped(models, checks, setting):
    """Records of checks the inventory switched off, so the report shows them instead of hiding them."""
    return [_check(m["name"], c, None, "skipped", "switched off by eks_llm_verify.%s" % setting) for m in models for c in checks]


def _escape(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def report(checks, prompts, meta, serving=None):
    """The run's report: summary, failures, and the Markdown a person reads; serving (time_to_serving's result) adds
    its table and its chart (``serving_svg``, written beside the report as time-to-serving.svg); ``serving_summary``
    is one line a judged model for the play's output."""
    failed = [c for c in checks if c["ok"] is False]
    passed = [c for c in checks if c["ok"] is True]
    skips = [c for c in checks if c["ok"] is None]
    ok = not failed and bool(passed)
    messages = ["%s: %s: expected %s; got %s" % (c["model"], c["check"], c["expected"], c["got"]) for c in failed]
    lines = [
        "# Verify report: %s" % meta.get("deployment"),
        "",
        "- run: %s (mode %s)" % (meta.get("run"), meta.get("mode")),
        "- verdict: **%s** (%d passed, %d failed, %d skipped)" % ("PASS" if ok else "FAIL", len(passed), len(failed), len(skips)),
        "",
        "| model | check | result | expected | got |",
        "|---|---|---|---|---|",
    ]
    for c in checks:
        result = {True: "pass", False: "**FAIL**", None: "skipped"}[c["ok"]]
        lines.append("| %s | %s | %s | %s | %s |" % (_escape(c["model"]), _escape(c["check"]), result, _escape(c["expected"]), _escape(c["got"])))
    for model, prompt_report in sorted((prompts or {}).items()):
        if not prompt_report:
            continue
        latency = prompt_report["latency_ms"]
        summary = "latency ms: min %s, p50 %s, p90 %s, max %s, mean %s" % (
            latency["min"], latency["p50"], latency["p90"], latency["max"], latency["mean"])
        lines += ["", "## Prompts: %s" % model, "", prompt_report["verdict"], "", summary,
                  "", "| # | latency ms | ok | answer (start) |", "|---|---|---|---|"]
        for answer in prompt_report["answers"]:
            text = answer["text"] if answer["ok"] else answer["error"]
            lines.append("| %d | %s | %s | %s |" % (answer["index"], answer["latency_ms"], "yes" if answer["ok"] else "**no**",
                                                    _escape(text[:80])))
    serving_svg = serving_time.svg(serving or [])
    lines += serving_time.markdown(serving or [], serving_time.PLOT_FILE if serving_svg else None)
    if failed:
        lines += ["", "## Failed checks", ""] + ["%d. %s" % (i + 1, m) for i, m in enumerate(messages)]
    return {"ok": ok, "passed": len(passed), "failed": len(failed), "skipped": len(skips), "failures": messages,
            "markdown": "\n".join(lines) + "\n", "serving_svg": serving_svg,
            "serving_summary": ["%s: time to serving %s" % (c["model"], c["got"]) for c in checks
                                if c["check"] == serving_time.CHECK and c["ok"] is not None],
            "document": dict(meta, ok=ok, checks=checks, prompts=prompts or {}, time_to_serving=serving or [])}


def answers_text(prompt_report):
    """The prompt set's answers the way the seed client stores them: one block a prompt, '=========' between."""
    blocks = []
    for answer in (prompt_report or {}).get("answers") or []:
        body = answer["text"] if answer["ok"] else "FAILED: " + answer["error"]
        blocks.append("Request %d (%.2f ms): %s\n\n%s\n" % (answer["index"], answer["latency_ms"], answer["prompt"], body.strip()))
    return "\n=========\n\n".join(blocks) + ("\n=========\n" if blocks else "")


class FilterModule(object):
    def filters(self):
        return {
            "verify_workload_kinds": workload_kinds,
            "verify_service_pod_selectors": service_pod_selectors,
            "verify_workload_checks": workload_checks,
            "verify_hpa_value": hpa_value,
            "verify_hpa_checks": hpa_checks,
            "verify_probe_result": probe_result,
            "verify_skipped": skipped,
            "verify_time_to_serving": time_to_serving,
            "verify_time_to_serving_checks": time_to_serving_checks,
            "verify_identity_check": identity_check,
            "verify_storage_probes": storage_probes,
            "verify_namespace_object": namespace_object,
            "verify_probe_objects": probe_objects,
            "verify_storage_probe_objects": storage_probe_objects,
            "verify_storage_checks": storage_checks,
            "verify_storage_settled": storage_settled,
            "verify_report": report,
            "verify_answers_text": answers_text,
        }
