#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE), which is compatible with the
# GNU General Public License v3.0 that Ansible itself is distributed under.

DOCUMENTATION = r"""
---
module: eks_kubeconfig
short_description: Write a kubeconfig for an EKS cluster with an exec credential plugin, and check that the API accepts it
version_added: 0.1.0
description:
  - Writes, in one private directory (mode C(0700)), the three files a Kubernetes client needs to reach an EKS cluster
    without the AWS CLI - the cluster's CA certificate, an exec credential plugin (its source is given) and a kubeconfig
    whose user runs that plugin for every connection - and changes only the files whose content or mode differ.
  - Then checks that the Kubernetes API accepts the plugin's token - C(GET /api/v1/namespaces/kube-system) with the
    token, verified against the CA - and fails with the API server's answer when it does not, e.g. when the AWS
    identity has no access entry.
  - One module run instead of a file, copy, template and M(kubernetes.core.k8s_info) task; the probe needs neither the
    Kubernetes Python client nor botocore (the plugin signs in its own process, with its own token cache).
author:
  - eks_llm maintainers (@eks-llm)
options:
  path:
    description:
      - Where to write the kubeconfig (mode C(0600)). Its directory is created, or set, with mode C(0700); other
        missing directories of O(ca_file) and O(credential_plugin) are created with mode C(0700).
    type: path
    required: true
  cluster_name:
    description:
      - The EKS cluster's name; also the kubeconfig's cluster, user and context name.
    type: str
    required: true
  region:
    description:
      - The cluster's region, passed to the credential plugin.
    type: str
    required: true
  endpoint:
    description:
      - The cluster's API server URL (C(DescribeCluster) C(cluster.endpoint)).
    type: str
    required: true
  certificate_authority_data:
    description:
      - The cluster's CA certificate, base64-encoded as EKS returns it (C(cluster.certificateAuthority.data)).
    type: str
    required: true
  ca_file:
    description:
      - Where to write the CA certificate (mode C(0644)). Defaults to C(ca.crt) beside O(path).
    type: path
  credential_plugin:
    description:
      - Where to write the credential plugin (mode C(0755)). Defaults to C(eks_exec_credential.py) beside O(path).
    type: path
  credential_plugin_source:
    description:
      - The plugin's source. It is called as C(PYTHON PLUGIN CLUSTER_NAME REGION [STS_ENDPOINT_URL]) and prints a
        C(client.authentication.k8s.io/v1beta1) ExecCredential.
    type: str
    required: true
  python:
    description:
      - Interpreter that runs the plugin (it needs botocore).
    type: path
    required: true
  sts_endpoint_url:
    description:
      - STS endpoint the plugin signs for; empty for AWS's own.
    type: str
    default: ''
  probe:
    description:
      - Check that the Kubernetes API accepts the plugin's token.
      - In check mode the probe runs only when no file would change (it uses the files on disk).
    type: bool
    default: true
  probe_timeout:
    description:
      - Seconds for the plugin and for the API request, each.
    type: int
    default: 30
notes:
  - Supports check mode and diff mode (the diff of the CA and the kubeconfig; the plugin's source is not shown).
  - Nothing secret is written - tokens are made by the plugin on demand.
"""

EXAMPLES = r"""
- name: Read the cluster
  eks_llm.inference.eks_cluster_info:
    name: llm
  register: cluster

- name: Write the kubeconfig and check that the API accepts our token
  eks_llm.inference.eks_kubeconfig:
    path: "{{ lookup('ansible.builtin.env', 'HOME') }}/.kube/eks_llm-llm/kubeconfig"
    cluster_name: llm
    region: us-west-2
    endpoint: "{{ cluster.cluster.endpoint }}"
    certificate_authority_data: "{{ cluster.cluster.certificate_authority.data }}"
    credential_plugin_source: "{{ lookup('ansible.builtin.file', 'eks_exec_credential.py', rstrip=false) }}"
    python: "{{ ansible_playbook_python }}"
"""

