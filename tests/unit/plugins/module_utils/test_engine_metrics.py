"""Metric names of the pinned engines as a contract (tests/upstream/triton_vllm_metrics.json, read from the upstream
sources at the pinned image's branch): every series an adapter rule, the HPA, a dashboard, an alert or the verify probe
names for Triton is one the pinned Triton + vLLM backend serves; the HPA's metric is one the adapter rules produce; and
the HPA's metric, evaluated as prometheus-adapter evaluates it over the LLM stand-in's scrapes, rises with the load."""
import asyncio
import importlib.util
import json
import os
import re
import time
import urllib.request

import aiohttp
import pytest

from ansible_collections.eks_llm.inference.plugins.module_utils import inference
from ansible_collections.eks_llm.inference.plugins.module_utils import inventory_model
from ansible_collections.eks_llm.inference.plugins.module_utils import monitoring
from ansible_collections.eks_llm.inference.plugins.module_utils import versions
from tests.standin.llm_server import running_llm_server

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
RECORD_PATH = os.path.join(REPO, "tests", "upstream", "triton_vllm_metrics.json")
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")
_SPEC = importlib.util.spec_from_file_location("llm_probe", os.path.join(REPO, "roles", "verify", "files", "llm_probe.py"))
llm_probe = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(llm_probe)
POD = {"namespace": "llm", "pod": "opt-350m-0"}  # the target labels Prometheus adds from the ServiceMonitor

INVENTORY = {
    "eks_llm_name": "demo",
    "eks_llm_region": "us-west-2",
    "eks_llm_gpu_node_pools": [{"name": "g6", "instance_families": ["g6"]}],
    "eks_llm_models": [
        {"name": "opt-350m", "engine": "triton_vllm", "parameters_billion": 0.35, "precision": "fp16", "node_pool": "g6",
         "namespace": "llm", "vllm": {"model_id": "facebook/opt-350m"}, "autoscaling": {"enabled": True, "max_replicas": 3}},
    ],
}


def load_record():
    with open(RECORD_PATH, encoding="utf-8") as handle:
        return json.load(handle)


RECORD = load_record()


def record_series(record=None):
    """Every series name the pinned Triton serves: families, and a histogram's _bucket/_sum/_count."""
    names = set()
    for family in (record or RECORD)["families"]:
        names.add(family["name"])
        if family["type"] == "histogram":
            names.update(family["name"] + suffix for suffix in HISTOGRAM_SUFFIXES)
    return names


def settings_and_config():
    config, problems, dummy = inventory_model.validate(dict(INVENTORY))
    assert problems == []
    thresholds = {"gpu_temperature_celsius": 85, "gpu_memory_used_ratio": 0.95, "waiting_requests": 8, "error_ratio": 0.05, "ttft_p99_seconds": 2}
    settings = {"platform": config["platform"], "thresholds": thresholds, "models": config["models"]}
    return settings, config


# ---- the names in a PromQL expression ----------------------------------------------------------------------------
KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "offset", "bool", "le"}


def promql_names(expr):
    """(metric names, __name__ regexes) an expression reads. Label values, label lists, templates and functions are not names."""
    regexes = re.findall(r'__name__\s*=~\s*"((?:[^"\\]|\\.)*)"', expr)
    text = re.sub(r"label_values\(\s*(.*),\s*\w+\s*\)", r"(\1)", expr)  # Grafana: label_values(series, label)
    text = re.sub(r"<<[^>]*>>", " ", text)
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', text)  # label values
    text = re.sub(r"\{[^}]*\}", " ", text)  # matchers
    text = re.sub(r"\[[^\]]*\]", " ", text)  # ranges
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    names = set()
    for match in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", text):
        rest = text[match.end():].lstrip()
        word = match.group(0)
        if rest.startswith("(") or word in KEYWORDS or re.match(r"^\d", word):
            continue
        names.add(word)
    return names, regexes


