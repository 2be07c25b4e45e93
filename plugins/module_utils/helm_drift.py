# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE); compatible with GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""When a wanted Helm release differs from the deployed one, decided the way kubernetes.core.helm decides it without the
helm-diff plugin (chart name and version, user-supplied values, status).

Shared by the module helm_release_drift_info (which reads the cluster) and the filters the helm_release role uses to
compare later releases of a play with what that one read found. Deployed releases are kept as ``{"namespace/name":
{"chart", "status", "values_digest"}}``: a digest, never the values (they may hold credentials).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import os
import traceback

try:
    import yaml
except ImportError:
    YAML_IMPORT_ERROR = traceback.format_exc()  # the module reports it (the controller always has PyYAML)
else:
    YAML_IMPORT_ERROR = None


def release_key(namespace, name):
    return "%s/%s" % (namespace, name)


def _canonical(value):
    """Values as helm gives them back: JSON numbers, so 2.0 and 2 are the same value (Python's == says so too)."""
    if isinstance(value, dict):
        return dict((str(k), _canonical(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def values_digest(values):
    """A digest of user-supplied values (None, as helm prints for no values, is the same as {})."""
    text = json.dumps(_canonical(values or {}), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def wanted_chart(release):
    """``name-version`` of the chart a present release asks for, or None when only fetching the chart would tell."""
    chart_ref = release["chart_ref"]
    version = release.get("chart_version") or ""
    if os.path.isdir(chart_ref):
        with open(os.path.join(chart_ref, "Chart.yaml")) as handle:
            chart = yaml.safe_load(handle) or {}
        name = chart.get("name")
        version = version or str(chart.get("version") or "")
    elif chart_ref.endswith((".tgz", ".tar.gz")):
        return None  # an archive: its Chart.yaml is inside
    else:
        name = chart_ref.rstrip("/").rsplit("/", 1)[-1]
    if not name or not version:
        return None
    return "%s-%s" % (name, version)


def _recorded_digest(deployed):
    return deployed["values_digest"]


def drift_of(release, deployed, digest_of=_recorded_digest):
    """Reasons a wanted release differs from the deployed one (``deployed`` an entry of the deployed map, or None;
    ``digest_of(deployed)`` gives its values' digest, called only when nothing else differs)."""
    if release.get("state", "present") == "absent":
        return ["installed (status %s) but wanted absent" % deployed["status"]] if deployed else []
    if deployed is None:
        return ["not installed"]
    reasons = []
    if deployed["status"] != "deployed":
        reasons.append("status %s, not deployed" % deployed["status"])
    chart = wanted_chart(release)
    if chart is None:
        reasons.append("chart %s cannot be compared without fetching it" % release["chart_ref"])
    elif chart != deployed["chart"]:
        reasons.append("chart %s deployed, %s wanted" % (deployed["chart"], chart))
    if not reasons and digest_of(deployed) != values_digest(release.get("values")):
        reasons.append("values differ from the deployed release")
    return reasons


def drift_report(releases, deployed, digest_of=_recorded_digest):
    """One entry per wanted release (name, namespace, drift, reasons, deployed_chart, status), in order."""
    result = []
    for release in releases:
        found = deployed.get(release_key(release["namespace"], release["name"]))
        reasons = drift_of(release, found, digest_of)
        result.append(dict(name=release["name"], namespace=release["namespace"], drift=bool(reasons), reasons=reasons,
                           deployed_chart=found["chart"] if found else None, status=found["status"] if found else None))
    return result


def after_apply(deployed, releases):
    """The deployed map once helm has applied ``releases`` (present ones installed as wanted, absent ones gone)."""
    result = dict(deployed)
    for release in releases:
        key = release_key(release["namespace"], release["name"])
        if release.get("state", "present") == "absent":
            result.pop(key, None)
        else:
            result[key] = dict(chart=wanted_chart(release), status="deployed", values_digest=values_digest(release.get("values")))
    return result