RETURN = r"""
kubeconfig:
  description: Path of the kubeconfig.
  returned: always
  type: str
  sample: /home/ops/.kube/eks_llm-llm/kubeconfig
ca_file:
  description: Path of the CA certificate.
  returned: always
  type: str
  sample: /home/ops/.kube/eks_llm-llm/ca.crt
credential_plugin:
  description: Path of the credential plugin.
  returned: always
  type: str
  sample: /home/ops/.kube/eks_llm-llm/eks_exec_credential.py
changed_files:
  description: The files (and the directory) that were written or whose mode was set, or would be in check mode.
  returned: always
  type: list
  elements: str
  sample: [/home/ops/.kube/eks_llm-llm/kubeconfig]
probe:
  description: What the API server answered to C(GET /api/v1/namespaces/kube-system); empty when the probe did not run.
  returned: always
  type: dict
  contains:
    status:
      description: HTTP status.
      type: int
      sample: 200
    namespace_uid:
      description: The kube-system namespace's UID (identifies the cluster).
      type: str
      sample: 6b1c2e4a-0f0e-4d57-9d0e-0b3f1f3c9a10
"""

import base64
import binascii
import json
import os
import stat
import subprocess

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes
from ansible.module_utils.common.text.converters import to_text
from ansible.module_utils.urls import open_url
from ansible.module_utils.six.moves.urllib.error import HTTPError
from ansible.module_utils.six.moves.urllib.error import URLError

from ansible_collections.eks_llm.inference.plugins.module_utils.files import write_atomically

try:
    import yaml
except ImportError:  # pragma: no cover - PyYAML comes with ansible-core on the controller
    yaml = None

DIRECTORY_MODE = 0o700
EXEC_API_VERSION = "client.authentication.k8s.io/v1beta1"


def kubeconfig_document(cluster_name, endpoint, ca_file, python, plugin, region, sts_endpoint_url):
    """The kubeconfig: one cluster, one user whose credential comes from the exec plugin, one context."""
    args = [plugin, cluster_name, region] + ([sts_endpoint_url] if sts_endpoint_url else [])
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": cluster_name, "cluster": {"server": endpoint, "certificate-authority": ca_file}}],
        "contexts": [{"name": cluster_name, "context": {"cluster": cluster_name, "user": cluster_name}}],
        "current-context": cluster_name,
        # Tokens come from the plugin on every connection, so long plays never hold an expired one.
        "users": [{"name": cluster_name, "user": {"exec": {
            "apiVersion": EXEC_API_VERSION, "interactiveMode": "Never", "command": python, "args": args}}}],
    }


def read_file(path):
    """(bytes, mode) of a file, or (None, None) when it is missing."""
    try:
        with open(path, "rb") as handle:
            return handle.read(), stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        return None, None


def ensure_directory(module, path, changed_files, enforce_mode):
    """Creates path (mode 0700) when missing; sets the mode of an existing one only when enforce_mode (the kubeconfig's
    own directory: a CA or plugin path given elsewhere may be in a directory that is not ours)."""
    if not os.path.isdir(path):
        changed_files.append(path)
        if not module.check_mode:
            os.makedirs(path, DIRECTORY_MODE)
            os.chmod(path, DIRECTORY_MODE)  # makedirs' mode is masked by the umask
    elif enforce_mode and stat.S_IMODE(os.stat(path).st_mode) != DIRECTORY_MODE:
        changed_files.append(path)
        if not module.check_mode:
            os.chmod(path, DIRECTORY_MODE)


def ensure_file(module, path, content, mode, changed_files, diff, show=True):
    current, current_mode = read_file(path)
    if current == content and current_mode == mode:
        return
    changed_files.append(path)
    if show:
        diff.append({"before_header": path, "after_header": path,
                     "before": to_text(current or b"", errors="surrogate_or_replace"), "after": to_text(content)})
    if module.check_mode:
        return
    if current != content:
        write_atomically(module, path, content, mode)
    else:
        os.chmod(path, mode)


