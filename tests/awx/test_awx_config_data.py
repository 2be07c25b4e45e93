"""The AWX objects of roles/awx_config as AWX would judge them: survey specs by AWX's survey rules, every key an
option of the awx.awx module that applies it, survey variables ones the inventory validator knows (and their
answers checked by it), credential types rendered by AWX's own injector code (awx_plugins.interfaces)."""
import pytest

from awx_plugins.interfaces._temporary_private_api import ManagedCredentialType
from awx_plugins.interfaces._temporary_private_credential_api import Credential
from awx_plugins.interfaces._temporary_private_inject_api import inject_credential, secret_fields

from ansible_collections.eks_llm.inference.plugins.module_utils import gpu_catalog, inventory_model
from tests.awx.awx_data import ROLE_KEYS, defaults, module_options, survey
from tests.awx.awx_standin import survey_problems

DATA = defaults()


def surveys():
    found = [(t["name"], survey(DATA, t)) for t in DATA["awx_config_job_templates"] if t["questions"]]
    return found + [(DATA["awx_config_workflow"]["name"], survey(DATA, DATA["awx_config_workflow"]))]


@pytest.mark.parametrize("name, spec", surveys(), ids=[s[0] for s in surveys()])
def test_every_survey_passes_awx_survey_rules(name, spec):
    assert survey_problems(spec) == [], name


def test_the_survey_checker_refuses_what_awx_refuses():
    good = {"question_name": "Q", "variable": "eks_llm_run_engine", "type": "multiplechoice", "required": False, "choices": ["a", "b"]}
    assert survey_problems({"name": "n", "description": "", "spec": [good]}) == []
    bad = [dict(good, type="dropdown"), dict(good, choices=[]), dict(good, default="c"), dict(good, type="integer", min=5, max=1),
           dict(good, type="password", choices=None, default="secret"), dict(good, min=1)]
    for question in bad:
        assert survey_problems({"name": "n", "description": "", "spec": [question]}), question
    assert survey_problems({"name": "n", "description": "", "spec": [good, good]})  # a variable asked twice


def test_survey_variables_are_known_to_the_inventory_validator():
    asked = set(q["variable"] for q in DATA["awx_config_questions"].values())
    assert asked <= set(inventory_model.SPEC) | set(inventory_model.PLAYBOOK_VARIABLES)
    for question in DATA["awx_config_questions"].values():  # a survey sets flat variables: only the run overrides
        assert question["variable"] in inventory_model.RUN_OVERRIDES or question["variable"] in inventory_model.PLAYBOOK_VARIABLES
    instance_types = DATA["awx_config_questions"]["gpu_instance_type"]["choices"]
    assert set(instance_types) <= set(gpu_catalog.INSTANCE_TYPES)
    assert set(DATA["awx_config_questions"]["engine"]["choices"]) == set(inventory_model.ENGINES)


def test_the_teardown_is_never_in_the_workflow_and_asks_for_the_name():
    assert "Teardown" not in DATA["awx_config_workflow"]["nodes"]
    (teardown,) = [t for t in DATA["awx_config_job_templates"] if t["name"] == "Teardown"]
    assert teardown["playbook"] == "teardown.yml" and teardown["extra_vars"] == {"eks_llm_teardown_require_confirm": True}
    (question,) = survey(DATA, teardown)["spec"]
    assert question["variable"] == "eks_llm_teardown_confirm" and question["required"] is True
    assert set(DATA["awx_config_workflow"]["nodes"]) <= set(t["name"] for t in DATA["awx_config_job_templates"])


@pytest.mark.parametrize("variable, module", [("awx_config_job_templates", "job_template"),
                                              ("awx_config_credential_types", "credential_type")])
def test_every_key_of_the_data_is_an_option_of_its_module(variable, module):
    options = module_options(module)
    for entry in DATA[variable]:
        assert set(entry) - ROLE_KEYS <= options, (entry["name"], sorted(set(entry) - ROLE_KEYS - options))


def test_the_workflow_data_is_options_of_its_modules():
    assert set(DATA["awx_config_workflow"]) - ROLE_KEYS <= module_options("workflow_job_template")
    assert {"identifier", "workflow_job_template", "unified_job_template", "success_nodes"} <= module_options("workflow_job_template_node")
    assert {"survey_spec", "survey_enabled", "extra_vars", "skip_tags", "credentials", "execution_environment"} <= module_options("job_template")


LOCAL = {"eks_llm_name": "demo", "eks_llm_region": "us-west-2",
         "eks_llm_gpu_node_pools": [{"name": "gpu-g5", "instance_families": ["g5"], "gpu_limit": 8}],
         "eks_llm_models": [{"name": "opt-350m", "engine": "triton_vllm", "parameters_billion": 0.35, "precision": "fp16",
                             "vllm": {"model_id": "facebook/opt-350m"}}],
         "eks_llm_benchmark": {"enabled": False, "profiles": [{"name": "p", "concurrencies": [1, 8]}],
                               "slos": [{"metric": "time_to_first_token_ms", "stat": "p99", "max": 2000}]}}


