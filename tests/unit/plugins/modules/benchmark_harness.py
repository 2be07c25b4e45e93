# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
"""Running the controller-side benchmark modules in-process, and their fixture files.

The fixtures under fixtures/benchmark/ are the output of genai-perf 0.0.16 and AIPerf 0.13.0
themselves (run against a stand-in server; genai-perf with a stand-in perf_analyzer), with
the artifact, tokenizer and server paths replaced by production-looking ones. The tools write
their CSVs with CRLF line ends; the copies here have LF (ansible-test's line-endings rule),
they only show what the modules must not read.
"""

import os
import shutil

import pytest

from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "benchmark")

GENAI_PERF_CHAT = os.path.join(FIXTURES, "genai_perf_chat")
GENAI_PERF_CHAT_FILE = os.path.join(
    GENAI_PERF_CHAT, "meta_llama-3.1-8b-instruct-openai-chat-concurrency64", "profile_export_genai_perf.json")
GENAI_PERF_COMPLETIONS = os.path.join(FIXTURES, "genai_perf_completions")
GENAI_PERF_KSERVE = os.path.join(FIXTURES, "genai_perf_kserve")
GENAI_PERF_GENERATE = os.path.join(FIXTURES, "genai_perf_generate")
AIPERF_CHAT = os.path.join(FIXTURES, "aiperf_chat")
AIPERF_COMPLETIONS = os.path.join(FIXTURES, "aiperf_completions")
TRUNCATED = os.path.join(FIXTURES, "truncated", "profile_export_genai_perf.json")
FOREIGN = os.path.join(FIXTURES, "foreign", "summary_lifecycle_metrics.json")


class ModuleExit(Exception):
    def __init__(self, result):
        super().__init__(result)
        self.result = result


class ModuleFail(Exception):
    def __init__(self, result):
        super().__init__(result.get("msg"))
        self.result = result


def _exit_json(self, **kwargs):
    raise ModuleExit(kwargs)


def _fail_json(self, **kwargs):
    raise ModuleFail(kwargs)


class ModuleRunner:
    """Runs one module's main() with AnsibleModule's exit_json/fail_json/warn captured."""

    def __init__(self, monkeypatch, main):
        self.main = main
        self.warnings = []
        monkeypatch.setattr(basic.AnsibleModule, "exit_json", _exit_json)
        monkeypatch.setattr(basic.AnsibleModule, "fail_json", _fail_json)
        monkeypatch.setattr(basic.AnsibleModule, "warn", lambda module, warning: self.warnings.append(warning))

    def _invoke(self, args, check_mode, diff):
        args = dict(args)
        if check_mode:
            args["_ansible_check_mode"] = True
        if diff:
            args["_ansible_diff"] = True
        with patch_module_args(args):
            self.main()

    def __call__(self, args, check_mode=False, diff=False):
        """The exit_json result; the test fails if the module fails."""
        try:
            self._invoke(args, check_mode, diff)
        except ModuleFail as e:
            pytest.fail("module failed: %s" % e.result.get("msg"))
        except ModuleExit as e:
            return e.result
        pytest.fail("module returned without exit_json")

    def failing(self, args, check_mode=False):
        """The fail_json result; the test fails if the module succeeds."""
        with pytest.raises(ModuleFail) as info:
            self._invoke(args, check_mode, False)
        return info.value.result


def copy_fixture(source, destination):
    shutil.copytree(source, destination)
    return str(destination)
