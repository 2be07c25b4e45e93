# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
"""The real-account acceptance run: playbook syntax, and its Makefile target tears down whatever the deploy did."""

import os
import subprocess
import sys

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.path.dirname(sys.executable)


def test_acceptance_playbook_syntax():
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"), PATH=BIN + os.pathsep + os.environ.get("PATH", ""))
    result = subprocess.run(
        [os.path.join(BIN, "ansible-playbook"), "--syntax-check", "playbooks/acceptance.yml",
         "-i", "inventories/examples/acceptance-smallest"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_make_acceptance_always_tears_down_and_keeps_the_deploy_status():
    result = subprocess.run(["make", "-n", "acceptance", "BIN=bin", "INVENTORY=inventories/x", "CONFIRM=false"],
                            cwd=REPO, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert "--tags preflight,estimate" in text and "eks_llm_acceptance_confirm=false" in text
    deploy = text.index("--skip-tags preflight,estimate")
    teardown = text.index("teardown.yml -i inventories/x")
    assert deploy < teardown
    assert "|| deploy=$?" in text and "|| teardown=$?" in text and "exit $deploy" in text
