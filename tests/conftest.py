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
