"""The stand-in NIM Operator CRDs enforce the rules of the real ones (NVIDIA/k8s-nim-operator v3.0.2).

nim_operator_crd_rules.yaml is the compact record of the real CRDs (facts, with the upstream path and tag); these
tests compare the stand-in chart's CRD files with it, rule by rule, and check that the record covers every field
the collection sets on a NIMCache or NIMService.
"""
import copy
import os
import sys

import pytest
import yaml

from tests.standin import nim_operator_crds

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RECORD = nim_operator_crds.load_record()
FACTS = nim_operator_crds.FACTS + ("required", "x-kubernetes-preserve-unknown-fields")


def standin_schema(kind):
    with open(nim_operator_crds.crd_path(kind, RECORD)) as handle:
        return yaml.safe_load(handle)["spec"]["versions"][0]["schema"]["openAPIV3Schema"]


def _type(schema):
    if schema.get("x-kubernetes-int-or-string"):
        return "int-or-string"
    return schema.get("type", "any")


def _node(schema, path):
    for token in nim_operator_crds.record_path(path):
        if token == "[]":
            schema = schema.get("items")
        elif token == "{}":
            schema = schema.get("additionalProperties") if isinstance(schema.get("additionalProperties"), dict) else None
        else:
            schema = (schema.get("properties") or {}).get(token)
        if schema is None:
            return None
    return schema


def differences(schema, paths):
    """Every recorded fact the schema (an openAPIV3Schema) does not enforce exactly as recorded."""
    found = []
    for path, facts in paths.items():
        node = _node(schema, path)
        if node is None:
            found.append("%s: missing" % path)
            continue
        if _type(node) != facts["type"]:
            found.append("%s: type %s, real %s" % (path, _type(node), facts["type"]))
        if "properties" in facts or "properties" in node:
            have = dict((name, _type(child)) for name, child in (node.get("properties") or {}).items())
            if have != facts.get("properties", {}):
                extra = sorted(set(have) - set(facts.get("properties", {})))
                missing = sorted(set(facts.get("properties", {})) - set(have))
                typed = sorted(n for n in set(have) & set(facts.get("properties", {})) if have[n] != facts["properties"][n])
                found.append("%s: properties not in the real CRD %s, real ones missing %s, wrong types %s" % (path, extra, missing, typed))
        for key in ("additionalProperties", "items"):
            child = node.get(key)
            have = _type(child) if isinstance(child, dict) else None
            if have != facts.get(key):
                found.append("%s: %s %s, real %s" % (path, key, have, facts.get(key)))
        for key in FACTS:
            have, real = node.get(key), facts.get(key)
            if key == "required":
                have, real = sorted(have or []), sorted(real or [])
            if have != real:
                found.append("%s: %s %r, real %r" % (path, key, have, real))
        rules = [(" ".join(v["rule"].split()), " ".join(v.get("message", "").split())) for v in node.get("x-kubernetes-validations") or []]
        real = [(v["rule"], v["message"]) for v in facts.get("validations") or []]
        if rules != real:
            found.append("%s: CEL rules %r, real %r" % (path, rules, real))
    return found


@pytest.mark.parametrize("kind", sorted(RECORD["kinds"]))
def test_standin_crd_enforces_every_recorded_rule_of_the_real_crd(kind):
    entry = RECORD["kinds"][kind]
    with open(nim_operator_crds.crd_path(kind, RECORD)) as handle:
        crd = yaml.safe_load(handle)
    assert crd["spec"]["scope"] == entry["scope"]
    version = crd["spec"]["versions"][0]
    assert version["name"] == entry["version"] and version["subresources"] == {"status": {}}
    assert [c["jsonPath"] for c in version["additionalPrinterColumns"]] == entry["printerColumns"]
    assert differences(version["schema"]["openAPIV3Schema"], entry["paths"]) == []


def test_the_comparison_catches_a_missing_rule_a_foreign_field_and_a_wrong_bound():
    schema = copy.deepcopy(standin_schema("NIMCache"))
    ngc = schema["properties"]["spec"]["properties"]["source"]["properties"]["ngc"]
    del ngc["properties"]["modelPuller"]["x-kubernetes-validations"]
    schema["properties"]["spec"]["properties"]["schedulerName"] = {"type": "string"}
    found = differences(schema, RECORD["kinds"]["NIMCache"]["paths"])
    assert len(found) == 2 and "spec.source.ngc.modelPuller: CEL rules" in found[1] and "['schedulerName']" in found[0]
    service = copy.deepcopy(standin_schema("NIMService"))
    del service["properties"]["spec"]["properties"]["replicas"]["minimum"]
    assert differences(service, RECORD["kinds"]["NIMService"]["paths"]) == ["spec.replicas: minimum None, real 1"]


def test_committed_crds_are_the_generated_ones():
    for kind in RECORD["kinds"]:
        with open(nim_operator_crds.crd_path(kind, RECORD)) as handle:
            assert handle.read() == nim_operator_crds.render(kind, RECORD), "regenerate: python -m tests.standin.nim_operator_crds"


def _paths(value, paths, path):
    """Record paths of every field in ``value`` ({} for map keys, [] for items), by the record's own levels."""
    found = {path}
    facts = paths.get(path) or {}
    if isinstance(value, dict):
        for key, item in value.items():
            if "additionalProperties" in facts and "properties" not in facts:
                found |= _paths(item, paths, path + "{}")
            else:
                found |= _paths(item, paths, "%s.%s" % (path, key))
    elif isinstance(value, list):
        for item in value:
            found |= _paths(item, paths, path + "[]")
    return found


def _collection_objects():
    sys.path.insert(0, os.path.join(REPO, "tests", "unit", "plugins", "module_utils"))
    try:
        from test_inference import load  # pylint: disable=import-outside-toplevel,import-error
    finally:
        sys.path.pop(0)
    from ansible_collections.eks_llm.inference.plugins.module_utils import inference  # pylint: disable=import-outside-toplevel

    for example in ("nim-operator-llama3-8b-tp2-g5-12xlarge", "nim-llama3-8b-g5-spot-efs"):
        config = load(example)
        for autoscaling in (False, True):
            for profile in ("", "tensorrt_llm-a10g-fp16-tp2-throughput"):
                model = copy.deepcopy(config["models"][0])
                model["engine"] = "nim_operator"
                model["autoscaling"] = {"enabled": autoscaling, "min_replicas": 1, "max_replicas": 4, "target": 0.5}
                model["nim"]["profile"] = profile
                model["nim"]["llm_engine"] = "tensorrt_llm"
                yield from inference.nim_operator_objects(config, model)


def test_every_field_the_collection_sets_is_recorded():
    unrecorded = set()
    for obj in _collection_objects():
        paths = RECORD["kinds"][obj["kind"]]["paths"]
        unrecorded |= set("%s %s" % (obj["kind"], p) for p in _paths(obj["spec"], paths, "spec") if p not in paths)
    assert sorted(unrecorded) == []
