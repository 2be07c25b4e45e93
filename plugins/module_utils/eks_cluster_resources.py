# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
"""Helpers for the resources that live inside an EKS cluster: add-ons, access entries, pod identity associations.

Shared by the modules eks_addon, eks_access_entry and eks_pod_identity_association (the cluster itself and its
node groups: eks_cluster_utils). These three resources have the same shape on the EKS API: a describe call
that raises ``ResourceNotFoundException`` when the resource is absent, an ARN
that takes ``tag_resource``/``untag_resource``, and list calls paginated with
``nextToken``.
"""

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

from ansible_collections.eks_llm.inference.plugins.module_utils.common import NotFoundErrorHandler
from ansible_collections.eks_llm.inference.plugins.module_utils.common import tags_diff


class EKSErrorHandler(NotFoundErrorHandler):
    """NotFoundErrorHandler that raises AnsibleAWSError on real failures.

    ``NotFoundErrorHandler`` leaves ``_CUSTOM_EXCEPTION`` unset, so its
    decorators can only report "missing"; any other error would surface as a
    ``TypeError``. The modules catch :class:`AnsibleAWSError` in ``main()`` and
    hand it to ``module.fail_json_aws``.
    """

    _CUSTOM_EXCEPTION = AnsibleAWSError


def fail_aws_error(module, error):
    """Report an :class:`AnsibleAWSError` raised by an EKSErrorHandler decorator."""
    if error.exception is not None:
        module.fail_json_aws(error.exception, msg=error.message)
    module.fail_json(msg=error.message)


def paginate(method, result_key, **kwargs):
    """Collect ``result_key`` over every page of a ``nextToken`` EKS list call.

    ``method`` is a method of a retrying client; each page is retried.
    """
    items = []
    while True:
        page = method(aws_retry=True, **kwargs)
        items.extend(page.get(result_key) or [])
        token = page.get("nextToken")
        if not token:
            return items
        kwargs["nextToken"] = token


def resource_to_ansible(resource, extra_ignore=()):
    """snake_case copy of an EKS resource, keeping tag keys as they are."""
    if not resource:
        return {}
    return camel_dict_to_snake_dict(resource, ignore_list=["tags"] + list(extra_ignore))


@EKSErrorHandler.common_error_handler("update tags")
def ensure_tags(client, check_mode, arn, current, wanted, purge):
    """Bring the tags of ``arn`` to ``wanted``; ``wanted=None`` leaves them alone.

    Returns ``(changed, tags_after)``.
    """
    current = dict(current or {})
    if wanted is None:
        return False, current
    to_set, to_remove = tags_diff(current, wanted, purge=purge)
    if not to_set and not to_remove:
        return False, current
    if not check_mode:
        if to_remove:
            client.untag_resource(resourceArn=arn, tagKeys=to_remove, aws_retry=True)
        if to_set:
            client.tag_resource(resourceArn=arn, tags=to_set, aws_retry=True)
    after = {k: v for k, v in current.items() if k not in to_remove}
    after.update(to_set)
    return True, after
