"""A job template run the way AWX runs it: ansible-runner on a private data directory that AWX would write.

- project/      the project checkout (this repository; AWX copies the synced project here)
- inventory/    what AWX's inventory import made of the SCM source: `ansible-inventory --list --export` of the
                source's directory (variables kept unrendered), served by an executable script as AWX does
- env/extravars the template's extra variables, then the survey answers
- env/envvars   what the credentials' injectors set, rendered by AWX's own injector code (awx_plugins.interfaces)
- env/cmdline   the template's skip tags
Secrets are passed only through env/envvars; the job's stdout and artifacts are what AWX would show and keep.
"""
import json
import os
import stat
import subprocess
import sys

import ansible_runner
import yaml
from awx_plugins.interfaces._temporary_private_api import ManagedCredentialType
from awx_plugins.interfaces._temporary_private_credential_api import Credential
from awx_plugins.interfaces._temporary_private_inject_api import inject_credential

from tests.awx.awx_data import REPO, defaults

# AWX's "Amazon Web Services" type (managed): the environment its injector sets from access key, secret key, token
AWS_TYPE = ManagedCredentialType(
    namespace="aws", name="Amazon Web Services", kind="cloud", managed=True,
    inputs={"fields": [{"id": "username", "label": "Access Key", "type": "string"},
                       {"id": "password", "label": "Secret Key", "type": "string", "secret": True},
                       {"id": "security_token", "label": "STS Token", "type": "string", "secret": True}]},
    injectors={"env": {"AWS_ACCESS_KEY_ID": "{{ username }}", "AWS_SECRET_ACCESS_KEY": "{{ password }}"}})


def credential_types():
    found = {"Amazon Web Services": AWS_TYPE}
    for data in defaults()["awx_config_credential_types"]:
        found[data["name"]] = ManagedCredentialType(namespace=data["name"], name=data["name"], kind=data["kind"], inputs=data["inputs"],
                                                    injectors=data["injectors"])
    return found


def template(name):
    (found,) = [t for t in defaults()["awx_config_job_templates"] if t["name"] == name]
    return found


def write_private_data_dir(root, template_name, inventory_source, answers, credentials, stand_in_env=None):
    """The private data directory of one job of `template_name`; `credentials` = {credential type name: inputs}."""
    data = template(template_name)
    asked = set(q["variable"] for q in (defaults()["awx_config_questions"][k] for k in data["questions"]))
    unknown = set(answers) - asked
    if unknown:
        raise ValueError("the %s survey does not ask %s" % (template_name, sorted(unknown)))
    for sub in ("env", "inventory"):
        os.makedirs(os.path.join(root, sub), exist_ok=True)
    os.symlink(REPO, os.path.join(root, "project"))
    exported = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-inventory"), "-i", inventory_source, "--list", "--export"],
                              cwd=REPO, check=True, stdout=subprocess.PIPE, universal_newlines=True,
                              env=dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"))).stdout
    script = os.path.join(root, "inventory", "hosts")
    with open(script, "w", encoding="utf-8") as handle:
        handle.write("#!%s\nimport sys\nsys.stdout.write(%r)\n" % (sys.executable, exported))
    os.chmod(script, stat.S_IRWXU)
    extravars = dict(data.get("extra_vars") or {}, **answers)
    with open(os.path.join(root, "env", "extravars"), "w", encoding="utf-8") as handle:
        yaml.safe_dump(extravars, handle)
    env, shown, args = dict(stand_in_env or {}), {}, []
    kinds = credential_types()
    for kind, inputs in credentials.items():
        inject_credential(kinds[kind], Credential(inputs=inputs), env, shown, args, root)
    with open(os.path.join(root, "env", "envvars"), "w", encoding="utf-8") as handle:
        yaml.safe_dump(env, handle)
    if data.get("skip_tags"):
        with open(os.path.join(root, "env", "cmdline"), "w", encoding="utf-8") as handle:
            handle.write("--skip-tags %s" % data["skip_tags"])
    return data["playbook"], shown


def run_job(root, playbook):
    """ansible-runner as AWX's task worker calls it (quiet; events and stdout kept in artifacts/)."""
    os.environ.pop("NGC_API_KEY", None)  # only the credentials' injectors may set them
    os.environ.pop("HF_TOKEN", None)
    path = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")
    return ansible_runner.run(private_data_dir=root, playbook=playbook, ident="job", quiet=True,
                              envvars={"PATH": path}, settings={"suppress_ansible_output": True})


def custom_stats(runner):
    """What set_stats returned (AWX shows it on the job as artifacts and hands it to the next workflow node)."""
    for event in runner.events:
        if event.get("event") == "playbook_on_stats":
            return event["event_data"].get("artifact_data", {})
    return {}


def artifacts_text(root):
    """The job's stdout and events as AWX keeps and shows them. Not artifacts/<ident>/command: ansible-runner writes
    the whole environment there (0600) for its own use; AWX never stores or shows it and deletes the directory."""
    found = []
    for base, dummy, files in os.walk(os.path.join(root, "artifacts")):
        for name in files:
            if name == "command":
                continue
            with open(os.path.join(base, name), encoding="utf-8", errors="replace") as handle:
                found.append(handle.read())
    return "\n".join(found)


def read_json(path):
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)
