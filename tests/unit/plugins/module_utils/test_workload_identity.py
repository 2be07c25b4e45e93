"""Each workload that calls AWS gets credentials through a mechanism its image's SDK supports.

The facts behind the table (plugins/module_utils/workload_identity.py) are upstream's: Triton builds aws-sdk-cpp
1.11.60 (Pod Identity needs >= 1.11.263), AWS for Fluent Bit reads Pod Identity from 2.32.5 on, Karpenter since 0.35.
"""
import copy
import os

import pytest
import yaml

from ansible_collections.eks_llm.inference.plugins.module_utils import inventory_model
from ansible_collections.eks_llm.inference.plugins.module_utils import versions
from ansible_collections.eks_llm.inference.plugins.module_utils import workload_identity as wi
from tests.standin.local import inventory_folders, inventory_variables

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))

BASE = {
    "eks_llm_name": "demo",
    "eks_llm_region": "us-west-2",
    "eks_llm_gpu_node_pools": [{"name": "g5", "instance_families": ["g5"], "capacity_types": ["on-demand"]}],
    "eks_llm_models": [{"name": "opt-350m", "engine": "triton_vllm", "parameters_billion": 0.35, "precision": "fp16",
                        "vllm": {"model_id": "facebook/opt-350m"}}],
}


def validate(**changes):
    given = copy.deepcopy(BASE)
    given.update(changes)
    return inventory_model.validate(given)


@pytest.mark.parametrize("image, expected", [
    ("nvcr.io/nvidia/tritonserver:25.10-vllm-python-py3", ("irsa",)),
    ("nvcr.io/nvidia/tritonserver:24.08-vllm-python-py3", ("irsa",)),
    ("123456789012.dkr.ecr.us-west-2.amazonaws.com/mirror/tritonserver:25.10-vllm-python-py3", ("irsa",)),
    ("nvcr.io/nvidia/tritonserver:custom-build", ("irsa",)),
])
def test_triton_images_support_irsa_only(image, expected):
    assert wi.supported("triton", image)[0] == expected


@pytest.mark.parametrize("tag, expected", [
    ("2.32.2.20240516", ("irsa",)),  # the default image of the fluent-bit chart 0.1.35
    ("2.32.4", ("irsa",)),
    ("2.32.5", ("pod_identity", "irsa")),
    ("2.34.1.20251112", ("pod_identity", "irsa")),
    ("3.2.1", ("pod_identity", "irsa")),
])
def test_fluent_bit_reads_pod_identity_from_2_32_5(tag, expected):
    assert wi.supported("fluent_bit", "public.ecr.aws/aws-observability/aws-for-fluent-bit:" + tag)[0] == expected


@pytest.mark.parametrize("image, expected", [
    ("vllm/vllm-openai:v0.6.4", ("irsa",)),  # before S3 streaming (and the validator refuses s3:// models with it)
    ("vllm/vllm-openai:v0.7.0", ("pod_identity", "irsa")),
    ("vllm/vllm-openai:v0.26.0", ("pod_identity", "irsa")),
    ("123456789012.dkr.ecr.us-west-2.amazonaws.com/mirror/vllm-openai:0.26.0", ("pod_identity", "irsa")),
    ("vllm/vllm-openai:nightly", ("irsa",)),  # nothing known about its SDK
])
def test_vllm_reads_pod_identity_through_boto3_from_the_first_release_that_streams_from_s3(image, expected):
    assert wi.supported("vllm", image)[0] == expected


def test_every_pinned_image_supports_the_mechanism_auto_picks():
    config, problems, dummy = validate()
    assert problems == []
    accounts = config["service_accounts"]
    assert accounts["fluent_bit"]["credentials"] == "pod_identity"
    assert accounts["karpenter_controller"]["credentials"] == "pod_identity"
    assert [a["credentials"] for a in accounts["triton"]] == ["irsa"]
    assert wi.supported("fluent_bit", versions.IMAGES["fluent_bit"])[0][0] == "pod_identity"


def every_inventory():
    return [(folder, inventory_variables(folder)) for folder in inventory_folders()]


