"""Every entry point is a playbook under playbooks/, reachable by FQCN; the project's site.yml and teardown.yml are
the same playbooks (a collection consumer, e.g. an AWX project, runs eks_llm.inference.site / .teardown)."""
import os
import subprocess
import sys

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLAYBOOKS = os.path.join(REPO, "playbooks")
LAYERS = ["preflight.yml", "aws.yml", "platform.yml", "inference.yml", "verify.yml", "benchmark.yml"]
TEARDOWN = ["teardown_confirm.yml", "teardown_inference.yml", "teardown_platform.yml", "teardown_aws.yml"]


def imports(path):
    with open(path, encoding="utf-8") as handle:
        return [play["ansible.builtin.import_playbook"] for play in yaml.safe_load(handle)]


def test_site_and_teardown_of_the_project_are_the_collections_playbooks():
    assert imports(os.path.join(REPO, "site.yml")) == ["playbooks/site.yml"]
    assert imports(os.path.join(REPO, "teardown.yml")) == ["playbooks/teardown.yml"]


def test_the_whole_deploy_and_teardown_run_every_layer_in_order():
    assert imports(os.path.join(PLAYBOOKS, "site.yml")) == LAYERS
    assert imports(os.path.join(PLAYBOOKS, "teardown.yml")) == TEARDOWN
    with open(os.path.join(PLAYBOOKS, "site.yml"), encoding="utf-8") as handle:
        tags = [play["tags"] for play in yaml.safe_load(handle)]
    assert tags == [[layer[:-len(".yml")]] for layer in LAYERS]  # each layer can be run or skipped by its tag


def test_every_playbook_resolves_by_fqcn(tmp_path):
    names = sorted(name[:-len(".yml")] for name in os.listdir(PLAYBOOKS) if name.endswith(".yml"))
    assert {"site", "teardown"} <= set(names)
    # the collection as an installed consumer sees it: linked into a collections path of its own
    collections = tmp_path / "ansible_collections" / "eks_llm"
    collections.mkdir(parents=True)
    os.symlink(REPO, str(collections / "inference"))
    (tmp_path / "ansible.cfg").write_text("[defaults]\n")  # not the repository's (its collections path is .cache)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(tmp_path), ANSIBLE_CONFIG=str(tmp_path / "ansible.cfg"))
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "--syntax-check", "-i", "localhost,"]
    result = subprocess.run(command + ["eks_llm.inference.%s" % name for name in names], cwd=str(tmp_path), env=env,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    for name in names:
        assert "ansible_collections/eks_llm/inference/playbooks/%s.yml\n" % name in result.stdout, result.stdout


# The header every play shares (playbooks/vars/header.yml): the same module defaults and environment, defined once.
HEADER = {
    "hosts": "localhost",
    "connection": "local",
    "gather_facts": False,
    "vars_files": ["vars/header.yml"],
    "module_defaults": {
        "group/eks_llm.inference.aws": "{{ play_aws_defaults }}",
        "group/eks_llm.inference.k8s": "{{ play_k8s_defaults }}",
    },
    "environment": "{{ play_environment }}",
}


def test_every_play_uses_the_shared_header():
    plays = []
    for name in sorted(os.listdir(PLAYBOOKS)):
        if name.endswith(".yml"):
            with open(os.path.join(PLAYBOOKS, name), encoding="utf-8") as handle:
                plays += [(name, play) for play in yaml.safe_load(handle) if "hosts" in play]
    assert len(plays) >= 9
    for name, play in plays:
        assert dict((key, play.get(key)) for key in HEADER) == HEADER, name
    with open(os.path.join(PLAYBOOKS, "vars", "header.yml"), encoding="utf-8") as handle:
        header = yaml.safe_load(handle)
    assert not [key for key in header if key.startswith("eks_llm_")]  # the validator reads every eks_llm_* variable


def test_no_role_runs_helm_but_helm_release():
    """One helm task (roles/helm_release): every other role describes its releases as data and includes it."""
    found = []
    for root, _dirs, files in os.walk(os.path.join(REPO, "roles")):
        for name in files:
            if name.endswith(".yml") and not root.startswith(os.path.join(REPO, "roles", "helm_release")):
                with open(os.path.join(root, name), encoding="utf-8") as handle:
                    if "kubernetes.core.helm:" in handle.read():
                        found.append(os.path.relpath(os.path.join(root, name), REPO))
    assert found == []
