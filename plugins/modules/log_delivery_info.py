#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE), which is compatible with the
# GNU General Public License v3.0 that Ansible itself is distributed under.

DOCUMENTATION = r"""
---
module: log_delivery_info
short_description: Read whether log lines reached a CloudWatch Logs group recently
version_added: 0.1.0
description:
  - Reads the newest events of a log group (optionally only of streams with a prefix) from the last O(within_seconds),
    to prove that a log shipper (Fluent Bit) really delivers - a DaemonSet that runs without usable AWS credentials
    ships nothing and says so only in its own log.
  - Read-only (C(FilterLogEvents)); never changes anything.
options:
  log_group_name:
    description: Name of the log group.
    type: str
    required: true
  log_stream_prefix:
    description: Only streams whose names start with this prefix (for example C(fluentbit-)).
    type: str
    default: ''
  within_seconds:
    description: How far back an event counts as recent.
    type: int
    default: 300
author:
  - eks_llm maintainers (@eks-llm)
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Wait until container logs arrive
  eks_llm.inference.log_delivery_info:
    log_group_name: /aws/eks/demo/workloads
    log_stream_prefix: fluentbit-
    within_seconds: 300
  register: logs
  until: logs.recent_events > 0
  retries: 12
  delay: 10
"""

RETURN = r"""
exists:
  description: Whether the log group exists.
  returned: always
  type: bool
recent_events:
  description: Number of events (up to 50) in the window.
  returned: always
  type: int
  sample: 12
streams:
  description: Names of the streams those events came from.
  returned: always
  type: list
  elements: str
  sample: ["fluentbit-fluent-bit-x7k2p"]
newest_age_seconds:
  description: Age of the newest event in the window, V(null) when there is none.
  returned: always
  type: float
"""

import time

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

from ansible_collections.eks_llm.inference.plugins.module_utils.common import AnsibleEKSModule

MAX_EVENTS = 50


def recent(client, group, prefix, within_seconds, now=None):
    now = time.time() if now is None else now
    request = dict(logGroupName=group, startTime=int((now - within_seconds) * 1000), limit=MAX_EVENTS)
    if prefix:
        request["logStreamNamePrefix"] = prefix
    try:
        events = client.filter_log_events(aws_retry=True, **request).get("events", [])
    except is_boto3_error_code("ResourceNotFoundException"):
        return dict(exists=False, recent_events=0, streams=[], newest_age_seconds=None)
    newest = max([e["timestamp"] for e in events] or [0])
    return dict(exists=True, recent_events=len(events), streams=sorted(set(e["logStreamName"] for e in events)),
                newest_age_seconds=round(now - newest / 1000.0, 1) if events else None)


def main():
    module = AnsibleEKSModule(
        argument_spec=dict(
            log_group_name=dict(type="str", required=True),
            log_stream_prefix=dict(type="str", default=""),
            within_seconds=dict(type="int", default=300),
        ),
        supports_check_mode=True,
    )
    if module.params["within_seconds"] < 1:
        module.fail_json(msg="within_seconds must be at least 1")
    client = module.retrying_client("logs")
    read = AWSErrorHandler.common_error_handler("read the events of %s" % module.params["log_group_name"])(recent)
    try:
        result = read(client, module.params["log_group_name"], module.params["log_stream_prefix"], module.params["within_seconds"])
    except AnsibleAWSError as error:
        module.fail_json_aws_error(error)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
