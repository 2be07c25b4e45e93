"""playbooks/awx_configure.yml against the AWX API stand-in (tests/awx/awx_standin.py): the first run creates every
object, linked the way the docs say, the second changes nothing, and no secret shows in the output."""
import pytest

from tests.awx.awx_data import REPO
from tests.awx.awx_standin import ENCRYPTED, TOKEN, RunningAwxStandIn
from tests.system.conftest import run_playbook

SECRETS = {"AWS_ACCESS_KEY_ID": "AKIASTANDINAWXCONFIG", "AWS_SECRET_ACCESS_KEY": "aws-secret-" + "9" * 20,
           "NGC_API_KEY": "nvapi-" + "AWXCONFIG" * 4, "HF_TOKEN": "hf_" + "awxconfig" * 4}


@pytest.fixture(name="awx")
def awx_standin():
    with RunningAwxStandIn(checkout=REPO) as running:  # the project's SCM URL stands for this checkout
        yield running


def configure(awx, tmp_path):
    hosts = tmp_path / "hosts.yml"
    hosts.write_text("all:\n  hosts:\n    localhost:\n      ansible_connection: local\n"
                     "      ansible_python_interpreter: '{{ ansible_playbook_python }}'\n")
    env = dict(SECRETS, CONTROLLER_HOST=awx.url, CONTROLLER_OAUTH_TOKEN=TOKEN, CONTROLLER_VERIFY_SSL="false")
    # playbook_env drops NGC_API_KEY / HF_TOKEN from the caller's environment; these are the test's own values
    return run_playbook("playbooks/awx_configure.yml", str(hosts), env=env, timeout=600)


def named(store, endpoint, name):
    (found,) = [o for o in store.objects[endpoint].values() if o.get("name", o.get("identifier")) == name]
    return found


def test_first_run_creates_everything_second_changes_nothing(awx, tmp_path):
    first = configure(awx, tmp_path)
    assert first.returncode == 0, first
    assert first.changed == 9, first  # every task but the organization (AWX has "Default" already)
    store = awx.store
    project = named(store, "projects", "eks_llm")
    ee = named(store, "execution_environments", "eks_llm execution environment")
    assert project["scm_type"] == "git" and project["default_environment"] == ee["id"] and ee["image"].endswith("eks-llm-ee:0.1.0")
    for kind, field, env in (("NGC API key", "ngc_api_key", "NGC_API_KEY"), ("Hugging Face token", "hf_token", "HF_TOKEN")):
        credential_type = named(store, "credential_types", kind)
        assert credential_type["injectors"] == {"env": {env: "{{ %s }}" % field}}
        assert credential_type["inputs"]["fields"][0]["secret"] is True
    credentials = dict((c["name"], c) for c in store.objects["credentials"].values())
    assert sorted(credentials) == ["eks_llm AWS", "eks_llm Hugging Face token", "eks_llm NGC API key"]
    assert store.view("credentials", credentials["eks_llm AWS"])["inputs"] == {"username": SECRETS["AWS_ACCESS_KEY_ID"], "password": ENCRYPTED}
    assert credentials["eks_llm NGC API key"]["inputs"] == {"ngc_api_key": SECRETS["NGC_API_KEY"]}
    inventory = named(store, "inventories", "eks_llm")
    source = named(store, "inventory_sources", "eks_llm local")
    assert (source["inventory"], source["source"], source["source_project"], source["source_path"]) == (
        inventory["id"], "scm", project["id"], "inventories/local/hosts.yml")
    templates = dict((t["name"], t) for t in store.objects["job_templates"].values())
    assert sorted(templates) == ["eks_llm Benchmark", "eks_llm Deploy", "eks_llm Teardown", "eks_llm Verify"]
    assert templates["eks_llm Deploy"]["playbook"] == "site.yml" and templates["eks_llm Teardown"]["playbook"] == "teardown.yml"
    for template in templates.values():
        assert (template["project"], template["inventory"], template["execution_environment"]) == (project["id"], inventory["id"], ee["id"])
        assert len(store.links[("job_templates", template["id"], "credentials")]) == 3
        assert template["survey_enabled"] is (template["name"] != "eks_llm Verify")
    assert ("job_templates", templates["eks_llm Verify"]["id"]) not in store.surveys
    teardown_survey = store.surveys[("job_templates", templates["eks_llm Teardown"]["id"])]
    assert [q["variable"] for q in teardown_survey["spec"]] == ["eks_llm_teardown_confirm"]
    workflow = named(store, "workflow_job_templates", "eks_llm Deploy, verify, benchmark")
    nodes = dict((n["identifier"], n) for n in store.objects["workflow_job_template_nodes"].values())
    assert sorted(nodes) == ["Benchmark", "Deploy", "Verify"]
    assert all(n["workflow_job_template"] == workflow["id"] for n in nodes.values())
    assert nodes["Deploy"]["unified_job_template"] == templates["eks_llm Deploy"]["id"]
    chain = [(i, store.links.get(("workflow_job_template_nodes", n["id"], "success_nodes"), [])) for i, n in sorted(nodes.items())]
    assert chain == [("Benchmark", []), ("Deploy", [nodes["Verify"]["id"]]), ("Verify", [nodes["Benchmark"]["id"]])]
    writes = len(store.requests)

    second = configure(awx, tmp_path)
    assert second.returncode == 0, second
    assert second.changed == 0, second
    assert len(store.requests) == writes  # nothing written at all
    for value in SECRETS.values():
        if value != SECRETS["AWS_ACCESS_KEY_ID"]:  # the access key id is not a secret (AWX shows it too)
            assert value not in first.output + second.output


def test_the_standin_refuses_what_awx_refuses(awx):
    """The stand-in's checks fire: a broken injector, an unknown organization and a survey with a bad type."""
    store = awx.store
    broken_injector = {"name": "x", "kind": "cloud", "inputs": {"fields": [{"id": "a", "label": "A"}]}, "injectors": {"env": {"B": "{{ b }}"}}}
    assert "inputs" in store.problems("credential_types", broken_injector)
    assert "organization" in store.problems("inventories", {"name": "x", "organization": 999})
    assert "kind" in store.problems("credential_types", {"name": "y", "kind": "ssh"})
    assert "__all__" in store.problems("organizations", {"name": "Default"})
    project = store.add("projects", {"name": "p", "organization": 1, "scm_type": "git", "scm_url": "https://example.com/x.git"})
    assert "playbook" in store.problems("job_templates", {"name": "j", "playbook": "playbooks/none.yml", "project": project["id"], "inventory": 1})
    store.sync(project)
    assert {"site.yml", "teardown.yml", "playbooks/verify.yml", "playbooks/awx_configure.yml"} <= set(project["playbooks"])
    assert "inputs" in store.problems("credentials", {"name": "c", "credential_type": 2, "inputs": {"username": "a"}})
