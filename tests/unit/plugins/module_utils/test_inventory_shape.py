"""Type and shape problems come in the project's own form and with every other problem of the same inventory.

Property-style: for every variable and key of the spec, an inventory with one wrongly typed value (or one
misspelled name) is generated; the validator must name exactly that path, say what was expected, and still
report an unrelated semantic problem planted in the same inventory (all problems at once).
"""
import copy

import pytest

from ansible_collections.eks_llm.inference.plugins.module_utils import inventory_model
from ansible_collections.eks_llm.inference.plugins.module_utils import inventory_shape

from tests.unit.plugins.module_utils.test_inventory_model import BASE

# A semantic problem the shape check knows nothing about: must be reported beside every shape problem.
PLANTED = ("eks_llm_network", {"cidr": "10.0.0.0/24"}, "eks_llm_network.cidr")
WRONG_VALUES = {"str": {"a": 1}, "int": "many", "float": [1], "bool": "perhaps", "list": {"a": 1}, "dict": "text"}


def problems(given):
    config, found, dummy = inventory_model.validate(given)
    assert config is None
    return found


def _paths(spec, prefix=""):
    """(path as a list of keys, spec entry) for every variable and nested mapping key (list elements: the first)."""
    for key, entry in spec.items():
        yield prefix + key, entry
        if entry.get("type") == "dict" and entry.get("options"):
            for path, sub in _paths(entry["options"], prefix + key + "."):
                yield path, sub


def _set(given, path, value):
    keys = path.split(".")
    target = given
    for key in keys[:-1]:
        target = target.setdefault(key, {})
    target[keys[-1]] = value


CASES = [(path, entry) for path, entry in _paths(inventory_model.SPEC)
         if entry.get("type", "str") in WRONG_VALUES and path not in ("eks_llm_network", PLANTED[2])]


@pytest.mark.parametrize("path, entry", CASES, ids=[p for p, e in CASES])
def test_a_wrongly_typed_value_is_named_with_what_was_expected_and_the_rest_is_still_checked(path, entry):
    given = copy.deepcopy(BASE)
    given[PLANTED[0]] = dict(PLANTED[1])
    _set(given, path, WRONG_VALUES[entry.get("type", "str")])
    found = problems(given)
    mine = [p for p in found if p.startswith(path + ": ")]
    assert len(mine) == 1, found
    assert "expected %s, got " % inventory_shape.describe(path.split(".")[-1], entry) in mine[0]
    assert any(p.startswith(PLANTED[2] + ": ") for p in found), found
    assert not any(p.startswith("inventory: ") for p in found), found


@pytest.mark.parametrize("wrong, right, path", [
    ("eks_llm_model", "eks_llm_models", "eks_llm_model"),
    ("eks_llm_gpu_nodepools", "eks_llm_gpu_node_pools", "eks_llm_gpu_nodepools"),
    ("eks_llm_benchmarks", "eks_llm_benchmark", "eks_llm_benchmarks"),
])
def test_a_misspelled_variable_is_unknown_with_the_closest_name(wrong, right, path):
    given = copy.deepcopy(BASE)
    given[wrong] = given.get(right, {})
    found = problems(given)
    assert "%s: unknown variable; did you mean %r?" % (path, right) in "\n".join(found)


def test_misspelled_keys_inside_models_pools_and_mappings_name_their_element():
    given = copy.deepcopy(BASE)
    given["eks_llm_models"][1]["replcas"] = 2
    given["eks_llm_gpu_node_pools"][0]["gpu_limt"] = 4
    given["eks_llm_monitoring"] = {"grafana": True}
    text = "\n".join(problems(given))
    assert "eks_llm_models[1] (opt-350m).replcas: unknown key; did you mean 'replicas'?" in text
    assert "eks_llm_gpu_node_pools[0] (g5).gpu_limt: unknown key; did you mean 'gpu_limit'?" in text
    assert "eks_llm_monitoring.grafana: unknown key; did you mean 'grafana_enabled'?" in text


def test_models_given_as_a_string_say_a_list_of_models_is_expected():
    given = copy.deepcopy(BASE)
    given["eks_llm_models"] = "llama3-8b"
    text = "\n".join(problems(given))
    assert "eks_llm_models: expected a list of models (each a mapping with keys name, engine, parameters_billion" in text
    assert "got the string 'llama3-8b'" in text


def test_a_broken_element_is_named_by_index_and_name_and_later_elements_keep_their_index():
    given = copy.deepcopy(BASE)
    given["eks_llm_models"].insert(0, "opt-125m")
    given["eks_llm_models"].insert(1, {"engine": "triton_vllm", "parameters_billion": 1})
    given["eks_llm_models"][3]["tensor_parallel"] = 3  # opt-350m, now at index 3: a semantic problem
    text = "\n".join(problems(given))
    assert "eks_llm_models[0]: expected one model: a mapping with keys name, engine, parameters_billion" in text
    assert "eks_llm_models[1].name: required, missing; expected a string" in text
    assert "eks_llm_models[3] (opt-350m).tensor_parallel: 3: allowed 1, 2, 4 or 8" in text


def test_required_variables_missing_are_named_and_others_still_checked():
    given = copy.deepcopy(BASE)
    del given["eks_llm_name"]
    given["eks_llm_region"] = None
    given["eks_llm_models"][0]["replicas"] = 0
    text = "\n".join(problems(given))
    assert "eks_llm_name: required, missing; expected a string" in text
    assert "eks_llm_region: required, got nothing (null); expected a string" in text
    assert "eks_llm_models[0] (llama3-8b).replicas: 0: at least 1" in text


def test_choices_are_listed_with_the_closest_one():
    given = copy.deepcopy(BASE)
    given["eks_llm_gpu_software"] = {"mode": "gpu-operator"}
    text = "\n".join(problems(given))
    assert ("eks_llm_gpu_software.mode: 'gpu-operator' is not allowed; allowed: 'device_plugin', 'gpu_operator';"
            " did you mean 'gpu_operator'?") in text


def test_values_ansible_converts_unambiguously_still_pass():
    given = copy.deepcopy(BASE)
    given["eks_llm_models"][1]["replicas"] = "2"
    given["eks_llm_models"][1]["autoscaling"] = {"enabled": "yes"}
    given["eks_llm_gpu_node_pools"][0]["instance_families"] = "g5"
    config, found, dummy = inventory_model.validate(given)
    assert found == []
    assert config["models"][1]["replicas"] == 2 and config["models"][1]["autoscaling"]["enabled"] is True
    assert config["gpu_node_pools"][0]["instance_families"] == ["g5"]


def test_the_acceptance_playbooks_switches_are_not_unknown_variables():
    given = copy.deepcopy(BASE)
    given.update(eks_llm_acceptance_confirm=False, eks_llm_acceptance_hours=2)
    assert inventory_model.validate(given)[1] == []
