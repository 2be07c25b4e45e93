# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
"""The encryption of an SQS queue as eks_llm.inference.sqs_queue_encryption reads and changes it.

Shared by that module and interruption_queue_drift_info, so that both decide the same way.
"""

# the queue attributes `current` reads
ENCRYPTION_ATTRIBUTES = ["SqsManagedSseEnabled", "KmsMasterKeyId"]


def current(attributes):
    """{encryption, kms_master_key_id} of a queue from its attributes."""
    key = attributes.get("KmsMasterKeyId") or None
    if key:
        return dict(encryption="sse-kms", kms_master_key_id=key)
    return dict(encryption="sse-sqs" if str(attributes.get("SqsManagedSseEnabled")).lower() == "true" else "none", kms_master_key_id=None)


def steps(before, after):
    """SetQueueAttributes calls that turn `before` into `after`: the old mode off first, then the new one on."""
    if before == after:
        return []
    calls = []
    if before["encryption"] == "sse-kms":
        calls.append({"KmsMasterKeyId": ""})
    elif before["encryption"] == "sse-sqs":
        calls.append({"SqsManagedSseEnabled": "false"})
    if after["encryption"] == "sse-kms":
        calls.append({"KmsMasterKeyId": after["kms_master_key_id"]})
    elif after["encryption"] == "sse-sqs":
        calls.append({"SqsManagedSseEnabled": "true"})
    if before["encryption"] == after["encryption"] == "sse-kms":
        calls = calls[1:]  # another key: set it directly, the queue stays encrypted
    return calls
