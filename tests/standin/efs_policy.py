"""A small, strict IAM evaluation of an EFS file system policy for one NFS mount.

AWS (EFS user guide, "Using IAM to control file system data access"): with no file system policy the
default policy grants full access to any client; once a policy is set, an explicit Deny wins, and
otherwise the mount needs an Allow for the client action from the file system policy or from the
identity policies of the principal (the IAM role the ``iam`` mount option authenticates with;
without ``iam`` the client is anonymous and only the resource policy can allow it). Condition keys
of a mount: ``aws:SecureTransport`` (the ``tls`` option), ``elasticfilesystem:AccessedViaMountTarget``.
Anything this evaluator does not understand raises ``Unsupported`` - it refuses, it never guesses.
"""
import fnmatch
import json

CLIENT_ACTIONS = ("elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite", "elasticfilesystem:ClientRootAccess")


class Unsupported(Exception):
    pass


def _list(value):
    return value if isinstance(value, list) else [value]


def _glob(pattern, value, case=False):
    if case:
        return fnmatch.fnmatchcase(value, pattern)
    return fnmatch.fnmatchcase(value.lower(), pattern.lower())


def _action_matches(statement, action):
    if "Action" in statement and "NotAction" in statement:
        raise Unsupported("statement has both Action and NotAction")
    if "Action" in statement:
        return any(_glob(a, action) for a in _list(statement["Action"]))
    if "NotAction" in statement:
        return not any(_glob(a, action) for a in _list(statement["NotAction"]))
    raise Unsupported("statement without Action/NotAction")


def _resource_matches(statement, resource):
    if "NotResource" in statement:
        raise Unsupported("NotResource")
    if "Resource" not in statement:
        return True  # a resource policy may omit Resource: it is the resource it is attached to
    return any(_glob(r, resource, case=True) for r in _list(statement["Resource"]))


def _principal_matches(statement, principal_arn):
    if "NotPrincipal" in statement:
        raise Unsupported("NotPrincipal")
    principal = statement.get("Principal")
    if principal == "*":
        return True
    if not isinstance(principal, dict) or set(principal) - {"AWS"}:
        raise Unsupported("Principal %r" % (principal,))
    for arn in _list(principal["AWS"]):
        if arn == "*":
            return True
        if principal_arn and (arn == principal_arn or (arn.endswith(":root") and principal_arn.split(":")[4] == arn.split(":")[4])):
            return True
    return False


def _condition_matches(statement, context):
    for operator, tests in (statement.get("Condition") or {}).items():
        if operator not in ("Bool", "StringEquals", "ArnLike", "ArnEquals", "StringLike"):
            raise Unsupported("condition operator %s" % operator)
        for key, wanted in tests.items():
            have = context.get(key)
            if have is None:
                return False  # a key absent from the request context never matches (no ...IfExists support)
            wanted = [str(w) for w in _list(wanted)]
            if operator == "Bool":
                ok = str(have).lower() in [w.lower() for w in wanted]
            elif operator == "StringEquals":
                ok = str(have) in wanted
            elif operator in ("ArnLike", "ArnEquals", "StringLike"):
                ok = any(_glob(w, str(have), case=True) for w in wanted)
            else:
                raise Unsupported("condition operator %s" % operator)
            if not ok:
                return False
    return True


def _statements(document):
    if isinstance(document, str):
        document = json.loads(document)
    return _list(document.get("Statement", []))


def _effects(document, action, resource, principal_arn, context, resource_policy):
    for statement in _statements(document):
        if statement.get("Effect") not in ("Allow", "Deny"):
            raise Unsupported("Effect %r" % statement.get("Effect"))
        if resource_policy and not _principal_matches(statement, principal_arn):
            continue
        if not resource_policy and ("Principal" in statement or "NotPrincipal" in statement):
            raise Unsupported("Principal in an identity policy")
        if _action_matches(statement, action) and _resource_matches(statement, resource) and _condition_matches(statement, context):
            yield statement["Effect"], statement.get("Sid", "")


def decide(file_system_policy, identity_policies, file_system_arn, principal_arn, actions, tls, via_mount_target=True):
    """Return (allowed, reason) for a mount needing every one of ``actions``.

    file_system_policy: the policy document (str/dict) or None; identity_policies: documents of the
    principal (ignored when principal_arn is None, an anonymous mount).
    """
    if not file_system_policy:
        return True, "no file system policy: the default policy allows every client"
    context = {"aws:SecureTransport": "true" if tls else "false",
               "elasticfilesystem:AccessedViaMountTarget": "true" if via_mount_target else "false"}
    if principal_arn:
        context["aws:PrincipalArn"] = principal_arn
    who = principal_arn or "an anonymous client"
    for action in actions:
        allowed = False
        effects = list(_effects(file_system_policy, action, file_system_arn, principal_arn, context, True))
        for document in (identity_policies if principal_arn else []):
            effects += list(_effects(document, action, file_system_arn, principal_arn, context, False))
        for effect, sid in effects:
            if effect == "Deny":
                return False, "%s denied to %s by an explicit Deny (%s)" % (action, who, sid or "no Sid")
            allowed = True
        if not allowed:
            return False, "%s not allowed to %s: no Allow in the file system policy or the identity policies" % (action, who)
    return True, "allowed %s to %s" % (", ".join(actions), who)