@pytest.mark.parametrize("where, given", every_inventory(), ids=lambda v: os.path.relpath(v, REPO) if isinstance(v, str) else "")
def test_every_shipped_inventory_gives_each_workload_a_mechanism_its_image_supports(where, given):
    given = dict((k, v) for k, v in given.items() if isinstance(v, (dict, list, str, int, float, bool)) and "{{" not in str(v))
    given.setdefault("eks_llm_ngc_api_key", "nvapi-test")
    config, problems, dummy = inventory_model.validate(given)
    if config is None:
        pytest.skip("%s needs variables from the environment: %s" % (where, problems[:1]))
    accounts = config["service_accounts"]
    for key, entry in wi.WORKLOADS.items():
        image = config["images"].get(entry["image"]) or "x:" + config["charts"][entry["image"]]["version"]
        for account in accounts[key] if isinstance(accounts[key], list) else [accounts[key]]:
            assert account["credentials"] in wi.supported(key, image)[0], (key, image, account)


def test_asking_for_pod_identity_on_triton_is_refused_with_the_reason():
    config, problems, dummy = validate(eks_llm_workload_credentials={"triton": "pod_identity"})
    assert config is None
    assert problems == ["eks_llm_workload_credentials.triton: triton cannot use pod_identity:"
                        " nvcr.io/nvidia/tritonserver:25.10-vllm-python-py3 carries aws-sdk-cpp 1.11.60;"
                        " EKS Pod Identity needs aws-sdk-cpp >= 1.11.263; supported: irsa"]


def test_an_old_fluent_bit_image_falls_back_to_irsa_or_is_refused_when_pod_identity_is_asked():
    old = "public.ecr.aws/aws-observability/aws-for-fluent-bit:2.32.2.20240516"
    config, problems, dummy = validate(eks_llm_image_overrides={"fluent_bit": old})
    assert problems == [] and config["service_accounts"]["fluent_bit"]["credentials"] == "irsa"
    config, problems, dummy = validate(eks_llm_image_overrides={"fluent_bit": old},
                                       eks_llm_workload_credentials={"fluent_bit": "pod_identity"})
    assert config is None and "needs aws-for-fluent-bit >= 2.32.5" in problems[0]


def test_unknown_workloads_and_mechanisms_are_named():
    config, problems, dummy = validate(eks_llm_workload_credentials={"tritonn": "irsa", "fluent_bit": "keys"})
    assert config is None
    assert problems == [
        "eks_llm_workload_credentials: 'tritonn' is not a workload that calls AWS; known: fluent_bit, karpenter_controller, triton, vllm",
        "eks_llm_workload_credentials.fluent_bit: 'keys' given; allowed: auto, pod_identity, irsa"]


def test_every_workload_role_suffix_matches_the_iam_role_that_creates_it():
    with open(os.path.join(REPO, "roles", "iam", "vars", "main.yml"), encoding="utf-8") as handle:
        roles = dict((r["key"], r) for r in yaml.safe_load(handle)["__iam_roles"])
    for key, suffix in inventory_model.WORKLOAD_ROLE_SUFFIXES.items():
        assert roles[key]["suffix"] == suffix
        assert roles[key]["workload"] == key, "roles/iam must take %s's trust from its credential mechanism" % key


def test_irsa_trust_names_exactly_the_service_accounts_and_the_sts_audience():
    policy = wi.irsa_trust_policy("arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/ABC",
                                  "https://oidc.eks.us-west-2.amazonaws.com/id/ABC", ["system:serviceaccount:llm:triton"])
    statement, = policy["Statement"]
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Condition"] == {"StringEquals": {
        "oidc.eks.us-west-2.amazonaws.com/id/ABC:sub": "system:serviceaccount:llm:triton",
        "oidc.eks.us-west-2.amazonaws.com/id/ABC:aud": "sts.amazonaws.com"}}


def test_service_account_annotations_only_for_irsa():
    entry = {"namespace": "llm", "service_account": "triton", "role_name": "demo-triton-model-reader", "credentials": "irsa"}
    assert wi.service_account_annotations(entry, "aws", "123456789012") == {
        "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/demo-triton-model-reader"}
    assert wi.service_account_annotations(dict(entry, credentials="pod_identity"), "aws", "123456789012") == {}
