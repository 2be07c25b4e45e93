"""Role READMEs generated from each role's meta/argument_specs.yml (the one source of truth for its variables).

    python -m tests.tools.role_readmes          # write roles/*/README.md
    python -m tests.tools.role_readmes --check  # exit 1 and name the READMEs that differ from their specs

Galaxy's importer refuses a collection whose roles have no README; these say what the role does, its entry points
and every variable (type, required or default, description), and point back to the spec.
"""
import os
import sys

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ROLES = os.path.join(REPO, "roles")
MARKUP = (("C(", ")", "`"), ("O(", ")", "`"), ("V(", ")", "`"), ("I(", ")", "*"))


def plain(text):
    """Ansible doc markup (C(), O(), V(), I()) as Markdown."""
    text = str(text)
    for start, end, mark in MARKUP:
        while start in text:
            head, rest = text.split(start, 1)
            depth, cut = 1, None
            for index, char in enumerate(rest):
                depth += char == "("
                depth -= char == end
                if depth == 0:
                    cut = index
                    break
            if cut is None:
                break
            text = "%s%s%s%s%s" % (head, mark, rest[:cut], mark, rest[cut + 1:])
    return text


def _lines(value):
    return [plain(v) for v in value] if isinstance(value, list) else [plain(value)] if value else []


def _cell(text):
    return " ".join(text.split()).replace("|", "\\|")


def _default(option):
    if option.get("required"):
        return "required"
    if "default" not in option:
        return ""
    return "`%s`" % (yaml.safe_dump(option["default"], default_flow_style=True).strip().replace("\n...", "")
                     .replace("|", "\\|"))


def _type(option):
    kind = option.get("type", "str")
    return "%s of %s" % (kind, option["elements"]) if option.get("elements") else kind


def render(role):
    with open(os.path.join(ROLES, role, "meta", "argument_specs.yml"), encoding="utf-8") as handle:
        specs = yaml.safe_load(handle)["argument_specs"]
    main = specs.get("main") or next(iter(specs.values()))
    out = ["# eks_llm.inference.%s" % role, "", plain(main.get("short_description", "")), ""]
    for line in _lines(main.get("description")):
        out += [line, ""]
    out += ["Generated from `meta/argument_specs.yml` by `make role-readmes`: change the spec, not this file.", ""]
    for entry, spec in specs.items():
        call = "`include_role: name: eks_llm.inference.%s%s`" % (role, "" if entry == "main" else ", tasks_from: %s" % entry)
        out += ["## Entry point `%s`" % entry, "", call, ""]
        if entry != "main":
            out += [plain(spec.get("short_description", "")), ""]
            for line in _lines(spec.get("description")):
                out += [line, ""]
        options = spec.get("options") or {}
        if not options:
            out += ["No variables.", ""]
            continue
        out += ["| Variable | Type | Default | Description |", "|---|---|---|---|"]
        for name in sorted(options):
            option = options[name]
            description = _cell(" ".join(_lines(option.get("description"))))
            out.append("| `%s` | %s | %s | %s |" % (name, _type(option), _default(option), description))
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def roles():
    return sorted(r for r in os.listdir(ROLES) if os.path.isfile(os.path.join(ROLES, r, "meta", "argument_specs.yml")))


def main(argv):
    stale = []
    for role in roles():
        path = os.path.join(ROLES, role, "README.md")
        text = render(role)
        current = open(path, encoding="utf-8").read() if os.path.isfile(path) else None
        if current == text:
            continue
        if "--check" in argv:
            stale.append(path)
        else:
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(text)
    if stale:
        print("role READMEs differ from their argument specs (run make role-readmes):\n  " + "\n  ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
