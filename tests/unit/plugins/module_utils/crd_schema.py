# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
"""Checks of built objects against a CRD's structural schema, beyond what jsonschema validates."""


def unknown_fields(value, schema, path="spec"):
    """Fields of ``value`` a structural schema does not declare (the API server would prune them)."""
    if schema.get("x-kubernetes-preserve-unknown-fields"):
        return []
    found = []
    if isinstance(value, dict) and "properties" in schema:
        for key, item in value.items():
            if key not in schema["properties"]:
                found.append("%s.%s" % (path, key))
            else:
                found += unknown_fields(item, schema["properties"][key], "%s.%s" % (path, key))
    elif isinstance(value, dict) and isinstance(schema.get("additionalProperties"), dict):
        for key, item in value.items():
            found += unknown_fields(item, schema["additionalProperties"], "%s.%s" % (path, key))
    elif isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            found += unknown_fields(item, schema["items"], "%s[%d]" % (path, index))
    return found
