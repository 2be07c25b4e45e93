"""Old names keep working: every redirect in meta/runtime.yml reaches a plugin of this collection that exists, and
ansible-core resolves the old FQCN to it; a tombstoned name is gone and says so."""
import json
import os
import subprocess
import sys

import pytest
import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTION = "eks_llm.inference"
ANSIBLE_DOC = os.path.join(os.path.dirname(sys.executable), "ansible-doc")


def routing():
    with open(os.path.join(REPO, "meta", "runtime.yml"), encoding="utf-8") as handle:
        return yaml.safe_load(handle).get("plugin_routing") or {}


def entries(kind):
    return [(plugin_type, name, entry[kind]) for plugin_type, plugins in sorted(routing().items())
            for name, entry in sorted(plugins.items()) if kind in entry]


def plugin_exists(plugin_type, name):
    """A module/lookup/action is a .py file; a filter is documented in its own <name>.yml (make plugin-docs)."""
    directory = os.path.join(REPO, "plugins", plugin_type)
    return any(os.path.exists(os.path.join(directory, name + ext)) for ext in (".py", ".yml"))


REDIRECTS = entries("redirect")
TOMBSTONES = entries("tombstone")


def test_the_renames_are_routed():
    assert ("modules", "genai_perf_results", COLLECTION + ".benchmark_results_info") in REDIRECTS
    assert ("lookup", "eks_token") in [(plugin_type, name) for plugin_type, name, _entry in TOMBSTONES]


@pytest.mark.parametrize("plugin_type,name,target", REDIRECTS, ids=["%s/%s" % entry[:2] for entry in REDIRECTS])
def test_a_redirect_reaches_a_plugin_that_exists(plugin_type, name, target):
    assert target.startswith(COLLECTION + "."), "redirect %s to another collection: check it by hand" % name
    assert plugin_exists(plugin_type, target[len(COLLECTION) + 1:]), "%s/%s redirects to %s, which does not exist" % (plugin_type, name, target)
    assert not plugin_exists(plugin_type, name), "%s/%s still exists: the redirect would never be used" % (plugin_type, name)


@pytest.mark.parametrize("plugin_type,name,tombstone", TOMBSTONES, ids=["%s/%s" % entry[:2] for entry in TOMBSTONES])
def test_a_tombstoned_plugin_is_gone_and_says_where_its_job_went(plugin_type, name, tombstone):
    assert not plugin_exists(plugin_type, name)
    assert tombstone.get("warning_text") and tombstone.get("removal_version")


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The collection as a consumer sees it: linked into a collections path of its own, no project ansible.cfg."""
    root = tmp_path_factory.mktemp("installed")
    (root / "ansible_collections" / "eks_llm").mkdir(parents=True)
    os.symlink(REPO, str(root / "ansible_collections" / "eks_llm" / "inference"))
    (root / "ansible.cfg").write_text("[defaults]\n")
    return root, dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(root), ANSIBLE_CONFIG=str(root / "ansible.cfg"))


def ansible_doc(installed, plugin_type, names):
    root, env = installed
    command = [ANSIBLE_DOC, "--json", "-t", "module" if plugin_type == "modules" else plugin_type] + names
    return subprocess.run(command, cwd=str(root), env=env, capture_output=True, text=True, check=False)


def test_ansible_resolves_every_old_name_to_its_new_plugin(installed):
    for plugin_type in sorted(set(entry[0] for entry in REDIRECTS)):
        redirects = [(name, target) for kind, name, target in REDIRECTS if kind == plugin_type]
        result = ansible_doc(installed, plugin_type, ["%s.%s" % (COLLECTION, name) for name, _target in redirects])
        assert result.returncode == 0, result.stdout + result.stderr
        docs = json.loads(result.stdout)
        for name, target in redirects:
            doc = docs["%s.%s" % (COLLECTION, name)]["doc"]
            assert doc["filename"].endswith("/plugins/%s/%s.py" % (plugin_type, target.rsplit(".", 1)[1])), doc["filename"]


def test_ansible_names_a_tombstoned_plugin_as_removed(installed):
    for plugin_type, name, _tombstone in TOMBSTONES:
        result = ansible_doc(installed, plugin_type, ["%s.%s" % (COLLECTION, name)])
        assert "has been removed" in result.stdout + result.stderr, result.stdout + result.stderr
