# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
"""Unit tests of eks_llm.inference.eks_kubeconfig: the files, their modes, check and diff mode, and the API probe
against a local HTTPS server (its own self-signed certificate is the cluster CA) that checks the bearer token the way
the API server does."""

import base64
import datetime
import http.server
import ipaddress
import json
import os
import ssl
import stat
import sys
import threading

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.eks_llm.inference.plugins.modules import eks_kubeconfig
from ansible_collections.eks_llm.inference.tests.unit.plugins.modules.utils import ModuleRunner

TOKEN = "k8s-aws-v1.unit-test-token"
# A stand-in for eks_exec_credential.py with its interface: CLUSTER REGION [STS_ENDPOINT] -> ExecCredential.
PLUGIN = '''import json, os, sys
if len(sys.argv) not in (3, 4) or os.environ.get("PLUGIN_FAILS"):
    sys.stderr.write("no credentials\\n")
    sys.exit(1)
print(json.dumps({"kind": "ExecCredential", "apiVersion": "client.authentication.k8s.io/v1beta1",
                  "status": {"token": os.environ.get("PLUGIN_TOKEN", %r)}}))
''' % TOKEN


class ApiServer(http.server.BaseHTTPRequestHandler):
    """GET /api/v1/namespaces/kube-system: 200 with the namespace for the right token, 401 otherwise."""

    def do_GET(self):  # noqa: N802 (http.server's name)
        if self.headers.get("Authorization") != "Bearer " + TOKEN:
            self.send_json(401, {"kind": "Status", "status": "Failure", "message": "Unauthorized", "code": 401})
        elif self.path != "/api/v1/namespaces/kube-system":
            self.send_json(404, {"kind": "Status", "code": 404})
        else:
            self.send_json(200, {"kind": "Namespace", "metadata": {"name": "kube-system", "uid": "uid-kube-system"}})

    def send_json(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):  # pylint: disable=arguments-differ
        pass


