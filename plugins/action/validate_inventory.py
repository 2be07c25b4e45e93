# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
"""Controller-side inventory validation (see plugins/modules/validate_inventory.py for the docs).

An action plugin because it must read every ``eks_llm_*`` variable, including
the NGC key and Hugging Face token, without ever passing them as module
arguments that -vvv would print.
"""

import os

from ansible.plugins.action import ActionBase

from ansible_collections.eks_llm.inference.plugins.module_utils import inventory_model

SECRET_FALLBACKS = {"eks_llm_ngc_api_key": "NGC_API_KEY", "eks_llm_hf_token": "HF_TOKEN"}


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        variables = {}
        for name in task_vars:
            if name.startswith("eks_llm_") and name != "eks_llm_config":
                variables[name] = self._templar.template(task_vars[name])
        for name, env in SECRET_FALLBACKS.items():
            if not variables.get(name) and os.environ.get(env):
                variables[name] = os.environ[env]
        config, problems, warnings = inventory_model.validate(variables)
        if warnings:
            result["warnings"] = warnings
        if problems:
            result["failed"] = True
            result["problems"] = problems
            result["msg"] = "The inventory has %d problem(s); nothing was created:\n%s" % (
                len(problems), "\n".join("  %d. %s" % (i + 1, p) for i, p in enumerate(problems)))
            return result
        result["changed"] = False
        result["msg"] = "inventory valid: %d model(s), %d GPU node pool(s)" % (len(config["models"]), len(config["gpu_node_pools"]))
        result["ansible_facts"] = {"eks_llm": config}
        return result
