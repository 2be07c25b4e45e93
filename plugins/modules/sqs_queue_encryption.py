#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE), which is compatible with the
# GNU General Public License v3.0 that Ansible itself is distributed under.

DOCUMENTATION = r"""
---
module: sqs_queue_encryption
short_description: Set the server-side encryption of an existing Amazon SQS queue (SSE-SQS, SSE-KMS or none)
version_added: 0.1.0
description:
  - Sets how an existing SQS queue encrypts its messages at rest - with SQS-managed keys (SSE-SQS,
    C(SqsManagedSseEnabled)), with a KMS key (SSE-KMS, C(KmsMasterKeyId)) or not at all - and turns the other mode off.
  - M(community.aws.sqs_queue) (10.x) can set a KMS key but not SSE-SQS, and does not turn SSE-KMS off when its
    O(community.aws.sqs_queue#module:kms_master_key_id) is removed; create the queue with it and set the encryption
    with this module.
  - EventBridge can deliver to an SSE-SQS queue, but to an SSE-KMS queue only when the key policy lets
    C(events.amazonaws.com) use the key, which the AWS managed key C(alias/aws/sqs) never does.
  - The current mode is read first and changed only where it differs, so a repeated run reports no change.
author:
  - eks_llm maintainers (@eks-llm)
options:
  name:
    description:
      - Name of the queue. It must exist.
    type: str
    required: true
  encryption:
    description:
      - V(sse-sqs) encrypts with SQS-managed keys, V(sse-kms) with the key O(kms_master_key_id), V(none) not at all.
    type: str
    choices: ['sse-sqs', 'sse-kms', 'none']
    default: sse-sqs
  kms_master_key_id:
    description:
      - Id, ARN, alias name or alias ARN of the KMS key, compared as given with what the queue holds.
      - Required with O(encryption=sse-kms); not allowed otherwise.
    type: str
notes:
  - Supports check mode and diff mode.
  - Switching between modes turns the old one off first, then the new one on (two C(SetQueueAttributes) calls).
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Create the queue
  community.aws.sqs_queue:
    name: llm-karpenter
    message_retention_period: 300

- name: Encrypt it with SQS-managed keys (EventBridge can deliver to it)
  eks_llm.inference.sqs_queue_encryption:
    name: llm-karpenter
    encryption: sse-sqs

- name: Encrypt another queue with a customer managed key
  eks_llm.inference.sqs_queue_encryption:
    name: audit-events
    encryption: sse-kms
    kms_master_key_id: alias/audit-events
"""

RETURN = r"""
queue_url:
  description: URL of the queue.
  returned: always
  type: str
  sample: https://sqs.us-west-2.amazonaws.com/123456789012/llm-karpenter
encryption:
  description: Encryption of the queue after the run (V(sse-sqs), V(sse-kms) or V(none)).
  returned: always
  type: str
  sample: sse-sqs
kms_master_key_id:
  description: KMS key of an SSE-KMS queue after the run, else V(null).
  returned: always
  type: str
diff:
  description: Encryption and key before and after, with C(--diff).
  returned: when diff mode is on
  type: dict
"""

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

from ansible_collections.eks_llm.inference.plugins.module_utils.common import AnsibleEKSModule
from ansible_collections.eks_llm.inference.plugins.module_utils.sqs_encryption import ENCRYPTION_ATTRIBUTES
from ansible_collections.eks_llm.inference.plugins.module_utils.sqs_encryption import current
from ansible_collections.eks_llm.inference.plugins.module_utils.sqs_encryption import steps


def run(module, client):
    params = module.params
    try:
        url = client.get_queue_url(aws_retry=True, QueueName=params["name"])["QueueUrl"]
    except is_boto3_error_code(["AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"]):
        module.fail_json(msg="Queue %s does not exist; create it first (community.aws.sqs_queue)" % params["name"])
    attributes = client.get_queue_attributes(aws_retry=True, QueueUrl=url, AttributeNames=ENCRYPTION_ATTRIBUTES)
    before = current(attributes.get("Attributes", {}))
    after = dict(encryption=params["encryption"], kms_master_key_id=params["kms_master_key_id"] if params["encryption"] == "sse-kms" else None)
    calls = steps(before, after)
    if not module.check_mode:
        for call in calls:
            client.set_queue_attributes(aws_retry=True, QueueUrl=url, Attributes=call)
    result = dict(changed=bool(calls), queue_url=url, **after)
    if module._diff:
        result["diff"] = dict(before=before, after=after)
    return result


def main():
    module = AnsibleEKSModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            encryption=dict(type="str", default="sse-sqs", choices=["sse-sqs", "sse-kms", "none"]),
            kms_master_key_id=dict(type="str"),
        ),
        required_if=[("encryption", "sse-kms", ("kms_master_key_id",))],
        supports_check_mode=True,
    )
    if module.params["kms_master_key_id"] and module.params["encryption"] != "sse-kms":
        module.fail_json(msg="kms_master_key_id is only allowed with encryption=sse-kms")
    client = module.retrying_client("sqs")
    read_or_set = AWSErrorHandler.common_error_handler("read or set the encryption of queue %s" % module.params["name"])(run)
    try:
        result = read_or_set(module, client)
    except AnsibleAWSError as error:
        module.fail_json_aws_error(error)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
