"""The collection declares ranges (requirements.txt); development and CI pin exact versions inside them."""
import os

from packaging.requirements import Requirement

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _read(path):
    with open(os.path.join(REPO, path), encoding="utf-8") as handle:
        return [Requirement(line.split("#")[0].strip()) for line in handle if line.split("#")[0].strip()]


def test_runtime_requirements_are_ranges_and_the_ci_pins_satisfy_them():
    runtime = _read("requirements.txt")
    pins = dict((r.name.lower(), r) for r in _read("tests/requirements.txt"))
    assert runtime and all(not any(s.operator == "==" for s in r.specifier) for r in runtime)
    assert "ansible" not in [r.name for r in runtime] and "matplotlib" not in [r.name for r in runtime]
    for requirement in runtime:
        pinned = pins[requirement.name.lower()]
        (version,) = [s.version for s in pinned.specifier if s.operator == "=="]
        assert requirement.specifier.contains(version), (requirement, version)


def test_requires_ansible_is_the_tested_core_line():
    import yaml  # pylint: disable=import-outside-toplevel

    with open(os.path.join(REPO, "meta", "runtime.yml"), encoding="utf-8") as handle:
        requires = yaml.safe_load(handle)["requires_ansible"]
    (core,) = [r for r in _read("tests/requirements.txt") if r.name == "ansible-core"]
    (version,) = [s.version for s in core.specifier]
    assert Requirement("ansible-core" + requires).specifier.contains(version)
    assert requires == ">=2.19.0,<2.20.0"