def self_signed(directory):
    """(certificate PEM, key path) for 127.0.0.1, the certificate being its own CA, as a cluster's serving chain."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kubernetes")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    pem = cert.public_bytes(serialization.Encoding.PEM)
    key_path, cert_path = os.path.join(directory, "server.key"), os.path.join(directory, "server.crt")
    with open(key_path, "wb") as handle:
        handle.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    with open(cert_path, "wb") as handle:
        handle.write(pem)
    return pem, cert_path, key_path


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """(endpoint URL, CA PEM) of a running HTTPS API server stand-in."""
    pem, cert_path, key_path = self_signed(str(tmp_path_factory.mktemp("tls")))
    httpd = http.server.HTTPServer(("127.0.0.1", 0), ApiServer)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield "https://127.0.0.1:%d" % httpd.server_port, pem
    httpd.shutdown()


@pytest.fixture
def endpoint(server):
    return server[0]


@pytest.fixture
def ca_pem(server):
    return server[1]


@pytest.fixture
def run():
    return ModuleRunner(eks_kubeconfig.main)


@pytest.fixture
def args(tmp_path, endpoint, ca_pem):
    return {"path": str(tmp_path / "kube" / "kubeconfig"), "cluster_name": "llm", "region": "us-west-2",
            "endpoint": endpoint, "certificate_authority_data": base64.b64encode(ca_pem).decode(),
            "credential_plugin_source": PLUGIN, "python": sys.executable, "sts_endpoint_url": "http://sts.local"}


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_writes_the_three_files_privately_probes_and_changes_nothing_the_second_time(run, args, tmp_path, ca_pem):
    first = run(args)
    kube = tmp_path / "kube"
    assert first["changed"] is True
    assert first["changed_files"] == sorted(str(p) for p in (kube, kube / "ca.crt", kube / "eks_exec_credential.py", kube / "kubeconfig"))
    assert first["probe"] == {"status": 200, "namespace_uid": "uid-kube-system"}
    assert (mode(kube), mode(kube / "kubeconfig"), mode(kube / "ca.crt"), mode(kube / "eks_exec_credential.py")) == (0o700, 0o600, 0o644, 0o755)
    assert (kube / "ca.crt").read_bytes() == ca_pem
    assert (kube / "eks_exec_credential.py").read_text() == PLUGIN
    config = yaml.safe_load((kube / "kubeconfig").read_text())
    assert config["current-context"] == "llm"
    assert config["clusters"] == [{"name": "llm", "cluster": {"server": args["endpoint"], "certificate-authority": str(kube / "ca.crt")}}]
    assert config["users"][0]["user"]["exec"] == {
        "apiVersion": "client.authentication.k8s.io/v1beta1", "interactiveMode": "Never", "command": sys.executable,
        "args": [str(kube / "eks_exec_credential.py"), "llm", "us-west-2", "http://sts.local"]}
    second = run(args)
    assert second["changed"] is False and second["changed_files"] == []
    assert second["probe"]["status"] == 200


def test_no_sts_endpoint_means_the_plugin_gets_two_arguments(run, args, tmp_path):
    run(dict(args, sts_endpoint_url=""))
    config = yaml.safe_load((tmp_path / "kube" / "kubeconfig").read_text())
    assert config["users"][0]["user"]["exec"]["args"][1:] == ["llm", "us-west-2"]


def test_check_mode_writes_nothing_and_skips_the_probe_of_files_that_are_not_there(run, args, tmp_path):
    result = run(args, check_mode=True)
    assert result["changed"] is True and len(result["changed_files"]) == 4
    assert result["probe"] == {}
    assert not (tmp_path / "kube").exists()


def test_check_mode_probes_when_nothing_would_change(run, args):
    run(args)
    result = run(args, check_mode=True)
    assert result["changed"] is False and result["probe"]["status"] == 200


def test_a_new_endpoint_changes_the_kubeconfig_only_and_diff_shows_it_but_never_the_plugin(run, args, tmp_path, endpoint):
    run(args)
    moved = dict(args, endpoint=endpoint + "/")
    result = run(moved, diff=True)
    assert result["changed_files"] == [str(tmp_path / "kube" / "kubeconfig")]
    assert [d["after_header"] for d in result["diff"]] == [str(tmp_path / "kube" / "kubeconfig")]
    assert endpoint + "/" in result["diff"][0]["after"] and "server: %s\n" % endpoint in result["diff"][0]["before"]
    plugin_changed = run(dict(moved, credential_plugin_source=PLUGIN + "\n# v2\n"), diff=True)
    assert plugin_changed["changed_files"] == [str(tmp_path / "kube" / "eks_exec_credential.py")]
    assert plugin_changed["diff"] == []


def test_modes_are_put_back(run, args, tmp_path):
    run(args)
    kube = tmp_path / "kube"
    os.chmod(kube / "kubeconfig", 0o644)
    os.chmod(kube, 0o755)
    result = run(args)
    assert result["changed_files"] == [str(kube), str(kube / "kubeconfig")]
    assert (mode(kube), mode(kube / "kubeconfig")) == (0o700, 0o600)


def test_the_mode_of_a_directory_that_is_not_ours_is_left_alone(run, args, tmp_path, ca_pem):
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    os.chmod(shared, 0o755)
    result = run(dict(args, ca_file=str(shared / "cluster-ca.pem")))
    assert str(shared) not in result["changed_files"] and mode(shared) == 0o755
    assert (shared / "cluster-ca.pem").read_bytes() == ca_pem


def test_a_refused_token_fails_with_the_api_servers_answer(run, args, monkeypatch):
    monkeypatch.setenv("PLUGIN_TOKEN", "k8s-aws-v1.someone-else")
    result = run.failing(args)
    assert "refused our EKS token: HTTP 401" in result["msg"] and '"message": "Unauthorized"' in result["msg"]
    assert "access entry" in result["msg"] and result["probe"] == {"status": 401}


def test_a_failing_plugin_fails_with_its_message(run, args, monkeypatch):
    monkeypatch.setenv("PLUGIN_FAILS", "1")
    assert run.failing(args)["msg"] == "The EKS credential plugin failed (exit 1): no credentials"


def test_an_unreachable_api_fails_naming_it(run, args):
    result = run.failing(dict(args, endpoint="https://127.0.0.1:1", probe_timeout=5))
    assert result["msg"].startswith("The Kubernetes API at https://127.0.0.1:1 did not answer")


def test_a_certificate_the_ca_did_not_sign_is_refused(run, args, tmp_path):
    other_pem = self_signed(str(tmp_path))[0]
    result = run.failing(dict(args, certificate_authority_data=base64.b64encode(other_pem).decode()))
    assert "did not answer" in result["msg"] and "CERTIFICATE_VERIFY_FAILED" in result["msg"]


def test_probe_off_and_bad_ca_data(run, args):
    assert run(dict(args, endpoint="https://127.0.0.1:1", probe=False))["probe"] == {}
    assert run.failing(dict(args, certificate_authority_data="not base64!"))["msg"] == "certificate_authority_data is not base64"
