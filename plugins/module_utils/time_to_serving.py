# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
"""Time to serving of each model, from the Kubernetes objects and events and the verify probe's first answer.

A model's clock starts when its serving pod was created (the first of its pods to become Ready) and runs through
the phases a cold start goes through: Karpenter's NodeClaim created -> the node Ready -> the engine's image pulled ->
its container started -> the pod Ready (the engine answers its readiness probe) -> the first generated answer. Each
phase is measured from the previous one that is known; a phase that happened before the pod existed (the node was
already there) or that left no trace (Events expire after an hour) is said so, never guessed.

Plain data in (the objects as the Kubernetes API returns them), plain data out; no Ansible imports.
"""
import datetime

PHASES = (
    ("nodeclaim_created", "NodeClaim created"),
    ("node_ready", "node Ready"),
    ("image_pulled", "image pulled"),
    ("container_started", "container started"),
    ("engine_ready", "engine ready"),
    ("first_answer", "first answer"),
)
NODE_PHASES = ("nodeclaim_created", "node_ready")
CHECK = "time_to_serving"
PLOT_FILE = "time-to-serving.svg"
# The probe asked later than this after the engine was ready: its request, not the pod, starts the last phase.
PROBE_LAG_NOTE_S = 5.0


def parse_time(text):
    """An RFC 3339 time as Kubernetes and the probe write it ('2026-12-05T10:00:00Z', with or without a fraction
    or an offset) -> an aware datetime; None for None or ''."""
    if not text:
        return None
    text = str(text).strip().replace("Z", "+00:00")
    if "." in text:
        head, tail = text.split(".", 1)
        digits = "".join(c for c in tail if c.isdigit())
        text = head + "." + (digits[:6].ljust(6, "0")) + tail[len(digits):]
    return datetime.datetime.fromisoformat(text).astimezone(datetime.timezone.utc)


