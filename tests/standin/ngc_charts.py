"""Stand-in for NGC's private Helm chart repositories (https://helm.ngc.nvidia.com/<org>, every org but `nvidia`).

Serves ``/<org>/index.yaml`` and ``/<org>/charts/<name>-<version>.tgz`` (relative URLs in the index, as a chart
repository may have) for stand-in charts packaged with ``helm package`` at start. Like NGC, it refuses anonymous
pulls: every request needs HTTP Basic auth with the user ``$oauthtoken`` and an NGC API key as password (exactly
``key`` when one is set, otherwise any ``nvapi-...`` key); anything else gets 401.

    with NgcChartRepo(["tests/standin/charts/nim-llm"], org="nim") as repo:
        repo.url   # http://127.0.0.1:<port>/nim  -> eks_llm_chart_overrides: {nim-llm: {repo_url: ...}}
"""
import base64
import hmac
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

NGC_USER = "$oauthtoken"
NGC_KEY_PREFIX = "nvapi-"


def _helm():
    beside_python = os.path.join(os.path.dirname(sys.executable), "helm")
    return beside_python if os.access(beside_python, os.X_OK) else (shutil.which("helm") or "helm")


class NgcChartRepo(object):
    def __init__(self, chart_dirs, org="nim", key=None):
        self.chart_dirs = list(chart_dirs)
        self.org = org
        self.key = key
        self.served = []    # paths answered with 200
        self.refused = []   # (path, reason) answered with 401
        self._dir = None
        self._server = None
        self._thread = None

    @property
    def url(self):
        return "http://127.0.0.1:%d/%s" % (self._server.server_address[1], self.org)

    def check(self, header):
        """None when the Authorization header carries NGC credentials, else why not."""
        if not header or not header.startswith("Basic "):
            return "anonymous"
        try:
            user, dummy, password = base64.b64decode(header[6:]).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            return "malformed Basic credentials"
        if user != NGC_USER:
            return "user is not %s" % NGC_USER
        if self.key is not None:
            return None if hmac.compare_digest(password, self.key) else "not the configured NGC key"
        return None if password.startswith(NGC_KEY_PREFIX) and len(password) > len(NGC_KEY_PREFIX) else "not an NGC key"

    def start(self):
        self._dir = tempfile.mkdtemp(prefix="ngc-charts-")
        charts = os.path.join(self._dir, "charts")
        os.mkdir(charts)
        for chart in self.chart_dirs:
            subprocess.run([_helm(), "package", chart, "--destination", charts], check=True, capture_output=True)
        # no --url: the index lists charts/<name>-<version>.tgz relative to the repository
        subprocess.run([_helm(), "repo", "index", self._dir], check=True, capture_output=True)
        repo = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                prefix = "/%s/" % repo.org
                path = self.path.split("?", 1)[0]
                why = repo.check(self.headers.get("Authorization"))
                if why:
                    repo.refused.append((path, why))
                    self._answer(401, b'{"error": "Authentication required"}', "application/json",
                                 {"WWW-Authenticate": 'Basic realm="NGC stand-in"'})
                    return
                relative = path[len(prefix):] if path.startswith(prefix) else ""
                target = os.path.normpath(os.path.join(repo._dir, relative))
                if not relative or not target.startswith(repo._dir + os.sep) or not os.path.isfile(target):
                    self._answer(404, b"not found", "text/plain")
                    return
                with open(target, "rb") as handle:
                    body = handle.read()
                repo.served.append(path)
                self._answer(200, body, "application/x-yaml" if target.endswith(".yaml") else "application/gzip")

            def _answer(self, status, body, content_type, headers=None):
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):  # quiet
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="ngc-charts", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._dir:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
