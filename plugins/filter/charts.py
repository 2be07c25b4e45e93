# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
"""Filters for charts fetched from a chart repository that needs credentials (NGC's private orgs)."""

import posixpath

from ansible.errors import AnsibleFilterError
from ansible.module_utils.six.moves.urllib.parse import urljoin

try:
    import yaml
except ImportError:  # pragma: no cover - PyYAML comes with ansible-core
    yaml = None


def chart_archive(index, repo_url, chart, version):
    """{url, digest, file} of one chart version in a Helm repository index (its text or the parsed dict).

    Relative archive URLs are resolved against the repository URL, as helm does.
    """
    if isinstance(index, str):
        index = yaml.safe_load(index)
    entries = ((index or {}).get("entries") or {}).get(chart) or []
    found = [e for e in entries if str(e.get("version")) == str(version)]
    if not found or not found[0].get("urls"):
        raise AnsibleFilterError("chart %s version %s is not in the index of %s (versions there: %s)"
                                 % (chart, version, repo_url, ", ".join(sorted(str(e.get("version")) for e in entries)) or "none"))
    url = urljoin(repo_url.rstrip("/") + "/", found[0]["urls"][0])
    return {"url": url, "digest": found[0].get("digest") or "", "file": posixpath.basename(url.split("?", 1)[0])}


class FilterModule(object):
    def filters(self):
        return {"chart_archive": chart_archive}
