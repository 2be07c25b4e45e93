# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
"""Filters for the EKS cluster role."""


def _merged(base, override):
    """``override`` merged over ``base`` recursively (dicts only), neither changed."""
    result = dict(base)
    for key, value in override.items():
        result[key] = _merged(result[key], value) if isinstance(result.get(key), dict) and isinstance(value, dict) else value
    return result


def eks_addon_requests(addons, configuration=None, identities=None, settled=None):
    """The entries of eks_addon's addons option for the inventory's add-ons (eks_llm.platform.addons shape: name -> {version, configuration}).

    The collection's own configuration of an add-on (configuration, by name) is merged under the inventory's; the Pod Identity
    associations an add-on owns (identities, by name) are added. Add-ons whose status in settled (name -> status, from an earlier
    pass) is ACTIVE are left out, so a waiting pass asks only for the ones still in progress. A configuration that ends up empty
    and an add-on without associations are sent as not set (left as they are).
    """
    configuration, identities, settled = configuration or {}, identities or {}, settled or {}
    requests = []
    for name in addons:
        if settled.get(name) == "ACTIVE":
            continue
        wanted = addons[name] or {}
        requests.append({
            "name": name,
            "addon_version": wanted.get("version"),
            "configuration_values": _merged(configuration.get(name) or {}, wanted.get("configuration") or {}) or None,
            "pod_identity_associations": identities.get(name),
        })
    return requests


class FilterModule(object):
    def filters(self):
        return {"eks_addon_requests": eks_addon_requests}