def iso(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (moment.microsecond // 1000) if moment else None


def _meta(obj):
    return obj.get("metadata") or {}


def _created(obj):
    return parse_time(_meta(obj).get("creationTimestamp"))


def _true_since(obj, kind):
    """When condition ``kind`` last turned True; None when it is not True."""
    for condition in (obj.get("status") or {}).get("conditions") or []:
        if condition.get("type") == kind and condition.get("status") == "True":
            return parse_time(condition.get("lastTransitionTime"))
    return None


def _event_time(event):
    """When an event first happened (a repeated event keeps its first time in firstTimestamp)."""
    return parse_time(event.get("firstTimestamp") or event.get("eventTime") or event.get("lastTimestamp"))


def serving_pod(pods):
    """The pod that served first: the earliest to become Ready; else the oldest (nothing serves yet); None without pods."""
    live = [p for p in pods or [] if not _meta(p).get("deletionTimestamp")]
    ready = [p for p in live if _true_since(p, "Ready")]
    if ready:
        return min(ready, key=lambda p: _true_since(p, "Ready"))
    return min(live, key=lambda p: _created(p) or datetime.datetime.max.replace(tzinfo=datetime.timezone.utc)) if live else None


def _engine_container(pod):
    containers = (pod.get("spec") or {}).get("containers") or [{}]
    return containers[0].get("name")


def _pod_events(events, pod, reason):
    """Events of ``reason`` about the pod's engine container (any container of the pod when none names it), oldest first."""
    name, container = _meta(pod).get("name"), _engine_container(pod)
    mine = [e for e in events or [] if e.get("reason") == reason and (e.get("involvedObject") or {}).get("kind") == "Pod"
            and (e.get("involvedObject") or {}).get("name") == name and _event_time(e)]
    engine = [e for e in mine if (e.get("involvedObject") or {}).get("fieldPath") == "spec.containers{%s}" % container]
    return sorted(engine or mine, key=_event_time)


def _container_started(pod, events):
    started = _pod_events(events, pod, "Started")
    if started:
        return _event_time(started[0]), None
    for status in (pod.get("status") or {}).get("containerStatuses") or []:
        if status.get("name") == _engine_container(pod):
            running = (status.get("state") or {}).get("running") or {}
            restarts = status.get("restartCount") or 0
            note = "restarted %d time(s); the last start counts (Started events expired)" % restarts if restarts else None
            return parse_time(running.get("startedAt")), note
    return None, None


def _image_pulled(pod, events):
    pulled = _pod_events(events, pod, "Pulled")
    if not pulled:
        return None, "no Pulled event (Events expire after an hour; some kubelets record none)"
    message = pulled[0].get("message") or ""
    if "already present" in message:
        return _event_time(pulled[0]), "image already on the node"
    how_long = message.split(" in ", 1)[1].split(" ", 1)[0] if " in " in message else ""
    return _event_time(pulled[0]), "pull took %s" % how_long if how_long else None


def _node_of(pod, nodes, nodeclaims):
    """(node, nodeclaim) the pod runs on; either may be None."""
    node_name = (pod.get("spec") or {}).get("nodeName")
    node = next((n for n in nodes or [] if _meta(n).get("name") == node_name), None) if node_name else None
    claim = next((c for c in nodeclaims or [] if node_name and (c.get("status") or {}).get("nodeName") == node_name), None)
    return node, claim


def for_model(model, pods, events, nodes, nodeclaims, first_answer):
    """The time to serving of one model: {model, pod, node, started, phases: [{phase, label, at, seconds, note}],
    total_s, problem}. total_s is None (and problem says why) while the model has not answered."""
    pod = serving_pod(pods)
    result = {"model": model["name"], "pod": None, "node": None, "started": None, "phases": [], "total_s": None, "problem": None}
    if pod is None:
        result["problem"] = "no pod of the model's Service"
        return result
    started = _created(pod)
    node, claim = _node_of(pod, nodes, nodeclaims)
    result.update(pod=_meta(pod).get("name"), node=_meta(node).get("name") if node else (pod.get("spec") or {}).get("nodeName"),
                  started=iso(started))
    pulled, pulled_note = _image_pulled(pod, events)
    container_started, started_note = _container_started(pod, events)
    answer = first_answer or {}
    moments = {
        "nodeclaim_created": (_created(claim) if claim else None,
                              None if claim else "no Karpenter NodeClaim for node %s" % (result["node"] or "(not scheduled)")),
        "node_ready": (_true_since(node, "Ready") if node else None, None if node else "node not found"),
        "image_pulled": (pulled, pulled_note),
        "container_started": (container_started, started_note),
        "engine_ready": (_true_since(pod, "Ready"), None),
        "first_answer": (parse_time(answer.get("answered")), None if answer else "the probe got no generated answer"),
    }
    cursor = started
    for phase, label in PHASES:
        at, note = moments[phase]
        seconds = None
        # whole seconds on both sides: a phase in the pod's own second may have followed it, so only earlier is before
        if at is not None and phase in NODE_PHASES and at < started:
            note = "node already there (before the pod)"
        elif at is not None and phase == "first_answer":
            sent = parse_time(answer.get("sent")) or at
            counted_from = max(cursor, sent)
            if (sent - cursor).total_seconds() > PROBE_LAG_NOTE_S:
                note = "the probe asked %.0f s after the engine was ready; counted from its request" % (sent - cursor).total_seconds()
            seconds = max((at - counted_from).total_seconds(), 0.0)
            cursor = cursor + datetime.timedelta(seconds=seconds)
        elif at is not None:
            seconds = max((at - cursor).total_seconds(), 0.0)
            cursor = max(cursor, at)
        elif note is None:
            note = "not yet"
        result["phases"].append({"phase": phase, "label": label, "at": iso(at), "seconds": _round(seconds), "note": note})
    ready, answered = moments["engine_ready"][0], moments["first_answer"][0]
    if ready is None:
        result["problem"] = "pod %s is not Ready" % result["pod"]
    elif answered is None:
        result["problem"] = "no generated answer from the probe"
    else:
        result["total_s"] = _round((cursor - started).total_seconds())
    return result


def _round(seconds):
    return None if seconds is None else round(seconds, 1)


def for_models(models, pods_by_model, events, nodes, nodeclaims, first_answers):
    """for_model of every model; pods_by_model: {(namespace, name): [pods]}."""
    return [for_model(model, pods_by_model.get((model["namespace"], model["name"])) or [], events, nodes, nodeclaims,
                      (first_answers or {}).get(model["name"]))
            for model in models]


def checks(serving, max_seconds, verify_started=None):
    """One verify check record a model: it answered within max_seconds of its serving pod's creation.

    A cold start is judged by the runs that follow it closely: a pod Ready more than max_seconds before this verify
    started (verify_started, RFC 3339) served through earlier runs, and a slow start long ago would otherwise fail
    every later run; its check is not judged again (ok None, saying so) and its breakdown stays in the table."""
    results = []
    judged_since = parse_time(verify_started) - datetime.timedelta(seconds=max_seconds) if verify_started else None
    for entry in serving:
        expected = "first answer within %d s of the serving pod's creation" % max_seconds
        ready = parse_time(next((p["at"] for p in entry["phases"] if p["phase"] == "engine_ready"), None))
        if entry["total_s"] is None:
            ok, got = False, entry["problem"]
        elif judged_since and ready < judged_since:
            ok, got = None, "not judged again: pod %s has served since %s, before this run (%s s then)" % (
                entry["pod"], iso(ready), entry["total_s"])
        else:
            breakdown = ", ".join("%s +%s s" % (p["label"], p["seconds"]) for p in entry["phases"] if p["seconds"] is not None)
            ok, got = entry["total_s"] <= max_seconds, "%s s from pod %s created (%s)" % (entry["total_s"], entry["pod"], breakdown)
        results.append({"model": entry["model"], "check": CHECK, "ok": ok, "expected": expected, "got": got})
    return results


def _cell(phase):
    if phase["seconds"] is not None:
        return "%s" % phase["seconds"]
    return phase["note"] or "unknown"


def markdown(serving, plot_file=None):
    """The report's section: one row a model, seconds per phase (each from the previous known phase), the total."""
    if not serving:
        return []
    lines = ["", "## Time to serving", "",
             "Seconds per phase, each from the previous one, counted from the serving pod's creation.", ""]
    if plot_file:
        lines += ["![time to serving per model](%s)" % plot_file, ""]
    lines += ["| model | pod | " + " | ".join(label for _phase, label in PHASES) + " | total s | notes |",
              "|---" * (len(PHASES) + 4) + "|"]
    for entry in serving:
        by_phase = dict((p["phase"], p) for p in entry["phases"])
        cells = [_cell(by_phase[phase]) if phase in by_phase else "unknown" for phase, _label in PHASES]
        notes = [entry["problem"]] if entry["problem"] else []
        notes += ["%s: %s" % (p["label"], p["note"]) for p in entry["phases"] if p["note"] and p["seconds"] is not None]
        total = entry["total_s"] if entry["total_s"] is not None else "-"
        row = (entry["model"], entry["pod"] or "-", " | ".join(cells), total, "; ".join(notes) or "-")
        lines.append("| %s | %s | %s | %s | %s |" % row)
    return lines


# the plot: one horizontal bar a model, a coloured segment a phase (colour-blind friendly palette)
COLOURS = ("#4477aa", "#66ccee", "#228833", "#ccbb44", "#ee6677", "#aa3377")


def svg(serving):
    """A stacked bar chart of the phases (SVG text, no plotting library); '' when no model has a known total."""
    known = [e for e in serving if e["total_s"] is not None]
    if not known:
        return ""
    longest = max(e["total_s"] for e in known) or 1.0
    left, width, bar_height, gap = 180, 560, 22, 14
    height = 60 + len(known) * (bar_height + gap) + 40
    scale = width / longest
    parts = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">'
             % (left + width + 80, height),
             '<text x="10" y="20" font-size="14">Time to serving (s from the serving pod\'s creation)</text>']
    for row, entry in enumerate(known):
        y = 40 + row * (bar_height + gap)
        parts.append('<text x="10" y="%d">%s</text>' % (y + bar_height * 0.7, _xml(entry["model"])))
        x = float(left)
        for index, phase in enumerate(entry["phases"]):
            if not phase["seconds"]:
                continue
            span = phase["seconds"] * scale
            parts.append('<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s"><title>%s: %s s</title></rect>'
                         % (x, y, span, bar_height, COLOURS[index], _xml(phase["label"]), phase["seconds"]))
            x += span
        parts.append('<text x="%.1f" y="%d">%s s</text>' % (x + 6, y + bar_height * 0.7, entry["total_s"]))
    legend_y = 40 + len(known) * (bar_height + gap) + 10
    for index, (_phase, label) in enumerate(PHASES):
        x = 10 + index * 125
        parts.append('<rect x="%d" y="%d" width="10" height="10" fill="%s"/>' % (x, legend_y, COLOURS[index]))
        parts.append('<text x="%d" y="%d">%s</text>' % (x + 14, legend_y + 9, _xml(label)))
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _xml(text):
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
