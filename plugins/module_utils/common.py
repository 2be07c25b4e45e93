# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
"""Shared plumbing for the eks_llm.inference AWS modules.

Every module of the collection subclasses :class:`AnsibleEKSModule` so that the
user-agent names this collection, and uses :func:`wait_until` for the long AWS
operations that have no botocore waiter (cluster updates, EFS mount targets).
"""

import time

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.botocore import paginated_query_with_retries
from ansible_collections.amazon.aws.plugins.module_utils.common import set_collection_info
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags

from ansible_collections.eks_llm.inference.plugins.module_utils.versions import COLLECTION_NAME
from ansible_collections.eks_llm.inference.plugins.module_utils.versions import COLLECTION_VERSION


# Throttling and eventual-consistency errors that every call of ours retries.
RETRY_EXTRA_CODES = [
    "ThrottlingException",
    "TooManyRequestsException",
    "ServerException",
    "ServiceUnavailableException",
]


def aws_retry():
    """The retry decorator used for every client of this collection."""
    return AWSRetry.jittered_backoff(retries=10, delay=2, max_delay=30, catch_extra_error_codes=RETRY_EXTRA_CODES)


def list_all(client, operation, result_key, **params):
    """Every ``result_key`` item over all pages of ``operation``, through botocore's paginator; the listing is retried
    as a whole on throttling and transient errors (amazon.aws's paginated_query_with_retries, with aws_retry)."""
    return paginated_query_with_retries(client, operation, retry_decorator=aws_retry(), **params).get(result_key) or []


class AnsibleEKSModule(AnsibleAWSModule):
    """AnsibleAWSModule that reports this collection in the user agent."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        set_collection_info(collection_name=COLLECTION_NAME, collection_version=COLLECTION_VERSION)

    def retrying_client(self, service):
        return self.client(service, retry_decorator=aws_retry())


class NotFoundErrorHandler(AWSErrorHandler):
    """Error handler for EKS, EFS and Service Quotas: missing means ResourceNotFound / *NotFound.

    Other botocore errors raise AnsibleAWSError (amazon.aws's AWSErrorHandler default), which the modules catch in
    ``main()`` and report with ``module.fail_json_aws_error``.
    """

    @classmethod
    def _is_missing(cls):
        return is_boto3_error_code(
            [
                "ResourceNotFoundException",
                "NoSuchResourceException",
                "FileSystemNotFound",
                "MountTargetNotFound",
                "AccessPointNotFound",
                "PolicyNotFound",
            ]
        )


class WaitTimeout(Exception):
    """Raised by :func:`wait_until` when the deadline passes."""


def wait_until(fetch, done, timeout, delay=5, failed=None, sleep=time.sleep, clock=time.monotonic):
    """Poll ``fetch()`` until ``done(value)`` is true or ``timeout`` seconds pass.

    ``failed(value)`` may return a message to stop early (a terminal failure
    state). Returns the last fetched value; raises :class:`WaitTimeout`
    carrying the last value when the deadline passes.
    """
    deadline = clock() + timeout
    while True:
        value = fetch()
        if done(value):
            return value
        if failed is not None:
            message = failed(value)
            if message:
                raise WaitTimeout(message)
        if clock() >= deadline:
            raise WaitTimeout("timed out after %ss waiting; last state: %s" % (timeout, value))
        sleep(min(delay, max(0.0, deadline - clock())) or delay)


def waiter_config(timeout, delay):
    """botocore WaiterConfig for a timeout in seconds."""
    delay = max(1, int(delay))
    return {"Delay": delay, "MaxAttempts": 1 + int(timeout / delay)}


def tags_after(current, wanted, purge):
    """The tags a resource has once amazon.aws's compare_aws_tags(current, wanted, purge) is applied (``wanted=None``
    leaves them as they are)."""
    current = dict(current or {})
    if wanted is None:
        return current
    to_set, to_remove = compare_aws_tags(current, wanted, purge_tags=purge)
    return tags_changed_by(current, to_set, to_remove)


def tags_changed_by(current, to_set, to_remove):
    """The tags ``current`` becomes once compare_aws_tags' answer (``to_set``, ``to_remove``) is applied."""
    after = dict((key, value) for key, value in (current or {}).items() if key not in to_remove)
    after.update(to_set)
    return after


class ListEntry:
    """The module as a single-resource ``run(module, client)`` sees it, for one entry of a list option (e.g. eks_addon's
    ``addons``): the entry's options over the module's shared ones. An entry option left unset takes the module's value
    when it is one of ``inherited``; every other unset option stays unset, as in a call without it."""

    def __init__(self, module, list_option, entry, inherited=()):
        self.module = module
        self.params = {key: value for key, value in module.params.items() if key != list_option}
        self.params.update((key, value) for key, value in entry.items() if value is not None or key not in inherited)
        self.check_mode = module.check_mode
        self._diff = module._diff

    def fail_json(self, **kwargs):
        self.module.fail_json(entry=self.params["name"], **kwargs)


def run_entries(module, client, run, list_option, result_key, inherited=()):
    """Each entry of ``list_option`` in turn, exactly as its own module call would run it: one process for all.

    Returns the module result: changed when any entry changed, ``<list_option>`` with each entry's name, changed and
    ``result_key`` value, and with --diff one diff per entry, headed by its name. A failing entry fails the module
    (its result names the entry); the entries before it stay done, as in a loop that stops at the failure."""
    results = []
    for entry in module.params[list_option]:
        results.append((entry["name"], run(ListEntry(module, list_option, entry, inherited), client)))
    combined = {
        "changed": any(result["changed"] for dummy, result in results),
        list_option: [dict(name=name, changed=result["changed"], **{result_key: result[result_key]}) for name, result in results],
    }
    if module._diff:
        combined["diff"] = [dict(result["diff"], before_header=name, after_header=name) for name, result in results]
    return combined


def tag_differences(current, to_set, to_remove):
    """Short phrases naming the tags a write would set (``missing`` or ``differs``) and remove (``not wanted``)."""
    current = current or {}
    return (["tag %s %s" % (key, "differs" if key in current else "missing") for key in sorted(to_set)]
            + ["tag %s not wanted" % key for key in sorted(to_remove)])
