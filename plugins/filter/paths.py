# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
"""results_path: where a relative reports directory of the inventory lands.

Never the caller's working directory: under AWX (ansible-runner) that is a private data directory that is thrown
away with the job, and two shells in one checkout would disagree.
"""
import os


def results_path(path, playbook_dir, inventory_dir=None):
    """Resolve a reports path of the inventory: absolute paths stay; relative ones are taken from the project.

    The project is the directory holding ``playbooks/`` (``playbook_dir``'s parent): the repository, or the project
    an AWX job checked out. When the playbook runs from an installed collection (``eks_llm.inference.site``), that
    directory is inside ``ansible_collections``, so relative paths are taken from the inventory's directory instead.
    """
    path = str(path)
    if os.path.isabs(path):
        return os.path.normpath(path)
    project = os.path.dirname(os.path.abspath(str(playbook_dir)))
    if "ansible_collections" in project.split(os.sep) and inventory_dir:
        project = os.path.abspath(str(inventory_dir))
    return os.path.normpath(os.path.join(project, path))


class FilterModule(object):
    def filters(self):
        return {"results_path": results_path}