def triton_expressions(settings, config):
    """(where, PromQL, scope) of what reads Triton's metrics: its adapter rule, dashboard and alerts (scope "all": every name
    must be served), and any other query that names an nv_* series (scope "nv_": those names must be served)."""
    found = []
    triton_metric = config["platform"]["autoscaling_metrics"]["triton"]
    for rule in monitoring.adapter_rules(settings):
        if rule["name"]["as"] == triton_metric:
            found += [("adapter rule %s seriesQuery" % triton_metric, rule["seriesQuery"], "all"),
                      ("adapter rule %s metricsQuery" % triton_metric, rule["metricsQuery"], "all")]
    board = monitoring.triton_dashboard()
    for panel in board["panels"]:
        found += [("Triton dashboard panel %r" % panel["title"], target["expr"], "all") for target in panel["targets"]]
    for variable in board["templating"]["list"][1:]:
        found.append(("Triton dashboard variable %s" % variable["name"], variable["query"]["query"], "all"))
    for alert in monitoring.inference_alerts(settings):
        found.append(("alert %s" % alert["alert"], alert["expr"], "all" if alert["alert"].startswith("Triton") else "nv_"))
    for board in (monitoring.gpu_dashboard(), monitoring.llm_dashboard()):
        found += [("dashboard %s panel %r" % (board["uid"], panel["title"]), target["expr"], "nv_")
                  for panel in board["panels"] for target in panel["targets"]]
    return found


def unknown_names(expressions, served):
    """'where: name' for each name (or __name__ regex matching nothing) not served by the pinned engine."""
    problems = []
    for where, expr, scope in expressions:
        names, regexes = promql_names(expr)
        if scope != "all":
            names, regexes = set(name for name in names if name.startswith(scope)), []
        problems += ["%s: %s" % (where, name) for name in sorted(names - served)]
        problems += ["%s: __name__=~%r matches no served series" % (where, regex)
                     for regex in regexes if not any(re.fullmatch(regex, name) for name in served)]
    return problems


# ---- contract tests ------------------------------------------------------------------------------------------------
def test_promql_names_reads_names_only():
    names, regexes = promql_names('sum by (<<.GroupBy>>) (rate(vllm:x_sum{<<.LabelMatchers>>}[1m])) / clamp_min(sum by (namespace, pod)'
                                  ' (rate(nv_y{model=~"a|b"}[5m])), 1) > 0 and on (namespace) {__name__=~"(vllm:)?z"}')
    assert names == {"vllm:x_sum", "nv_y"} and regexes == ["(vllm:)?z"]


def test_record_names_upstream_sources_and_types():
    assert {family["type"] for family in RECORD["families"]} <= {"counter", "gauge", "histogram"}
    assert all(family["from"] in RECORD["sources"] for family in RECORD["families"])
    assert all(source["ref"] == "r" + RECORD["image_tag"] for source in RECORD["sources"].values())
    assert ":" + RECORD["image_tag"] + "-vllm-python-py3" in versions.IMAGES["triton_vllm"]
    assert not set(RECORD["not_served"]) & record_series()


def test_every_triton_query_names_a_served_metric():
    settings, config = settings_and_config()
    expressions = triton_expressions(settings, config)
    assert any(where.startswith("adapter rule") for where, dummy, dummy in expressions)
    assert unknown_names(expressions, record_series()) == []


def test_a_rule_naming_a_metric_the_engine_lacks_fails():
    served = record_series()
    assert unknown_names([("rule", "max by (pod) (vllm:num_requests_waiting{pod!=\"\"})", "all")], served) == ["rule: vllm:num_requests_waiting"]
    assert unknown_names([("rule", '{__name__=~"(vllm:)?num_requests_waiting"}', "all")], served) == [
        "rule: __name__=~'(vllm:)?num_requests_waiting' matches no served series"]


def test_verify_probe_asks_for_served_series_only():
    served = record_series()
    assert [spellings for spellings in llm_probe.TRITON_SERIES if not set(spellings) & served] == []


def adapter_series(rule, served):
    """The served series a rule's seriesQuery selects and its name.matches turns into the rule's metric (prometheus-adapter
    skips series whose name does not match)."""
    names, regexes = promql_names(rule["seriesQuery"])
    selected = (names & served) | set(name for regex in regexes for name in served if re.fullmatch(regex, name))
    return sorted(name for name in selected if re.search(rule["name"]["matches"], name))


