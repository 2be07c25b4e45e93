"""The NGC chart repository stand-in refuses anonymous pulls and serves the stand-in chart to NGC credentials."""
import base64
import os
import urllib.error
import urllib.request

import pytest
import yaml

from tests.standin.ngc_charts import NgcChartRepo

CHART = os.path.join(os.path.dirname(os.path.abspath(__file__)), "charts", "nim-llm")
KEY = "nvapi-" + "STANDINTEST-" + "0123456789" * 2


@pytest.fixture(scope="module")
def repo():
    with NgcChartRepo([CHART], org="nim") as running:
        yield running


def get(url, user=None, password=None):
    request = urllib.request.Request(url)
    if user is not None:
        request.add_header("Authorization", "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode())
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_anonymous_and_wrong_credentials_get_401(repo):
    assert get(repo.url + "/index.yaml")[0] == 401
    assert get(repo.url + "/index.yaml", "admin", KEY)[0] == 401
    assert get(repo.url + "/index.yaml", "$oauthtoken", "not-a-key")[0] == 401
    assert get(repo.url + "/charts/nim-llm-1.7.0.tgz")[0] == 401
    assert ("/nim/index.yaml", "anonymous") in repo.refused


def test_ngc_credentials_get_the_index_and_the_chart(repo):
    status, body = get(repo.url + "/index.yaml", "$oauthtoken", KEY)
    assert status == 200
    entry = yaml.safe_load(body)["entries"]["nim-llm"][0]
    assert entry["version"] == "1.7.0" and entry["urls"] == ["charts/nim-llm-1.7.0.tgz"] and entry["digest"]
    status, archive = get(repo.url + "/" + entry["urls"][0], "$oauthtoken", KEY)
    assert status == 200 and archive[:2] == b"\x1f\x8b"
    assert get(repo.url + "/../../etc/passwd", "$oauthtoken", KEY)[0] == 404


def test_a_configured_key_is_the_only_one_accepted(repo):
    repo.key = KEY
    try:
        assert get(repo.url + "/index.yaml", "$oauthtoken", "nvapi-someone-else")[0] == 401
        assert get(repo.url + "/index.yaml", "$oauthtoken", KEY)[0] == 200
    finally:
        repo.key = None
