"""The built collection: only what users need, role READMEs and filter docs in step with their sources."""
import os
import subprocess
import sys
import tarfile

from tests.tools import filter_docs, role_readmes

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# top-level entries a user of the tarball needs (model_repository: the Triton templates triton_vllm renders)
SHIPPED = {"CHANGELOG.rst", "FILES.json", "LICENSE", "MANIFEST.json", "README.md", "bindep.txt", "changelogs", "docs", "meta",
           "model_repository", "playbooks", "plugins", "roles", "requirements.txt"}


def test_the_tarball_carries_what_users_run_and_read_and_nothing_of_the_test_rig(tmp_path):
    galaxy = os.path.join(os.path.dirname(sys.executable), "ansible-galaxy")
    subprocess.run([galaxy, "collection", "build", "--output-path", str(tmp_path), REPO], check=True, capture_output=True)
    (tarball,) = list(tmp_path.glob("eks_llm-inference-*.tar.gz"))
    with tarfile.open(tarball) as archive:
        names = archive.getnames()
    assert {name.split("/")[0] for name in names} == SHIPPED
    assert not [n for n in names if "standin" in n or n.startswith("tests/") or n.endswith((".pyc", ".tgz"))]
    assert "docs/inventory.md" in names and "docs/development.md" not in names
    roles = sorted(d for d in os.listdir(os.path.join(REPO, "roles")))
    assert all("roles/%s/README.md" % role in names for role in roles)
    assert "playbooks/preflight.yml" in names and "model_repository/vllm_model/config.pbtxt.j2" in names


def test_role_readmes_are_generated_from_the_argument_specs():
    assert role_readmes.main(["--check"]) == 0


def test_every_filter_is_documented_from_its_code():
    assert filter_docs.main(["--check"]) == 0


def test_the_modules_name_the_collection_as_galaxy_yml_does():
    import yaml  # pylint: disable=import-outside-toplevel
    from ansible_collections.eks_llm.inference.plugins.module_utils import versions  # pylint: disable=import-outside-toplevel

    with open(os.path.join(REPO, "galaxy.yml"), encoding="utf-8") as handle:
        galaxy = yaml.safe_load(handle)
    assert versions.COLLECTION_NAME == "%s.%s" % (galaxy["namespace"], galaxy["name"])
    assert versions.COLLECTION_VERSION == galaxy["version"]
