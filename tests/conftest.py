"""Make the collection importable as ansible_collections.eks_llm.inference in tests.

`make setup` links the repository into .cache/collections; the bundled
amazon.aws / community.aws / kubernetes.core come from site-packages and the
two `ansible_collections` namespace portions merge.
"""
import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.path.join(REPO, ".cache", "collections")
LINK = os.path.join(COLLECTIONS, "ansible_collections", "eks_llm", "inference")

if not os.path.islink(LINK):
    os.makedirs(os.path.dirname(LINK), exist_ok=True)
    os.symlink(REPO, LINK)
if COLLECTIONS not in sys.path:
    sys.path.insert(0, COLLECTIONS)


def _share_botocore_models():
    """Every test that mocks AWS starts a new boto3 session (moto resets the default one), and each session parses
    the service models' JSON again (~0.15 s for EC2). The loaded data is read-only to botocore (one loader already
    hands the same object to every client), so the tests' process parses each file once."""
    try:
        from botocore import loaders  # pylint: disable=import-outside-toplevel
    except ImportError:
        return
    parsed = {}
    load_file = loaders.JSONFileLoader.load_file

    def load_file_once(self, file_path):
        if file_path not in parsed:
            parsed[file_path] = load_file(self, file_path)
        return parsed[file_path]
    loaders.JSONFileLoader.load_file = load_file_once


_share_botocore_models()