def plugin_token(module, python, plugin, cluster_name, region, sts_endpoint_url, timeout):
    command = [python, plugin, cluster_name, region] + ([sts_endpoint_url] if sts_endpoint_url else [])
    try:
        done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        module.fail_json(msg="The EKS credential plugin did not run: %s" % error)
    if done.returncode != 0:
        module.fail_json(msg="The EKS credential plugin failed (exit %d): %s"
                             % (done.returncode, to_text(done.stderr, errors="surrogate_or_replace").strip()))
    try:
        credential = json.loads(to_text(done.stdout))
        return credential["status"]["token"]
    except (ValueError, KeyError, TypeError):
        module.fail_json(msg="The EKS credential plugin printed no ExecCredential with a token")


def probe_api(module, endpoint, ca_file, token, timeout):
    """GET kube-system with the token; fails with the API server's answer unless it is 200."""
    url = endpoint.rstrip("/") + "/api/v1/namespaces/kube-system"
    try:
        response = open_url(url, headers={"Authorization": "Bearer " + token, "Accept": "application/json"},
                            ca_path=ca_file, timeout=timeout, validate_certs=True)
        body = json.loads(to_text(response.read()))
        return {"status": response.getcode(), "namespace_uid": body.get("metadata", {}).get("uid", "")}
    except HTTPError as error:
        answer = to_text(error.read(), errors="surrogate_or_replace").strip()
        module.fail_json(msg="The Kubernetes API at %s refused our EKS token: HTTP %s %s. Does this AWS identity have an "
                             "access entry on the cluster?" % (endpoint, error.code, answer[:500]),
                         probe={"status": error.code})
    except (URLError, OSError, ValueError) as error:
        module.fail_json(msg="The Kubernetes API at %s did not answer: %s" % (endpoint, error))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            cluster_name=dict(type="str", required=True),
            region=dict(type="str", required=True),
            endpoint=dict(type="str", required=True),
            certificate_authority_data=dict(type="str", required=True),
            ca_file=dict(type="path"),
            credential_plugin=dict(type="path"),
            credential_plugin_source=dict(type="str", required=True),
            python=dict(type="path", required=True),
            sts_endpoint_url=dict(type="str", default=""),
            probe=dict(type="bool", default=True),
            probe_timeout=dict(type="int", default=30),
        ),
        supports_check_mode=True,
    )
    params = module.params
    if yaml is None:
        module.fail_json(msg="PyYAML is required (it comes with ansible-core)")
    directory = os.path.dirname(params["path"])
    ca_file = params["ca_file"] or os.path.join(directory, "ca.crt")
    plugin = params["credential_plugin"] or os.path.join(directory, "eks_exec_credential.py")
    try:
        ca_pem = base64.b64decode(params["certificate_authority_data"], validate=True)
    except (binascii.Error, ValueError):
        module.fail_json(msg="certificate_authority_data is not base64")
    document = kubeconfig_document(params["cluster_name"], params["endpoint"], ca_file, params["python"], plugin,
                                   params["region"], params["sts_endpoint_url"])
    kubeconfig = to_bytes(yaml.safe_dump(document, default_flow_style=False, sort_keys=False))

    changed_files, diff = [], []
    ensure_directory(module, directory, changed_files, enforce_mode=True)
    for path in sorted({os.path.dirname(ca_file), os.path.dirname(plugin)} - {directory}):
        ensure_directory(module, path, changed_files, enforce_mode=False)
    ensure_file(module, ca_file, ca_pem, 0o644, changed_files, diff)
    ensure_file(module, plugin, to_bytes(params["credential_plugin_source"]), 0o755, changed_files, diff, show=False)
    ensure_file(module, params["path"], kubeconfig, 0o600, changed_files, diff)

    probe = {}
    if params["probe"] and not (module.check_mode and changed_files):
        token = plugin_token(module, params["python"], plugin, params["cluster_name"], params["region"],
                             params["sts_endpoint_url"], params["probe_timeout"])
        probe = probe_api(module, params["endpoint"], ca_file, token, params["probe_timeout"])

    result = dict(changed=bool(changed_files), kubeconfig=params["path"], ca_file=ca_file, credential_plugin=plugin,
                  changed_files=sorted(changed_files), probe=probe)
    if module._diff:
        result["diff"] = diff
    module.exit_json(**result)


if __name__ == "__main__":
    main()
