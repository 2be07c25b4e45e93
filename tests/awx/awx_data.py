"""The awx_config role's data as AWX sees it: the role's defaults with the templates' surveys assembled the way
roles/awx_config/tasks/main.yml assembles them, and the awx.awx modules' argument specs."""
import ast
import os

import yaml

import ansible_collections.awx.awx as awx_collection

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
AWX_MODULES = os.path.join(list(awx_collection.__path__)[0], "plugins", "modules")
# keys of the role's data that the role turns into module options itself (questions -> survey_enabled/survey_spec;
# nodes -> one workflow_job_template_node each)
ROLE_KEYS = {"questions", "nodes"}


class _Loader(yaml.SafeLoader):
    """Reads Ansible's !unsafe (a string Ansible does not template) as the plain string."""


_Loader.add_constructor("!unsafe", lambda loader, node: loader.construct_scalar(node))


def defaults():
    with open(os.path.join(REPO, "roles", "awx_config", "defaults", "main.yml"), encoding="utf-8") as handle:
        return yaml.load(handle, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass


def survey(data, entry):
    return {"name": entry["name"], "description": entry["description"],
            "spec": [data["awx_config_questions"][key] for key in entry["questions"]]}


def module_options(module):
    """The argument_spec keys (and aliases) of an awx.awx module, read from its source's main()."""
    with open(os.path.join(AWX_MODULES, module + ".py"), encoding="utf-8") as handle:
        tree = ast.parse(handle.read())
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "argument_spec" for t in node.targets):
            spec = node.value
            break
    else:
        raise AssertionError("no argument_spec in awx.awx %s" % module)
    names = set()
    for keyword in spec.keywords:
        names.add(keyword.arg)
        for inner in getattr(keyword.value, "keywords", []):
            if inner.arg == "aliases":
                names.update(ast.literal_eval(inner.value))
    return names
