"""Every IAM policy document the collection renders, linted with parliament (pinned in tests/requirements.txt).

Found, not listed: every roles/*/templates/*.json.j2 that renders to a policy document (trust.json.j2 once per
role of roles/iam/vars), and every policy written inline in a task (module options in POLICY_OPTIONS holding a
document with a Statement: the SQS queue policy, ...). Templates are rendered as the roles render them (Jinja,
Ansible's filters used there); a variable this test does not set renders as "example", so a new template is
still linted. parliament 1.6.4 only knows identity policies: a resource policy (statement with a Principal) is
linted without its Principal, and a trust policy (no Resource) with the role ARN as its resource.
"""
import fnmatch
import functools
import json
import os
import re

import jinja2
import pytest
import yaml

if os.environ.get("CI"):
    import parliament  # CI installs tests/requirements.txt: missing is a failure there
else:
    parliament = pytest.importorskip("parliament", reason="parliament (tests/requirements.txt) not installed in this venv")

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
ROLES = os.path.join(REPO, "roles")
POLICY_OPTIONS = ("policy", "policy_json", "policy_document", "assume_role_policy_document", "file_system_policy")
ACCOUNT = "123456789012"
CONTEXT = {
    "iam_partition": "aws", "iam_region": "eu-west-1", "iam_account_id": ACCOUNT, "iam_name": "llm-demo",
    "iam_interruption_queue": "llm-demo-karpenter", "iam_model_bucket": "llm-demo-models",
    "iam_workload_log_group": "/aws/eks/llm-demo/workloads",
    "preflight_aws": {"partition": "aws", "account_id": ACCOUNT, "model_bucket": "llm-demo-models"},
    "eks_llm": {"name": "llm-demo", "region": "eu-west-1", "tags": {"project": "llm-demo"}},
    "karpenter_prereqs_name": "llm-demo", "karpenter_prereqs_queue_name": "llm-demo-karpenter",
}

# Findings we accept: (policy name, fnmatch pattern; parliament issue) -> why. The test also fails when one no
# longer occurs, so the list cannot go stale. For the two findings that name actions, ACCEPTED_ACTIONS bounds them.
_CONTROLLER = "iam/templates/karpenter-controller.json.j2"
ACCEPTED = {
    ("iam/templates/trust.json.j2[[]*[]]", "CREDENTIALS_EXPOSURE"):
        "sts:AssumeRole hands out credentials: that is what a trust policy is for (each trusts one AWS service principal)",
    (_CONTROLLER, "PERMISSIONS_MANAGEMENT_ACTIONS"):
        "iam:PassRole and the instance-profile actions Karpenter needs; scoped to the node role and to tagged profiles "
        "exactly as the upstream reference (test_karpenter_policy.py)",
    (_CONTROLLER, "PRIVILEGE_ESCALATION"):
        "iam:PassRole + ec2:RunInstances is Karpenter's job (launch nodes with the node role); PassRole is limited to the "
        "one node role and iam:PassedToService=ec2",
    (_CONTROLLER, "RESOURCE_MISMATCH"):
        "parliament wants every resource type of RunInstances/CreateFleet in one statement; the reference splits them into "
        "statements with different conditions (AWS checks each resource against any statement). The ssm one: public "
        "parameters arn:aws:ssm:<region>::parameter/aws/service/* have no account, as upstream writes them",
    ("model_storage/templates/efs-tls-only.json.j2", "RESOURCE_MISMATCH"):
        "an EFS file system policy applies to its own file system: its statements carry no Resource (AWS fills in the "
        "file system), which parliament, reading identity policies, reports as a missing file-system ARN",
    ("iam/templates/auto-mode-tags.json.j2", "RESOURCE_STAR"):
        "EKS Auto Mode launches through fleets, instances and launch templates it names itself: AWS's own tagging policy "
        "for Auto Mode (auto-cluster-iam-role.html#tag-prop) grants them on '*' with the cluster-name request tag as "
        "condition, as this one does",
    (_CONTROLLER, "RESOURCE_STAR"):
        "arc-zonal-shift:GetManagedResource on '*' with the arc-zonal-shift:ResourceIdentifier=<cluster ARN> condition, "
        "as the upstream reference",
}

# Only these actions may appear in the accepted PERMISSIONS_MANAGEMENT_ACTIONS / PRIVILEGE_ESCALATION findings
# (a new iam:CreateRole, iam:AttachRolePolicy, ... is a new finding).
ACCEPTED_ACTIONS = {
    (_CONTROLLER, "PERMISSIONS_MANAGEMENT_ACTIONS"): {"iam:passrole", "iam:createinstanceprofile", "iam:addroletoinstanceprofile",
                                                      "iam:removerolefrominstanceprofile", "iam:deleteinstanceprofile"},
    (_CONTROLLER, "PRIVILEGE_ESCALATION"): {"iam:passrole", "ec2:runinstances"},
}


class _Example(jinja2.ChainableUndefined):
    """A variable this test does not know renders as 'example' (attributes of it too)."""

    def __str__(self):
        return "example"


def _env():
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(ROLES), undefined=_Example)
    env.filters["to_json"] = json.dumps
    env.filters["from_json"] = json.loads
    env.filters["regex_replace"] = lambda value, pattern, repl="": re.sub(pattern, repl, value)
    return env


