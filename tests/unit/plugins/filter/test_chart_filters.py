"""chart_archive: finds one chart version's archive in a Helm repository index."""
import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.eks_llm.inference.plugins.filter.charts import chart_archive

INDEX = """
apiVersion: v1
entries:
  nim-llm:
  - {name: nim-llm, version: 1.7.0, digest: abc, urls: [charts/nim-llm-1.7.0.tgz]}
  - {name: nim-llm, version: 1.3.0, digest: def, urls: ["https://cdn.example/nim-llm-1.3.0.tgz"]}
"""


def test_relative_and_absolute_archive_urls():
    assert chart_archive(INDEX, "https://helm.ngc.nvidia.com/nim", "nim-llm", "1.7.0") == {
        "url": "https://helm.ngc.nvidia.com/nim/charts/nim-llm-1.7.0.tgz", "digest": "abc", "file": "nim-llm-1.7.0.tgz"}
    assert chart_archive(INDEX, "https://helm.ngc.nvidia.com/nim/", "nim-llm", "1.3.0")["url"] == "https://cdn.example/nim-llm-1.3.0.tgz"


def test_a_version_not_in_the_index_is_named():
    with pytest.raises(AnsibleFilterError, match="nim-llm version 9.9.9 is not in the index of .*versions there: 1.3.0, 1.7.0"):
        chart_archive(INDEX, "https://helm.ngc.nvidia.com/nim", "nim-llm", "9.9.9")
