# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
"""Type and shape of the ``eks_llm_*`` variables, checked against the argument spec before anything else.

Ansible's ArgumentSpecValidator stops at the first layer of trouble and words it for module authors
("elements value for option eks_llm_models is of type <class 'str'> ..."). This walks the same spec and says,
in the project's form ``path: what was given; what is allowed``, which variable or key is unknown (with the
closest known name), which value has the wrong type (what was expected, e.g. "a list of models"), which
required key is missing and which value is not one of the choices. Every bad value is dropped from the copy it
returns, so the remaining checks of the validator still run on the rest and all problems come out at once.
"""

import difflib

from ansible.module_utils.common.parameters import DEFAULT_TYPE_VALIDATORS

# What one element of a list of mappings is called in messages ("a list of models").
NOUNS = {
    "eks_llm_models": "model",
    "eks_llm_gpu_node_pools": "GPU node pool",
    "capacity_reservations": "capacity reservation",
    "profiles": "benchmark profile",
    "slos": "SLO",
}
TYPE_WORDS = {
    "str": "a string", "int": "a whole number", "float": "a number", "bool": "true or false",
    "list": "a list", "dict": "a mapping (key: value)", "raw": "a value",
}
PLURAL_WORDS = {
    "str": "strings", "int": "whole numbers", "float": "numbers", "bool": "true/false values", "dict": "mappings",
}
_DROP = object()


def _kind(value):
    """How a YAML value looks to the user who wrote it."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "the boolean %s" % str(value).lower()
    if isinstance(value, (int, float)):
        return "the number %r" % (value,)
    if isinstance(value, str):
        text = value if len(value) <= 60 else value[:57] + "..."
        return "the string %r" % text
    if isinstance(value, dict):
        return "a mapping with keys %s" % ", ".join(sorted(str(k) for k in value)[:8]) if value else "an empty mapping"
    if isinstance(value, (list, tuple)):
        return "a list of %d item(s)" % len(value)
    return "a %s" % type(value).__name__


def _keys_of(options):
    required = [k for k, v in options.items() if v.get("required")]
    others = sorted(k for k, v in options.items() if not v.get("required"))
    return ", ".join(required + others)


def describe(name, entry):
    """What the spec entry expects, in words: 'a list of models (mappings with keys name, engine, ...)'."""
    kind = entry.get("type", "str")
    options = entry.get("options")
    if kind == "list":
        elements = entry.get("elements", "raw")
        if elements == "dict" and options:
            noun = NOUNS.get(name, "item")
            return "a list of %ss (each a mapping with keys %s)" % (noun, _keys_of(options))
        return "a list of %s" % PLURAL_WORDS.get(elements, "values")
    if kind == "dict" and options:
        return "a mapping with keys %s" % _keys_of(options)
    return TYPE_WORDS.get(kind, "a %s" % kind)


def _did_you_mean(word, known):
    close = difflib.get_close_matches(str(word), list(known), n=1, cutoff=0.6)
    return "; did you mean %r?" % close[0] if close else ""


def _convert(kind, value):
    """The value as the spec's type, or raise TypeError/ValueError. Stricter than Ansible where Ansible guesses:
    a mapping or list never becomes a string, a boolean never becomes a number."""
    if kind in ("str",) and isinstance(value, (dict, list, tuple)):
        raise TypeError("not a scalar")
    if kind in ("int", "float") and isinstance(value, bool):
        raise TypeError("a boolean is not a number")
    if kind == "dict" and not isinstance(value, dict):
        raise TypeError("not a mapping")
    if kind == "int" and isinstance(value, float) and not value.is_integer():
        raise ValueError("not a whole number")
    validator = DEFAULT_TYPE_VALIDATORS.get(kind)
    return validator(value) if validator else value


def _label(path, index, element):
    name = element.get("name") if isinstance(element, dict) else None
    return "%s[%d]%s" % (path, index, " (%s)" % name if isinstance(name, str) and name else "")


def _value(problems, name, entry, value, path):
    kind = entry.get("type", "str")
    expected = describe(name, entry)
    if value is None:
        if entry.get("required"):
            problems.add(path, "required, got nothing (null); expected %s" % expected)
        return _DROP
    if kind == "list" and isinstance(value, str) and entry.get("elements") == "dict":
        problems.add(path, "expected %s, got %s" % (expected, _kind(value)))
        return _DROP
    try:
        converted = _convert(kind, value)
    except (TypeError, ValueError):
        problems.add(path, "expected %s, got %s" % (expected, _kind(value)))
        return _DROP
    choices = entry.get("choices")
    if choices and kind != "list" and converted not in choices:
        allowed = ", ".join(repr(c) for c in choices)
        problems.add(path, "%r is not allowed; allowed: %s%s" % (converted, allowed, _did_you_mean(converted, [c for c in choices if c])))
        return _DROP
    if kind == "dict" and entry.get("options"):
        return check(problems, entry["options"], converted, path)
    if kind == "list":
        return _elements(problems, name, entry, converted, path)
    return converted


def _elements(problems, name, entry, items, path):
    elements, options = entry.get("elements"), entry.get("options")
    kept, positions = [], []
    for index, item in enumerate(items):
        where = _label(path, index, item)
        if elements == "dict":
            if not isinstance(item, dict):
                problems.add(where, "expected one %s: %s, got %s" % (
                    NOUNS.get(name, "item"), describe(name, dict(entry, type="dict")) if options else "a mapping", _kind(item)))
                continue
            if options:
                cleaned = check(problems, options, item, where)
                if any(v.get("required") and k not in cleaned for k, v in options.items()):
                    continue  # reported by check(); without its required keys the element cannot be judged further
                kept.append(cleaned)
            else:
                kept.append(item)
            positions.append(index)
        elif elements:
            try:
                kept.append(_convert(elements, item))
                positions.append(index)
            except (TypeError, ValueError):
                problems.add(where, "expected %s, got %s" % (TYPE_WORDS.get(elements, elements), _kind(item)))
        else:
            kept.append(item)
            positions.append(index)
    if "." not in path and "[" not in path:
        problems.positions[path] = positions
    return kept


def check(problems, spec, given, path=""):
    """Problems of type and shape in ``given`` (a mapping checked against ``spec``); returns ``given`` without the
    bad values (unknown keys dropped, wrongly typed values dropped so their defaults apply, list elements that
    cannot be judged dropped)."""
    cleaned = {}
    prefix = path + "." if path else ""
    for key, value in given.items():
        where = prefix + str(key)
        if key not in spec:
            if path:
                problems.add(where, "unknown key%s; known keys: %s" % (_did_you_mean(key, spec), ", ".join(sorted(spec))))
            else:
                problems.add(where, "unknown variable%s (every eks_llm_* variable is read; see docs/inventory.md)"
                             % _did_you_mean(key, spec))
            continue
        result = _value(problems, key, spec[key], value, where)
        if result is not _DROP:
            cleaned[key] = result
    for key, entry in spec.items():
        if entry.get("required") and key not in given:
            problems.add(prefix + key, "required, missing; expected %s" % describe(key, entry))
    return cleaned