def _render_value(env, value, context):
    if isinstance(value, str):
        return env.from_string(value).render(**context)
    if isinstance(value, list):
        return [_render_value(env, v, context) for v in value]
    if isinstance(value, dict):
        return {k: _render_value(env, v, context) for k, v in value.items()}
    return value


def _iam_roles():
    with open(os.path.join(ROLES, "iam", "vars", "main.yml"), encoding="utf-8") as handle:
        return yaml.safe_load(handle)["__iam_roles"]


def _tasks(node):
    if isinstance(node, list):
        for entry in node:
            yield from _tasks(entry)
    elif isinstance(node, dict):
        yield node
        for key in ("block", "rescue", "always"):
            yield from _tasks(node.get(key))


def _task_vars(env, task):
    """The task's vars this test can render (Ansible-only filters leave a variable unknown: 'example')."""
    rendered = {}
    for key, value in (task.get("vars") or {}).items():
        try:
            rendered[key] = _render_value(env, value, CONTEXT)
        except jinja2.TemplateError:
            continue
    return rendered


def rendered_policies():
    """{name: policy document} for every policy the roles render."""
    env = _env()
    found = {}
    for role in sorted(os.listdir(ROLES)):
        templates = os.path.join(ROLES, role, "templates")
        for name in sorted(os.listdir(templates)) if os.path.isdir(templates) else []:
            if not name.endswith(".json.j2"):
                continue
            source = "%s/templates/%s" % (role, name)
            items = _iam_roles() if "item." in env.loader.get_source(env, source)[0] else [None]
            for item in items:
                document = json.loads(env.get_template(source).render(**dict(CONTEXT, item=item or {})))
                if isinstance(document, dict) and "Statement" in document:
                    found[source + ("[%s]" % item["key"] if item else "")] = document
        tasks = os.path.join(ROLES, role, "tasks")
        for name in sorted(os.listdir(tasks)) if os.path.isdir(tasks) else []:
            with open(os.path.join(tasks, name), encoding="utf-8") as handle:
                for task in _tasks(yaml.safe_load(handle)):
                    # the task's own vars (e.g. an ARN assembled there) render as Ansible would
                    context = dict(CONTEXT, **_task_vars(env, task))
                    for module, args in task.items():
                        for option in POLICY_OPTIONS if isinstance(args, dict) else ():
                            if isinstance(args.get(option), dict) and "Statement" in args[option]:
                                found["%s/tasks/%s:%s.%s" % (role, name, task.get("name"), option)] = _render_value(env, args[option], context)
        # options a role keeps in vars/main.yml and gives to a module and to its drift read alike (e.g. the queue's)
        role_vars = os.path.join(ROLES, role, "vars", "main.yml")
        if os.path.isfile(role_vars):
            with open(role_vars, encoding="utf-8") as handle:
                variables = yaml.safe_load(handle) or {}
            context = dict(CONTEXT, **_task_vars(env, {"vars": variables}))
            for key, value in variables.items():
                for option in POLICY_OPTIONS if isinstance(value, dict) else ():
                    if isinstance(value.get(option), dict) and "Statement" in value[option]:
                        found["%s/vars/main.yml:%s.%s" % (role, key, option)] = _render_value(env, value[option], context)
    return found


POLICIES = rendered_policies()


def _as_identity_policy(document):
    statements = document["Statement"] if isinstance(document["Statement"], list) else [document["Statement"]]
    linted = []
    for statement in statements:
        statement = {k: v for k, v in statement.items() if k not in ("Principal", "NotPrincipal")}
        if "Resource" not in statement and "NotResource" not in statement:
            statement["Resource"] = "arn:aws:iam::%s:role/example" % ACCOUNT
        linted.append(statement)
    return dict(document, Statement=linted)


@functools.lru_cache(maxsize=None)
def findings(name):
    policy = parliament.analyze_policy_string(json.dumps(_as_identity_policy(POLICIES[name])), include_community_auditors=True)
    return sorted({(f.issue, json.dumps(f.detail, sort_keys=True, default=str), tuple(sorted((f.location or {}).get("actions", []))))
                   for f in policy.findings})


def test_every_policy_is_found():
    expected = ["iam/templates/karpenter-controller.json.j2", "iam/templates/model-bucket-read.json.j2",
                "iam/templates/workload-logs-write.json.j2", "iam/templates/trust.json.j2[karpenter_controller]",
                "iam/templates/trust.json.j2[node]", "model_storage/templates/efs-tls-only.json.j2"]
    assert set(expected) <= set(POLICIES), sorted(POLICIES)
    assert any(name.startswith("karpenter_prereqs/") for name in POLICIES), "the interruption queue policy: %s" % sorted(POLICIES)


def _accepted(name, issue, actions):
    return any(issue == accepted_issue and fnmatch.fnmatchcase(name, pattern)
               and set(actions) <= ACCEPTED_ACTIONS.get((pattern, issue), set(actions)) for pattern, accepted_issue in ACCEPTED)


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_parliament(name):
    unexpected = [(issue, detail, actions) for issue, detail, actions in findings(name) if not _accepted(name, issue, actions)]
    assert not unexpected, "%s: parliament findings %s" % (name, unexpected)


def test_accepted_findings_still_occur():
    reported = {(name, finding[0]) for name in POLICIES for finding in findings(name)}
    stale = [(pattern, issue) for pattern, issue in ACCEPTED
             if not any(issue == i and fnmatch.fnmatchcase(name, pattern) for name, i in reported)]
    assert not stale, "accepted findings no longer reported, drop them from ACCEPTED: %s" % stale