def test_triton_hpa_metric_is_produced_by_an_adapter_rule_from_a_served_series():
    settings, config = settings_and_config()
    model = config["models"][0]
    hpa = inference.hpa(config, model, "Deployment", model["name"])
    metrics = [entry["pods"]["metric"]["name"] for entry in hpa["spec"]["metrics"]]
    rules = dict((rule["name"]["as"], rule) for rule in monitoring.adapter_rules(settings))
    assert metrics and all(name in rules for name in metrics), (metrics, sorted(rules))
    for name in metrics:
        assert adapter_series(rules[name], record_series()), "%s: no series of the pinned Triton feeds this rule" % name


# ---- the HPA's metric under load: the adapter's metricsQuery evaluated over two scrapes of the stand-in -------------
def parse_samples(text):
    """[(name, labels dict, value)] of a Prometheus text exposition, with the pod's target labels added."""
    samples = []
    for line in text.splitlines():
        if line and not line.startswith("#"):
            head, number = line.rsplit(" ", 1)
            name, dummy, labels = head.partition("{")
            samples.append((name, dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', labels), **POD), float(number)))
    return samples


class Evaluator(object):
    """Just enough PromQL for our adapter rules: sum/max by (...) (...), rate(sel[w]), clamp_min(e, n), e / e, selectors.
    rate() is (later - earlier) / seconds between the two scrapes. Values are {group labels: number}."""

    TOKEN = re.compile(r'\s*(sum|max|by|rate|clamp_min|[A-Za-z_:][A-Za-z0-9_:]*|\{(?:[^}"]|"(?:[^"\\]|\\.)*")*\}|\[[^\]]*\]|[0-9.]+|[()/,])')

    def __init__(self, earlier, later, seconds):
        self.earlier, self.later, self.seconds = earlier, later, seconds

    def evaluate(self, query):
        query = query.replace("<<.GroupBy>>", "namespace, pod").replace("<<.LabelMatchers>>", 'namespace="%(namespace)s",pod="%(pod)s"' % POD)
        self.tokens, self.position = [], 0
        position = 0
        while position < len(query.rstrip()):
            match = self.TOKEN.match(query, position)
            assert match, "cannot read %r" % query[position:]
            self.tokens.append(match.group(1))
            position = match.end()
        result = self.expr()
        assert self.position == len(self.tokens), "unread: %s" % self.tokens[self.position:]
        return result

    def take(self, expected=None):
        token = self.tokens[self.position]
        assert expected is None or token == expected, "expected %s, got %s" % (expected, token)
        self.position += 1
        return token

    def peek(self):
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def expr(self):
        left = self.atom()
        while self.peek() == "/":
            self.take()
            right = self.atom()
            left = dict((key, left[key] / right[key]) for key in left if key in right)
        return left

    def atom(self):
        token = self.take()
        if token in ("sum", "max"):
            self.take("by")
            self.take("(")
            labels = []
            while self.peek() != ")":
                label = self.take()
                if label != ",":
                    labels.append(label)
            self.take(")")
            self.take("(")
            inner = self.expr()
            self.take(")")
            grouped = {}
            for key, number in inner.items():
                group = tuple((label, dict(key).get(label)) for label in labels)
                grouped.setdefault(group, []).append(number)
            return dict((group, (sum if token == "sum" else max)(numbers)) for group, numbers in grouped.items())
        if token == "rate":
            self.take("(")
            name, matchers = self.selector(self.take())
            self.take()  # the range: the two scrapes are the window
            self.take(")")
            before = self.select(self.earlier, name, matchers)
            return dict((key, (number - before.get(key, 0.0)) / self.seconds) for key, number in self.select(self.later, name, matchers).items())
        if token == "clamp_min":
            self.take("(")
            inner = self.expr()
            self.take(",")
            floor = float(self.take())
            self.take(")")
            return dict((key, max(number, floor)) for key, number in inner.items())
        if token == "(":
            inner = self.expr()
            self.take(")")
            return inner
        return self.select(self.later, *self.selector(token))

    def selector(self, token):
        name = None if token.startswith("{") else token
        matchers = self.take() if self.peek() and self.peek().startswith("{") else (token if name is None else "{}")
        return name, re.findall(r'(\w+)\s*(=~|!=|=)\s*"((?:[^"\\]|\\.)*)"', matchers)

    @staticmethod
    def select(samples, name, matchers):
        found = {}
        for sample, labels, number in samples:
            labels = dict(labels, __name__=sample)
            if name is not None and sample != name:
                continue
            if all((op == "=" and labels.get(key, "") == wanted) or (op == "!=" and labels.get(key, "") != wanted)
                   or (op == "=~" and re.fullmatch(wanted, labels.get(key, ""))) for key, op, wanted in matchers):
                found[tuple(sorted((key, value) for key, value in labels.items() if key != "__name__"))] = number
        return found


def test_evaluator_reads_our_rule_shapes():
    earlier = [("a_total", {"model": "m", **POD}, 10.0), ("b_total", {"model": "m", **POD}, 0.0)]
    later = [("a_total", {"model": "m", **POD}, 30.0), ("b_total", {"model": "m", **POD}, 0.5)]
    evaluator = Evaluator(earlier, later, 10.0)
    query = "sum by (<<.GroupBy>>) (rate(a_total{<<.LabelMatchers>>}[1m])) / clamp_min(sum by (<<.GroupBy>>) (rate(b_total{<<.LabelMatchers>>}[1m])), 1)"
    assert evaluator.evaluate(query) == {(("namespace", "llm"), ("pod", "opt-350m-0")): 2.0}
    assert evaluator.evaluate('max by (<<.GroupBy>>) ({__name__=~"(x:)?a_total",<<.LabelMatchers>>})') == {
        (("namespace", "llm"), ("pod", "opt-350m-0")): 30.0}


def hpa_metric_under(llm, query, concurrency, seconds):
    """The adapter's value of the HPA metric for the pod over `seconds` of a closed loop of `concurrency` clients."""
    url = llm.url("triton") + "/v2/models/vllm_model/generate"

    async def main():
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
            deadline = time.monotonic() + seconds

            async def client():
                while time.monotonic() < deadline:
                    async with session.post(url, json={"text_input": "a b c", "parameters": {"max_tokens": 4}}) as response:
                        assert response.status == 200
                        await response.read()
            await asyncio.gather(*[client() for dummy in range(concurrency)])

    earlier, started = parse_samples(llm.metrics("triton")), time.monotonic()
    asyncio.run(main())
    later = parse_samples(llm.metrics("triton"))
    values = Evaluator(earlier, later, time.monotonic() - started).evaluate(query)
    assert len(values) == 1, values
    return list(values.values())[0]


def test_triton_hpa_metric_rises_with_the_backlog():
    """Two replicas' worth of demand on one: 8 clients, batch of 2, so 6 requests wait. The HPA must see more than its target."""
    settings, config = settings_and_config()
    model = config["models"][0]
    target = model["autoscaling"]["target"]
    rule = [r for r in monitoring.adapter_rules(settings) if r["name"]["as"] == config["platform"]["autoscaling_metrics"]["triton"]][0]
    with running_llm_server([{"name": "triton", "flavor": "triton", "models": ["vllm_model"], "ttft_ms": 40, "itl_ms": 10,
                              "max_batch": 2}]) as llm:
        idle = hpa_metric_under(llm, rule["metricsQuery"], 1, 1.0)
        busy = hpa_metric_under(llm, rule["metricsQuery"], 8, 1.5)
    assert idle < target, "one client at a time, nothing waits: %s = %.3f should stay under the target %s" % (rule["name"]["as"], idle, target)
    assert busy > target and busy > 3 * idle, ("6 of 8 requests wait for a batch slot: %s = %.3f (idle %.3f) should rise above the target %s"
                                               % (rule["name"]["as"], busy, idle, target))


@pytest.mark.parametrize("flavor", ["triton"])
def test_standin_serves_exactly_the_pinned_engine_metrics(flavor):
    """The stand-in's Triton metrics port serves the families of the record - no more, no fewer - with their types and labels."""
    with running_llm_server([{"name": flavor, "flavor": flavor, "models": ["vllm_model"], "ttft_ms": 5, "itl_ms": 1}]) as llm:
        body = json.dumps({"text_input": "a b", "parameters": {"max_tokens": 2}}).encode()
        request = urllib.request.Request(llm.url(flavor) + "/v2/models/vllm_model/generate", data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
        text = llm.metrics(flavor)
    types = dict(re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M))
    wanted = dict((family["name"], family["type"]) for family in RECORD["families"])
    assert sorted(set(types) - set(wanted)) == [], "served but not by the pinned engine"
    assert sorted(set(wanted) - set(types)) == [], "served by the pinned engine but not by the stand-in"
    assert dict((name, kind) for name, kind in types.items()) == wanted
    labels = {}
    for name, dummy, number in parse_samples(text):
        family = re.sub(r"_(bucket|sum|count)$", "", name) if name not in wanted else name
        labels.setdefault(family, set()).update(set(dummy) - set(POD) - {"le"})
    assert dict((name, sorted(found)) for name, found in labels.items()) == dict(
        (family["name"], sorted(family["labels"])) for family in RECORD["families"])


VLLM_INVENTORY = dict(INVENTORY, eks_llm_models=[
    {"name": "opt-350m", "engine": "vllm", "parameters_billion": 0.35, "precision": "fp16", "node_pool": "g6", "namespace": "llm",
     "vllm": {"model_id": "facebook/opt-350m"}, "autoscaling": {"enabled": True, "max_replicas": 3, "target": 2}}])


def test_vllm_hpa_metric_comes_from_the_pinned_vllm_series_and_rises_with_the_backlog():
    """Engine vllm: the HPA names the adapter's llm_requests_waiting, whose rule selects vllm:num_requests_waiting from what the
    stand-in (the pinned vLLM release's names) serves; 8 clients on a batch of 2 put it above the target, 1 client does not."""
    config, problems, dummy = inventory_model.validate(dict(VLLM_INVENTORY))
    assert problems == []
    settings = {"platform": config["platform"], "models": config["models"]}
    model = config["models"][0]
    metric = inference.hpa(config, model, "Deployment", model["name"])["spec"]["metrics"][0]["pods"]["metric"]["name"]
    rule = dict((r["name"]["as"], r) for r in monitoring.adapter_rules(settings))[metric]
    url_path = "/v1/chat/completions"
    with running_llm_server([{"name": "vllm", "flavor": "vllm", "models": ["opt-350m"], "ttft_ms": 40, "itl_ms": 10, "max_batch": 2}]) as llm:
        served = set(name for name, dummy_labels, dummy_value in parse_samples(llm.metrics("vllm")))
        assert adapter_series(rule, served) == ["vllm:num_requests_waiting"]

        def under(concurrency, seconds):
            async def main():
                async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
                    deadline = time.monotonic() + seconds

                    async def client():
                        while time.monotonic() < deadline:
                            body = {"model": "opt-350m", "max_tokens": 4, "messages": [{"role": "user", "content": "a b c"}]}
                            async with session.post(llm.url("vllm") + url_path, json=body) as response:
                                assert response.status == 200
                                await response.read()

                    async def scrape_midway():  # a gauge: read while the clients are busy
                        await asyncio.sleep(seconds / 2)
                        return await asyncio.get_running_loop().run_in_executor(None, llm.metrics, "vllm")
                    results = await asyncio.gather(scrape_midway(), *[client() for dummy in range(concurrency)])
                    return results[0]
            earlier, started = parse_samples(llm.metrics("vllm")), time.monotonic()
            later = parse_samples(asyncio.run(main()))
            values = Evaluator(earlier, later, time.monotonic() - started).evaluate(rule["metricsQuery"])
            assert len(values) == 1, values
            return list(values.values())[0]
        idle, busy = under(1, 1.0), under(8, 1.5)
    target = model["autoscaling"]["target"]
    assert idle < target < busy, (metric, idle, busy, target)
