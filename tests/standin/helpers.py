"""Small helpers shared by the stand-in's own tests."""
import time

ROLE = "arn:aws:iam::123456789012:role/eks-cluster"
NODE_ROLE = "arn:aws:iam::123456789012:role/eks-node"
FAST = {"Delay": 0.02, "MaxAttempts": 750}  # waiter polling for replayed (scaled) operations


def error_code(excinfo):
    return excinfo.value.response["Error"]["Code"]


def until(predicate, timeout=15.0):
    """Poll predicate() until it is true (replayed operations end on their own)."""
    deadline = time.time() + timeout
    while not predicate():
        assert time.time() < deadline, "condition not reached in time"
        time.sleep(0.02)
