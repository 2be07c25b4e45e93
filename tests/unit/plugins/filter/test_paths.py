"""results_path: reports land in the project (or beside the inventory of an installed collection), never in PWD."""
import os

import pytest

from plugins.filter.paths import results_path


def test_absolute_paths_stay(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    assert results_path("/srv/reports/", "/repo/playbooks") == "/srv/reports"


def test_relative_paths_are_taken_from_the_project_not_the_working_directory(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # e.g. an AWX job's private data directory
    assert results_path("reports", "/repo/playbooks", "/repo/inventories/prod") == "/repo/reports"
    assert results_path("out/../reports", "/repo/playbooks") == "/repo/reports"


INSTALLED_CASES = [("/projects/llm/inventories/prod", "/projects/llm/inventories/prod/reports"),
                   (None, "/venv/ansible_collections/eks_llm/inference/reports")]


@pytest.mark.parametrize("inventory_dir, expected", INSTALLED_CASES)
def test_an_installed_collection_writes_beside_the_inventory(inventory_dir, expected):
    playbooks = os.path.join("/venv", "ansible_collections", "eks_llm", "inference", "playbooks")
    assert results_path("reports", playbooks, inventory_dir) == expected
