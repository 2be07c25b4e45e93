# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
"""as_records: turn a list of values into a list of dicts, e.g. subnet ids into mount target specs.

ansible-core 2.19 no longer turns a rendered string back into a list, so the
`{% for %}` idiom does not build data; this filter does, in one expression.
"""


def as_records(values, key, **fields):
    """Turn a list of values into a list of dicts, each value under ``key`` beside the same extra fields.

    ``[v1, v2] | as_records('subnet_id', security_groups=[sg])`` gives
    ``[{'subnet_id': v1, 'security_groups': [sg]}, {'subnet_id': v2, 'security_groups': [sg]}]``.
    """
    return [dict(fields, **{key: value}) for value in values]


class FilterModule(object):
    def filters(self):
        return {"as_records": as_records}