def test_survey_answers_are_written_into_the_inventory_before_its_checks():
    answers = {"eks_llm_run_replicas": 2, "eks_llm_run_gpu_instance_type": "g6.12xlarge", "eks_llm_run_gpu_limit": 16,
               "eks_llm_run_benchmark_concurrencies": "4,16", "eks_llm_run_slo_ttft_p99_ms": 900.0}
    config, problems, dummy = inventory_model.validate(dict(LOCAL, **answers))
    assert problems == []
    (model,) = config["models"]
    (pool,) = config["gpu_node_pools"]
    assert model["replicas"] == 2 and pool["instance_types"] == ["g6.12xlarge"] and pool["resolved_instance_types"] == ["g6.12xlarge"]
    assert pool["gpu_limit"] == 16 and config["benchmark"]["profiles"][0]["concurrencies"] == [4, 16]
    assert [s["max"] for s in config["benchmark"]["slos"] if s["metric"] == "time_to_first_token_ms"] == [900.0]


@pytest.mark.parametrize("answers, inventory_change, message", [
    ({"eks_llm_run_replicas": 0}, {"replicas": 0}, "eks_llm_models[0] (opt-350m).replicas: 0: at least 1"),
    ({"eks_llm_run_engine": "nim_chart"}, {"engine": "nim_chart"}, "eks_llm_models[0] (opt-350m).nim: engine nim_chart needs nim"),
    ({"eks_llm_run_replicas": 9}, {"replicas": 9}, "eks_llm_gpu_node_pools[0] (gpu-g5).gpu_limit: 8: the models on this pool need at least 9 GPUs"),
])
def test_a_bad_answer_gets_the_message_of_the_same_value_in_the_inventory(answers, inventory_change, message):
    dummy, from_survey, dummy_warnings = inventory_model.validate(dict(LOCAL, **answers))
    written = dict(LOCAL, eks_llm_models=[dict(LOCAL["eks_llm_models"][0], **inventory_change)])
    dummy, from_inventory, dummy_warnings = inventory_model.validate(written)
    assert from_survey == from_inventory and any(p.startswith(message) for p in from_survey), from_survey


def test_unanswered_questions_keep_the_inventorys_values():
    empty = dict((question["variable"], "") for question in DATA["awx_config_questions"].values()
                 if question["variable"] in inventory_model.RUN_OVERRIDES)
    config, problems, dummy_warnings = inventory_model.validate(dict(LOCAL, **empty))
    plain, dummy_problems, dummy_warnings = inventory_model.validate(LOCAL)
    assert problems == [] and config == plain


def test_answers_for_one_of_several_models_must_name_it_and_the_s3_uri_is_checked():
    several = dict(LOCAL, eks_llm_models=LOCAL["eks_llm_models"] * 1 + [dict(LOCAL["eks_llm_models"][0], name="opt-b")])
    dummy, problems, dummy_warnings = inventory_model.validate(dict(several, eks_llm_run_replicas=2))
    assert problems == ["eks_llm_run_model: '': eks_llm_run_replicas set, so name the model of eks_llm_models they change (models: opt-350m, opt-b)"]
    dummy, problems, dummy_warnings = inventory_model.validate(dict(several, eks_llm_run_model="opt-c"))
    assert problems == ["eks_llm_run_model: 'opt-c' is not a model of eks_llm_models (models: opt-350m, opt-b)"]
    config, problems, dummy_warnings = inventory_model.validate(dict(several, eks_llm_run_replicas=2, eks_llm_run_model="opt-b"))
    assert problems == [] and [m["replicas"] for m in config["models"]] == [1, 2]
    dummy, problems, dummy_warnings = inventory_model.validate(dict(LOCAL, eks_llm_reports_s3_uri="s3://Bad_Bucket/x"))
    assert problems and problems[0].startswith("eks_llm_reports_s3_uri: 's3://Bad_Bucket/x' is not an S3 location")
    config, problems, dummy_warnings = inventory_model.validate(dict(LOCAL, eks_llm_reports_s3_uri="s3://reports-bucket/runs/a/"))
    assert config["reports_s3"] == {"bucket": "reports-bucket", "prefix": "runs/a"}


@pytest.mark.parametrize("index, field, env", [(0, "ngc_api_key", "NGC_API_KEY"), (1, "hf_token", "HF_TOKEN")])
def test_credential_types_through_awx_injector_code(tmp_path, index, field, env):
    data = DATA["awx_config_credential_types"][index]
    kind = ManagedCredentialType(namespace=field, name=data["name"], kind=data["kind"], inputs=data["inputs"], injectors=data["injectors"])
    secret = "s3cr3t-" + field
    (tmp_path / "env").mkdir()
    injected, shown, args = {}, {}, []
    inject_credential(kind, Credential(inputs={field: secret}), injected, shown, args, str(tmp_path))
    assert injected == {env: secret} and args == []
    assert secret_fields(kind) == [field]
    assert shown == {env: "**********"}  # what AWX stores and shows for the job: masked
