# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
"""Every module's DOCUMENTATION, EXAMPLES and RETURN parse as YAML, and DOCUMENTATION's options are the argument spec's.

ansible-doc, Galaxy's importer and validate-modules all refuse a module whose docs do not parse; this finds it in
seconds, before the sanity phase."""
import ast
import glob
import os

import pytest
import yaml

MODULES = sorted(glob.glob(os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "plugins", "modules", "*.py")))


def docs_of(path):
    with open(path, encoding="utf-8") as handle:
        tree = ast.parse(handle.read())
    return dict((node.targets[0].id, node.value.value) for node in tree.body
                if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") in ("DOCUMENTATION", "EXAMPLES", "RETURN"))


@pytest.mark.parametrize("path", MODULES, ids=[os.path.basename(p)[:-3] for p in MODULES])
def test_docs_parse(path):
    docs = docs_of(path)
    assert set(docs) == {"DOCUMENTATION", "EXAMPLES", "RETURN"}
    for name, text in docs.items():
        try:
            parsed = yaml.safe_load(text)
        except yaml.YAMLError as error:
            pytest.fail("%s of %s does not parse: %s" % (name, os.path.basename(path), error))
        if name == "DOCUMENTATION":
            assert parsed["module"] == os.path.basename(path)[:-3]
            assert isinstance(parsed.get("options", {}), dict)


def test_there_are_modules():
    assert len(MODULES) >= 20
