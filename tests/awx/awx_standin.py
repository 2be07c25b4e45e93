"""A stand-in of the AWX REST API (/api/v2) for the endpoints the awx.awx modules of roles/awx_config call.

Not AWX: no jobs run here. What it keeps is what the configuration playbook depends on: objects by id with
`url`/`related`, list views filtered the way the modules search (`name`, `or__id`/`or__name`, foreign keys),
POST/PATCH answering 201/200 or 400 with AWX-style field errors, association sub-lists (credentials, success_nodes),
survey specs, secret credential inputs answered as `$encrypted$`, a project sync that finishes at once (over
`checkout`, a local directory standing for the SCM URL), and the checks AWX makes on those fields: required fields,
choices, foreign keys that exist, names unique per organization, credential type input and injector schemas,
survey specs (survey_problems), a template's playbook among those the project's sync found, one credential per
type on a template, nodes linked only within their workflow.
"""
import glob
import json
import os
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlparse

import jinja2
from jinja2 import meta as jinja_meta

TOKEN = "standin-token"
ENCRYPTED = "$encrypted$"
SURVEY_TYPES = {"text", "textarea", "password", "integer", "float", "multiplechoice", "multiselect"}
CHOICE_TYPES = {"multiplechoice", "multiselect"}
QUESTION_KEYS = {"question_name", "question_description", "variable", "type", "required", "default", "choices", "min", "max", "new_question"}
# env vars AWX refuses in custom injectors (awx credential type validation)
ENV_BLOCKLIST = {"VIRTUAL_ENV", "PATH", "PYTHONPATH", "JOB_ID", "INVENTORY_ID", "INVENTORY_SOURCE_ID", "AWX_HOST", "REST_API_TOKEN"}
INPUT_FIELD_KEYS = {"id", "label", "type", "secret", "help_text", "multiline", "format", "choices", "ask_at_runtime"}


def survey_problems(spec):
    """What AWX refuses in a survey spec, in words (empty: accepted)."""
    problems = []
    if not isinstance(spec.get("name"), str) or not isinstance(spec.get("description"), str):
        problems.append("name and description must be strings")
    if not isinstance(spec.get("spec"), list) or not spec["spec"]:
        return problems + ["spec must be a non-empty list"]
    seen = set()
    for index, question in enumerate(spec["spec"]):
        where = "question %d (%s)" % (index, question.get("variable"))
        problems += ["%s: %r missing" % (where, key) for key in ("question_name", "variable", "type", "required") if key not in question]
        if set(question) - QUESTION_KEYS:
            problems.append("%s: unknown keys %s" % (where, sorted(set(question) - QUESTION_KEYS)))
        if question.get("variable") in seen:
            problems.append("%s: variable asked twice" % where)
        seen.add(question.get("variable"))
        kind, default = question.get("type"), question.get("default")
        if kind not in SURVEY_TYPES:
            problems.append("%s: type %r is not one of %s" % (where, kind, sorted(SURVEY_TYPES)))
        if kind in CHOICE_TYPES:
            choices = question.get("choices")
            if not isinstance(choices, list) or not choices or not all(isinstance(c, str) and c for c in choices):
                problems.append("%s: a choice question needs a non-empty list of non-empty strings" % where)
            elif default not in (None, "") and not set(default.split("\n") if kind == "multiselect" else [default]) <= set(choices):
                problems.append("%s: default %r is not among the choices" % (where, default))
        if kind == "password" and default not in (None, ""):
            problems.append("%s: a password question may not carry a default" % where)
        if kind in ("integer", "float") and default not in (None, "") and (isinstance(default, bool) or not isinstance(default, (int, float))):
            problems.append("%s: default %r is not a number" % (where, default))
        low, high = question.get("min"), question.get("max")
        if (low is not None or high is not None) and kind in CHOICE_TYPES:
            problems.append("%s: min/max do not apply to choice questions" % where)
        for bound in (low, high):
            if bound is not None and (isinstance(bound, bool) or not isinstance(bound, (int, float))):
                problems.append("%s: min/max %r is not a number" % (where, bound))
        if isinstance(low, (int, float)) and isinstance(high, (int, float)) and low > high:
            problems.append("%s: min %s above max %s" % (where, low, high))
        if kind in ("integer", "float") and isinstance(default, (int, float)) and (
                (low is not None and default < low) or (high is not None and default > high)):
            problems.append("%s: default outside min/max" % where)
        if kind in ("text", "textarea", "password") and isinstance(low, int) and low < 0:
            problems.append("%s: text length min below 0" % where)
    return problems


