# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
"""Unit tests of eks_llm.inference.directory_content: the directory ends up holding exactly the given files."""

import os
import stat

import pytest

from ansible_collections.eks_llm.inference.plugins.modules import directory_content
from ansible_collections.eks_llm.inference.tests.unit.plugins.modules.utils import ModuleRunner

REPO = [{"path": "opt-350m/config.pbtxt", "content": 'name: "opt-350m"\n'},
        {"path": "opt-350m/1/model.json", "content": '{"model": "facebook/opt-350m"}\n'}]


@pytest.fixture
def run():
    return ModuleRunner(directory_content.main)


def tree(root):
    """{relative path: content} of every file, and the sorted directories, under root."""
    files, directories = {}, []
    for current, dirnames, filenames in os.walk(root):
        for name in dirnames:
            directories.append(os.path.relpath(os.path.join(current, name), root))
        for name in filenames:
            with open(os.path.join(current, name)) as handle:
                files[os.path.relpath(os.path.join(current, name), root)] = handle.read()
    return files, sorted(directories)


def test_writes_the_tree_then_changes_nothing(run, tmp_path):
    root = tmp_path / "build" / "model_repository"
    first = run({"path": str(root), "files": REPO})
    assert first["changed"] is True and first["written"] == ["opt-350m/1/model.json", "opt-350m/config.pbtxt"]
    assert tree(root) == ({"opt-350m/config.pbtxt": 'name: "opt-350m"\n', "opt-350m/1/model.json": '{"model": "facebook/opt-350m"}\n'},
                          ["opt-350m", "opt-350m/1"])
    assert stat.S_IMODE(os.stat(root / "opt-350m" / "config.pbtxt").st_mode) == 0o644
    again = run({"path": str(root), "files": REPO})
    assert again == {"changed": False, "written": [], "removed": []}


def test_an_empty_list_leaves_an_empty_directory(run, tmp_path):
    root = tmp_path / "repo"
    run({"path": str(root), "files": REPO})
    result = run({"path": str(root), "files": []})
    assert result["removed"] == ["opt-350m"] and tree(root) == ({}, [])
    assert run({"path": str(tmp_path / "new"), "files": []})["changed"] is True  # the directory itself is created
    assert os.path.isdir(tmp_path / "new")


def test_a_model_that_went_is_removed_and_a_changed_file_rewritten_and_diff_says_so(run, tmp_path):
    root = tmp_path / "repo"
    run({"path": str(root), "files": REPO + [{"path": "llama/config.pbtxt", "content": "x\n"}, {"path": "stray.txt", "content": "y"}]})
    changed = [dict(REPO[0], content='name: "opt-350m"\nbackend: "vllm"\n'), REPO[1]]
    result = run({"path": str(root), "files": changed}, diff=True)
    assert result["written"] == ["opt-350m/config.pbtxt"] and result["removed"] == ["stray.txt", "llama"]
    assert sorted(tree(root)[0]) == ["opt-350m/1/model.json", "opt-350m/config.pbtxt"]
    by_file = dict((d["after_header"], d) for d in result["diff"])
    assert by_file["opt-350m/config.pbtxt"]["before"] == 'name: "opt-350m"\n'
    assert 'backend: "vllm"' in by_file["opt-350m/config.pbtxt"]["after"]
    assert by_file["llama"]["after"] == "(removed)\n"


def test_check_mode_changes_nothing_on_disk(run, tmp_path):
    root = tmp_path / "repo"
    result = run({"path": str(root), "files": REPO}, check_mode=True)
    assert result["changed"] is True and len(result["written"]) == 2 and not root.exists()
    run({"path": str(root), "files": REPO})
    (root / "extra").write_text("z")
    result = run({"path": str(root), "files": REPO[:1]}, check_mode=True)
    assert result["removed"] == ["extra", "opt-350m/1"] and (root / "extra").exists() and (root / "opt-350m" / "1").exists()


def test_a_mode_change_is_applied(run, tmp_path):
    root = tmp_path / "repo"
    run({"path": str(root), "files": REPO})
    result = run({"path": str(root), "files": [dict(REPO[0], mode="0600"), REPO[1]]})
    assert result["written"] == ["opt-350m/config.pbtxt"]
    assert stat.S_IMODE(os.stat(root / "opt-350m" / "config.pbtxt").st_mode) == 0o600


def test_a_file_where_a_directory_goes_and_a_directory_where_a_file_goes_are_replaced(run, tmp_path):
    root = tmp_path / "repo"
    (root / "opt-350m" / "config.pbtxt").mkdir(parents=True)
    (root / "opt-350m" / "1").parent.mkdir(exist_ok=True)
    (root / "opt-350m" / "1").write_text("a file, not a directory")
    result = run({"path": str(root), "files": REPO})
    assert result["removed"] == ["opt-350m/1", "opt-350m/config.pbtxt"]
    assert sorted(tree(root)[0]) == ["opt-350m/1/model.json", "opt-350m/config.pbtxt"]


def test_links_are_removed_not_followed(run, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("keep")
    root = tmp_path / "repo"
    root.mkdir()
    os.symlink(str(outside), str(root / "linked"))
    result = run({"path": str(root), "files": REPO})
    assert "linked" in result["removed"] and not os.path.lexists(root / "linked")
    assert (outside / "keep.txt").read_text() == "keep"


@pytest.mark.parametrize("files, message", [
    ([{"path": "../escape", "content": ""}], "must be a relative path inside the directory"),
    ([{"path": "/etc/passwd", "content": ""}], "must be a relative path inside the directory"),
    ([{"path": "a/b", "content": ""}, {"path": "a//b", "content": ""}], "'a/b' is given twice"),
    ([{"path": "a", "content": ""}, {"path": "a/b", "content": ""}], "a is given as a file and used as a directory"),
    ([{"path": "a", "content": "", "mode": "rw"}], "is not an octal mode"),
])
def test_bad_paths_and_modes_fail_before_anything_is_written(run, tmp_path, files, message):
    root = tmp_path / "repo"
    assert message in run.failing({"path": str(root), "files": files})["msg"]
    assert not root.exists()


def test_a_file_in_the_way_of_the_directory_fails(run, tmp_path):
    (tmp_path / "repo").write_text("")
    assert run.failing({"path": str(tmp_path / "repo"), "files": REPO})["msg"].endswith("exists and is not a directory")
