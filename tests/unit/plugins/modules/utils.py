# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
"""Running a module's main() in-process, the way amazon.aws's unit tests do (fixtures in conftest.py).

exit_json / fail_json raise instead of printing and exiting, warn() is collected, and every result must survive the
JSON encoder a real module prints with.
"""
import json
from unittest import mock

import pytest

from ansible.module_utils import basic
from ansible.module_utils.common import json as common_json
from ansible.module_utils.testing import patch_module_args

REGION = "us-west-2"


class ModuleExit(Exception):
    def __init__(self, result):
        super().__init__(result)
        self.result = result


class ModuleFail(Exception):
    def __init__(self, result):
        super().__init__(result.get("msg"))
        self.result = result


def _exit_json(module, **kwargs):  # pylint: disable=unused-argument
    kwargs.setdefault("changed", False)  # what the controller adds
    raise ModuleExit(kwargs)


def _fail_json(module, msg, **kwargs):  # pylint: disable=unused-argument
    kwargs["msg"] = msg
    raise ModuleFail(kwargs)


class ModuleRunner:
    """Runs one module's main(); ``defaults`` are added to every call's arguments (e.g. region)."""

    def __init__(self, main, **defaults):
        self.main = main
        self.defaults = defaults
        self.warnings = []

    def outcome(self, args, check_mode=False, diff=False):
        """(result, failed) of one run."""
        args = dict(self.defaults, **args)
        args["_ansible_check_mode"] = check_mode
        args["_ansible_diff"] = diff
        with patch_module_args(args), mock.patch.object(basic.AnsibleModule, "exit_json", _exit_json), \
                mock.patch.object(basic.AnsibleModule, "fail_json", _fail_json), \
                mock.patch.object(basic.AnsibleModule, "warn", lambda module, warning: self.warnings.append(warning)):
            try:
                self.main()
            except ModuleExit as done:
                encoder = common_json.get_module_encoder("legacy", common_json.Direction.MODULE_TO_CONTROLLER)
                json.dumps(done.result, cls=encoder)  # what a real module would have to print
                return done.result, False
            except ModuleFail as failed:
                return failed.result, True
        raise AssertionError("main() returned without calling exit_json or fail_json")

    def __call__(self, args, check_mode=False, diff=False):
        """The exit_json result; the test fails if the module fails."""
        result, failed = self.outcome(args, check_mode, diff)
        if failed:
            pytest.fail("module failed: %s" % result.get("msg"))
        return result

    def failing(self, args, check_mode=False, diff=False):
        """The fail_json result; the test fails if the module succeeds."""
        result, failed = self.outcome(args, check_mode, diff)
        assert failed, "module succeeded: %s" % result
        return result