def credential_type_problems(inputs, injectors):
    problems = []
    fields = inputs.get("fields", [])
    if not isinstance(fields, list):
        return ["inputs.fields must be a list"]
    ids = []
    for field in fields:
        if not isinstance(field, dict) or not field.get("id") or not field.get("label"):
            problems.append("inputs.fields: every field needs id and label")
            continue
        if set(field) - INPUT_FIELD_KEYS:
            problems.append("inputs.fields[%s]: unknown keys %s" % (field["id"], sorted(set(field) - INPUT_FIELD_KEYS)))
        if field.get("type", "string") not in ("string", "boolean"):
            problems.append("inputs.fields[%s].type must be string or boolean" % field["id"])
        if not isinstance(field.get("secret", False), bool):
            problems.append("inputs.fields[%s].secret must be a boolean" % field["id"])
        ids.append(field["id"])
    if len(set(ids)) != len(ids):
        problems.append("inputs.fields: duplicate ids")
    if set(inputs.get("required", [])) - set(ids):
        problems.append("inputs.required names fields that do not exist: %s" % sorted(set(inputs["required"]) - set(ids)))
    if set(injectors) - {"file", "env", "extra_vars"}:
        problems.append("injectors: unknown sections %s" % sorted(set(injectors) - {"file", "env", "extra_vars"}))
    environment = jinja2.Environment()
    for section in ("env", "extra_vars"):
        for key, template in (injectors.get(section) or {}).items():
            if section == "env" and (key in ENV_BLOCKLIST or not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", key)):
                problems.append("injectors.env: %r cannot be set" % key)
            if not isinstance(template, str):
                problems.append("injectors.%s.%s must be a string" % (section, key))
                continue
            unknown = jinja_meta.find_undeclared_variables(environment.parse(template)) - set(ids) - {"tower"}
            if unknown:
                problems.append("injectors.%s.%s refers to undefined fields %s" % (section, key, sorted(unknown)))
    return problems


# endpoint -> (required fields, {field: referenced endpoint}, {field: choices}, association sub-lists)
RESOURCES = {
    "organizations": (["name"], {}, {}, []),
    "execution_environments": (["name", "image"], {"organization": "organizations", "credential": "credentials"},
                               {"pull": ["", "always", "missing", "never"]}, []),
    "projects": (["name", "organization"], {"organization": "organizations", "default_environment": "execution_environments",
                                            "credential": "credentials"},
                 {"scm_type": ["", "git", "svn", "insights", "archive"]}, []),
    "credential_types": (["name", "kind"], {}, {"kind": ["cloud", "net"]}, []),
    "credentials": (["name", "credential_type"], {"organization": "organizations", "credential_type": "credential_types"}, {}, []),
    "inventories": (["name", "organization"], {"organization": "organizations"}, {"kind": ["", "smart", "constructed"]}, []),
    "inventory_sources": (
        ["name", "inventory", "source"],
        {"inventory": "inventories", "source_project": "projects", "execution_environment": "execution_environments"},
        {"source": ["scm", "ec2", "file", "constructed"]}, []),
    "job_templates": (
        ["name", "playbook", "project", "inventory"],
        {"project": "projects", "inventory": "inventories", "organization": "organizations", "execution_environment": "execution_environments"},
        {"job_type": ["run", "check"]}, ["credentials", "labels"]),
    "workflow_job_templates": (["name", "organization"], {"organization": "organizations", "inventory": "inventories"}, {}, ["labels"]),
    "workflow_job_template_nodes": (["workflow_job_template", "identifier"], {"workflow_job_template": "workflow_job_templates"}, {},
                                    ["success_nodes", "failure_nodes", "always_nodes", "credentials"]),
}
# names unique within these scopes (AWX's unique_together)
UNIQUE = {"organizations": (), "execution_environments": (), "projects": ("organization",), "credential_types": ("kind",),
          "credentials": ("organization", "credential_type"), "inventories": ("organization",), "inventory_sources": ("inventory",),
          "job_templates": ("organization",), "workflow_job_templates": ("organization",)}
SINGULAR = {"inventories": "inventory", "credential_types": "credential_type"}


def playbooks_in(checkout):
    """What a project sync lists as playbooks: YAML files whose plays have hosts or import a playbook."""
    found = []
    for path in sorted(glob.glob(os.path.join(checkout, "*.yml")) + glob.glob(os.path.join(checkout, "playbooks", "*.yml"))):
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        if re.search(r"^\s*-?\s*(hosts|ansible\.builtin\.import_playbook|import_playbook):", text, re.M):
            found.append(os.path.relpath(path, checkout))
    return found


class AwxStandIn(object):
    def __init__(self, checkout):
        self.checkout = checkout
        self.project_updates = {}
        self.lock = threading.Lock()
        self.objects = dict((name, {}) for name in RESOURCES)
        self.surveys = {}
        self.links = {}  # (endpoint, id, sub-list) -> [ids]
        self.next_id = 1
        self.requests = []  # (method, path) of every write, for the tests
        self.add("organizations", {"name": "Default"})
        aws_inputs = {"fields": [{"id": "username", "label": "Access Key", "type": "string"},
                                 {"id": "password", "label": "Secret Key", "type": "string", "secret": True},
                                 {"id": "security_token", "label": "STS Token", "type": "string", "secret": True}],
                      "required": ["username", "password"]}
        self.add("credential_types", {"name": "Amazon Web Services", "kind": "cloud", "managed": True, "inputs": aws_inputs, "injectors": {}})

    # --- store ---------------------------------------------------------------------------------------------
    def add(self, endpoint, fields):
        ident, self.next_id = self.next_id, self.next_id + 1
        url = "/api/v2/%s/%d/" % (endpoint, ident)
        related = dict((sub, url + sub + "/") for sub in RESOURCES[endpoint][3])
        if endpoint in ("job_templates", "workflow_job_templates"):
            related["survey_spec"] = url + "survey_spec/"
        obj = dict(fields, id=ident, url=url, related=related, type=SINGULAR.get(endpoint, endpoint[:-1]))
        self.objects[endpoint][ident] = obj
        return obj

    def view(self, endpoint, obj):
        shown = dict(obj)
        if endpoint == "credentials":
            kind = self.objects["credential_types"][obj["credential_type"]]
            secret = set(f["id"] for f in kind["inputs"].get("fields", []) if f.get("secret"))
            shown["inputs"] = dict((k, ENCRYPTED if k in secret and v else v) for k, v in obj.get("inputs", {}).items())
        return shown

    def problems(self, endpoint, fields, current=None):
        """AWX's field validation of a create (current None) or of the object a PATCH would leave."""
        required, references, choices, dummy = RESOURCES[endpoint]
        merged = dict(current or {}, **fields)
        errors = {}
        for key in required:
            if merged.get(key) in (None, ""):
                errors[key] = ["This field is required."]
        for key, target in references.items():
            if merged.get(key) not in (None, "") and merged[key] not in self.objects[target]:
                errors[key] = ['Invalid pk "%s" - object does not exist.' % merged[key]]
        for key, allowed in choices.items():
            if merged.get(key) is not None and merged[key] not in allowed:
                errors[key] = ['"%s" is not a valid choice.' % merged[key]]
        if endpoint in UNIQUE and merged.get("name"):
            scope = UNIQUE[endpoint]
            for other in self.objects[endpoint].values():
                if other["id"] != (current or {}).get("id") and other["name"] == merged["name"] and all(other.get(k) == merged.get(k) for k in scope):
                    errors["__all__"] = ["%s with this name already exists." % endpoint]
        if endpoint == "credential_types":
            if current and current.get("managed"):
                errors["__all__"] = ["Modifications not allowed for managed credential types"]
            found = credential_type_problems(merged.get("inputs") or {}, merged.get("injectors") or {})
            if found:
                errors["inputs"] = found
        if endpoint == "credentials" and merged.get("credential_type") in self.objects["credential_types"]:
            kind = self.objects["credential_types"][merged["credential_type"]]["inputs"]
            ids = [f["id"] for f in kind.get("fields", [])]
            inputs = merged.get("inputs") or {}
            found = ["%s is not a field of the credential type" % k for k in inputs if k not in ids]
            found += ["%s is required" % k for k in kind.get("required", []) if inputs.get(k) in (None, "")]
            if found:
                errors["inputs"] = found
        if endpoint == "inventory_sources" and merged.get("source") == "scm":
            if not merged.get("source_project"):
                errors["source_project"] = ["Project required for scm type sources."]
            if not merged.get("source_path"):
                errors["source_path"] = ["This field is required for scm sources."]
        if endpoint == "projects" and merged.get("scm_type") and not merged.get("scm_url"):
            errors["scm_url"] = ["SCM URL is required."]
        if endpoint == "job_templates" and merged.get("project") in self.objects["projects"]:
            if merged.get("playbook") not in self.objects["projects"][merged["project"]].get("playbooks", []):
                errors["playbook"] = ["Playbook not found for project."]
        if endpoint == "job_templates" and "extra_vars" in merged:
            try:
                json.loads(merged["extra_vars"] or "{}")
            except ValueError:
                errors["extra_vars"] = ["Must be valid JSON or YAML."]
        if endpoint == "workflow_job_template_nodes":
            if merged.get("unified_job_template") is not None and not self.unified(merged["unified_job_template"]):
                errors["unified_job_template"] = ['Invalid pk "%s" - object does not exist.' % merged["unified_job_template"]]
            for other in self.objects[endpoint].values():
                if (other["id"] != (current or {}).get("id") and other["identifier"] == merged.get("identifier")
                        and other["workflow_job_template"] == merged.get("workflow_job_template")):
                    errors["__all__"] = ["Workflow job template node with this identifier already exists."]
        return errors

    def sync(self, project):
        """A project update that has already finished: the project's playbooks are those of the checkout."""
        ident = len(self.project_updates) + 1
        self.project_updates[ident] = {"id": ident, "status": "successful", "failed": False, "finished": True,
                                       "url": "/api/v2/project_updates/%d/" % ident}
        project.update(playbooks=playbooks_in(self.checkout), scm_revision="standin-%d" % ident,
                       summary_fields={"current_update": {"id": ident}})

    def unified(self, ident):
        return self.objects["job_templates"].get(ident) or self.objects["workflow_job_templates"].get(ident)

    def associate(self, endpoint, ident, sub, target_id, disassociate):
        owner = self.objects[endpoint][ident]
        linked = self.links.setdefault((endpoint, ident, sub), [])
        if disassociate:
            if target_id in linked:
                linked.remove(target_id)
            return None
        if sub == "credentials":
            credential = self.objects["credentials"].get(target_id)
            if credential is None:
                return "credential %s does not exist" % target_id
            kinds = [self.objects["credentials"][c]["credential_type"] for c in linked]
            if credential["credential_type"] in kinds:
                return "Cannot assign multiple %s credentials." % self.objects["credential_types"][credential["credential_type"]]["name"]
        elif sub.endswith("_nodes"):
            node = self.objects["workflow_job_template_nodes"].get(target_id)
            if node is None or node["workflow_job_template"] != owner["workflow_job_template"]:
                return "Nodes must be in the same workflow"
            if target_id == ident:
                return "A node cannot link to itself"
        elif sub == "labels" and target_id not in self.objects.get("labels", {}):
            return "label %s does not exist" % target_id
        if target_id not in linked:
            linked.append(target_id)
        return None

    def associated(self, endpoint, ident, sub):
        target = {"credentials": "credentials", "labels": "labels"}.get(sub, "workflow_job_template_nodes")
        return [self.view(target, self.objects[target][i]) for i in self.links.get((endpoint, ident, sub), [])]


def _matches(obj, query):
    alternatives = [(k[4:], v) for k, v in query.items() if k.startswith("or__")]
    if alternatives and not any(str(obj.get(k)) == v for k, v in alternatives):
        return False
    return all(str(obj.get(k)) == v for k, v in query.items() if not k.startswith("or__"))


def _page(items):
    return {"count": len(items), "next": None, "previous": None, "results": items}


class Handler(BaseHTTPRequestHandler):
    standin = None

    def log_message(self, *args):  # quiet
        pass

    def _send(self, status, body=None):
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-API-Product-Name", "AWX")
        self.send_header("X-API-Product-Version", "24.6.1")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length) or b"{}")

    def _route(self):
        if self.headers.get("Authorization") != "Bearer " + TOKEN:
            self._send(401, {"detail": "Authentication credentials were not provided."})
            return None
        parsed = urlparse(self.path)
        parts = [p for p in parsed.path.split("/") if p]
        if parts[:2] != ["api", "v2"]:
            self._send(404, {"detail": "Not found."})
            return None
        query = dict((k, v) for k, v in parse_qsl(parsed.query) if k not in ("page", "page_size", "order_by"))
        return parts[2:], query

    def do_GET(self):  # noqa: N802 - http.server's naming
        route = self._route()
        if route is None:
            return
        parts, query = route
        store = self.standin
        with store.lock:
            if parts == ["ping"]:
                return self._send(200, {"version": "24.6.1", "active_node": "standin"})
            if parts[:1] == ["project_updates"] and len(parts) == 2 and int(parts[1]) in store.project_updates:
                return self._send(200, store.project_updates[int(parts[1])])
            if parts == ["unified_job_templates"]:
                items = list(store.objects["job_templates"].values()) + list(store.objects["workflow_job_templates"].values())
                return self._send(200, _page([o for o in items if _matches(o, query)]))
            endpoint = parts[0] if parts else ""
            if endpoint not in store.objects:
                return self._send(404, {"detail": "Not found."})
            if len(parts) == 1:
                found = [store.view(endpoint, o) for o in store.objects[endpoint].values() if _matches(o, query)]
                return self._send(200, _page(found))
            ident = int(parts[1]) if parts[1].isdigit() else None
            if ident not in store.objects[endpoint]:
                return self._send(404, {"detail": "Not found."})
            if len(parts) == 2:
                return self._send(200, store.view(endpoint, store.objects[endpoint][ident]))
            if parts[2] == "survey_spec":
                return self._send(200, store.surveys.get((endpoint, ident), {}))
            return self._send(200, _page(store.associated(endpoint, ident, parts[2])))

    def do_POST(self):  # noqa: N802
        route = self._route()
        if route is None:
            return
        parts, dummy = route
        body = self._body()
        store = self.standin
        with store.lock:
            store.requests.append(("POST", "/".join(parts)))
            endpoint = parts[0] if parts else ""
            if endpoint not in store.objects:
                return self._send(404, {"detail": "Not found."})
            if len(parts) == 1:
                errors = store.problems(endpoint, body)
                if errors:
                    return self._send(400, errors)
                created = store.add(endpoint, body)
                if endpoint == "projects" and created.get("scm_type"):
                    store.sync(created)
                return self._send(201, store.view(endpoint, created))
            ident = int(parts[1])
            if ident not in store.objects[endpoint]:
                return self._send(404, {"detail": "Not found."})
            if parts[2] == "survey_spec":
                problems = survey_problems(body)
                if problems:
                    return self._send(400, {"error": "; ".join(problems)})
                store.surveys[(endpoint, ident)] = body
                return self._send(200, None)
            error = store.associate(endpoint, ident, parts[2], int(body["id"]), body.get("disassociate", False))
            if error:
                return self._send(400, {"msg": error, "detail": error})
            return self._send(204, None)

    def do_DELETE(self):  # noqa: N802 - only surveys are deleted by the configuration
        route = self._route()
        if route is None:
            return
        parts, dummy = route
        store = self.standin
        with store.lock:
            store.requests.append(("DELETE", "/".join(parts)))
            if len(parts) == 3 and parts[2] == "survey_spec" and int(parts[1]) in store.objects.get(parts[0], {}):
                store.surveys.pop((parts[0], int(parts[1])), None)
                return self._send(200, None)
            return self._send(405, {"detail": "Method not allowed."})

    def do_PATCH(self):  # noqa: N802
        route = self._route()
        if route is None:
            return
        parts, dummy = route
        body = self._body()
        store = self.standin
        with store.lock:
            store.requests.append(("PATCH", "/".join(parts)))
            endpoint, ident = parts[0], int(parts[1])
            current = store.objects.get(endpoint, {}).get(ident)
            if current is None:
                return self._send(404, {"detail": "Not found."})
            errors = store.problems(endpoint, body, current)
            if errors:
                return self._send(400, errors)
            resync = endpoint == "projects" and any(current.get(k) != body[k] for k in ("scm_url", "scm_branch", "scm_type") if k in body)
            current.update(body)
            if resync:
                store.sync(current)
            return self._send(200, store.view(endpoint, current))


class RunningAwxStandIn(object):
    """The stand-in on a free local port, in a thread; `url` and `store` for the tests."""

    def __init__(self, checkout):
        self.store = AwxStandIn(checkout)
        handler = type("BoundHandler", (Handler,), {"standin": self.store})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
