#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE), which is compatible with the
# GNU General Public License v3.0 that Ansible itself is distributed under.

DOCUMENTATION = r"""
---
module: directory_content
short_description: Make a directory hold exactly the given files (rendered content), in one module run
version_added: 0.1.0
description:
  - Writes each given file under O(path) (creating subdirectories) where its content or mode differs, and removes
    every other file and directory under O(path), so the directory ends up holding exactly the given files.
  - What a loop of M(ansible.builtin.file), M(ansible.builtin.template), M(ansible.builtin.find) and a removal loop
    would do, in one module run - a render step whose output another module then ships (for example
    M(community.aws.s3_sync) with C(delete=true), which makes a bucket prefix mirror the directory).
  - Render the content on the controller, for example with the C(ansible.builtin.template) lookup.
author:
  - eks_llm maintainers (@eks-llm)
options:
  path:
    description:
      - The directory. Created (with its parents) when missing, also when O(files) is empty.
    type: path
    required: true
  files:
    description:
      - The files the directory must hold.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description:
          - Path relative to O(path), with C(/) between directories; no C(..) and not absolute.
        type: str
        required: true
      content:
        description: The file's text.
        type: str
        required: true
      mode:
        description: The file's mode, as an octal string.
        type: str
        default: '0644'
  directory_mode:
    description: Mode of the directories this module creates (O(path) and subdirectories), as an octal string; existing ones keep theirs.
    type: str
    default: '0755'
notes:
  - Supports check mode and diff mode (the diff shows each file written or removed).
  - Symbolic links under O(path) count as files that do not belong there and are removed (never followed).
"""

EXAMPLES = r"""
- name: Render a Triton model repository and make the build directory hold exactly it
  eks_llm.inference.directory_content:
    path: ~/.cache/eks_llm/llm/model_repository
    files:
      - path: opt-350m/config.pbtxt
        content: "{{ lookup('ansible.builtin.template', 'config.pbtxt.j2') }}"
      - path: opt-350m/1/model.json
        content: "{{ lookup('ansible.builtin.template', 'model.json.j2') }}"

- name: Ship it
  community.aws.s3_sync:
    bucket: my-models
    file_root: ~/.cache/eks_llm/llm/model_repository
    key_prefix: triton/model_repository
    file_change_strategy: checksum
    delete: true
"""

RETURN = r"""
written:
  description: The files (relative paths) written or whose mode was set; in check mode, those that would be.
  returned: always
  type: list
  elements: str
  sample: [opt-350m/1/model.json]
removed:
  description: The files and directories (relative paths) removed because no given file needs them.
  returned: always
  type: list
  elements: str
  sample: [llama2-7b]
"""

import os
import shutil
import stat

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes
from ansible.module_utils.common.text.converters import to_text

from ansible_collections.eks_llm.inference.plugins.module_utils.files import write_atomically


def octal(module, value, what):
    try:
        return int(value, 8)
    except (TypeError, ValueError):
        module.fail_json(msg="%s: %r is not an octal mode" % (what, value))


def relative_parts(module, relative):
    parts = [p for p in relative.split("/") if p not in ("", ".")]
    if relative.startswith("/") or not parts or ".." in parts:
        module.fail_json(msg="files: %r must be a relative path inside the directory, without '..'" % relative)
    return parts


def wanted_tree(module, files):
    """{relative path: (bytes, mode)} of the files, and the set of directories (relative) they need."""
    wanted, directories = {}, set()
    for entry in files:
        parts = relative_parts(module, entry["path"])
        relative = "/".join(parts)
        if relative in wanted or relative in directories:
            module.fail_json(msg="files: %r is given twice, or as a file and a directory" % relative)
        wanted[relative] = (to_bytes(entry["content"]), octal(module, entry["mode"], "files[%s].mode" % relative))
        for depth in range(1, len(parts)):
            directories.add("/".join(parts[:depth]))
    clash = directories & set(wanted)
    if clash:
        module.fail_json(msg="files: %s is given as a file and used as a directory" % sorted(clash)[0])
    return wanted, directories


def existing_tree(root):
    """(files, directories) under root, relative; symbolic links count as files."""
    files, directories = set(), set()
    for current, dirnames, filenames in os.walk(root):
        base = os.path.relpath(current, root)
        prefix = "" if base == "." else base.replace(os.sep, "/") + "/"
        for name in list(dirnames):
            if os.path.islink(os.path.join(current, name)):
                dirnames.remove(name)  # never walk into a link
                files.add(prefix + name)
            else:
                directories.add(prefix + name)
        files.update(prefix + name for name in filenames)
    return files, directories


def current_file(path):
    """(bytes, mode) of a regular file, or (None, None) for a missing file, a directory or a link."""
    if os.path.islink(path) or not os.path.isfile(path):
        return None, None
    with open(path, "rb") as handle:
        return handle.read(), stat.S_IMODE(os.stat(path).st_mode)


def remove(path):
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.unlink(path)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            files=dict(type="list", elements="dict", default=[], options=dict(
                path=dict(type="str", required=True),
                content=dict(type="str", required=True, no_log=False),
                mode=dict(type="str", default="0644"))),
            directory_mode=dict(type="str", default="0755"),
        ),
        supports_check_mode=True,
    )
    root = module.params["path"]
    directory_mode = octal(module, module.params["directory_mode"], "directory_mode")
    wanted, wanted_directories = wanted_tree(module, module.params["files"])
    if os.path.lexists(root) and not os.path.isdir(root):
        module.fail_json(msg="%s exists and is not a directory" % root)
    have_files, have_directories = existing_tree(root) if os.path.isdir(root) else (set(), set())

    # What does not belong: files not wanted, directories no wanted file needs (removing the topmost suffices).
    unwanted = sorted(have_files - set(wanted)) + sorted(have_directories - wanted_directories)
    removed = [p for p in unwanted if not any(p.startswith(other + "/") for other in unwanted if other != p)]
    written, diff = [], []
    for relative in sorted(wanted):
        content, mode = wanted[relative]
        before, before_mode = current_file(os.path.join(root, *relative.split("/")))
        if (before, before_mode) != (content, mode):
            written.append(relative)
            diff.append({"before_header": relative, "after_header": relative,
                         "before": to_text(before or b"", errors="surrogate_or_replace"), "after": to_text(content)})
    diff.extend({"before_header": p, "after_header": p, "before": "(present)\n", "after": "(removed)\n"} for p in removed)
    created_root = not os.path.isdir(root)

    if not module.check_mode:
        if created_root:
            os.makedirs(root, directory_mode)
        for relative in removed:  # first: a removed file may be where a wanted directory goes
            remove(os.path.join(root, *relative.split("/")))
        for relative in sorted(wanted_directories):
            directory = os.path.join(root, *relative.split("/"))
            if not os.path.isdir(directory):
                os.mkdir(directory, directory_mode)
        for relative in written:
            content, mode = wanted[relative]
            target = os.path.join(root, *relative.split("/"))
            if os.path.isdir(target) and not os.path.islink(target):
                shutil.rmtree(target)
            write_atomically(module, target, content, mode)

    result = dict(changed=bool(written or removed or created_root), written=written, removed=removed)
    if module._diff:
        result["diff"] = diff
    module.exit_json(**result)


if __name__ == "__main__":
    main()
