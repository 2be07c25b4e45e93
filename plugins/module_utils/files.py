# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE), which is compatible with the
# GNU General Public License v3.0 that Ansible itself is distributed under.
"""Local files written by modules that run on the controller (kubeconfigs, rendered repositories)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import tempfile


def write_atomically(module, path, content, mode):
    """Replaces path with content (bytes) through a temp file in the same directory and a rename, then sets mode."""
    handle, temp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".%s." % os.path.basename(path))
    with os.fdopen(handle, "wb") as out:
        out.write(content)
    module.atomic_move(temp, path)
    os.chmod(path, mode)
