"""Stand-in for ansible-test's downloaded get-pip bootstrap script.

ansible-test fetches get-pip.py from ci-files.testing.ansible.com to put pip
into the empty virtual environments it creates; that host is not reachable
from our CI. Python already ships pip (ensurepip), so install that, then run
`pip install` with the arguments ansible-test passes (minus get-pip's own flags).
"""
import ensurepip
import os
import subprocess
import sys

GET_PIP_ONLY_FLAGS = {"--no-setuptools", "--no-wheel"}


def trust_system_certificates():
    """ansible-test runs pip with a sanitised environment, which drops PIP_CERT:
    keep using the machine's CA bundle (needed behind TLS-inspecting proxies)."""
    for bundle in (os.environ.get("PIP_CERT"), os.environ.get("SSL_CERT_FILE"), "/etc/ssl/certs/ca-certificates.crt"):
        if bundle and os.path.exists(bundle):
            with open(os.path.join(sys.prefix, "pip.conf"), "w") as config:
                config.write("[global]\ncert = %s\n" % bundle)
            return


def main():
    trust_system_certificates()
    ensurepip.bootstrap(upgrade=True)
    # ensurepip points PIP_CONFIG_FILE at /dev/null for itself; undo that for the real install.
    os.environ.pop("PIP_CONFIG_FILE", None)
    args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY_FLAGS]
    sys.exit(subprocess.call([sys.executable, "-m", "pip", "install"] + args))


if __name__ == "__main__":
    main()
