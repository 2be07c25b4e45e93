"""Pinned images that must be the upstream project's own, checked against facts read from its sources
(tests/upstream): a wrong repository path only shows on a real cluster, as an ImagePullBackOff."""
import json
import os
import re

from ansible_collections.eks_llm.inference.plugins.module_utils import versions

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def upstream(name):
    with open(os.path.join(REPO, "tests", "upstream", name), encoding="utf-8") as handle:
        return json.load(handle)


def test_the_in_cluster_aiperf_image_is_aiperfs_own_at_the_controllers_release():
    fact = upstream("aiperf_image.json")
    repository, tag = versions.IMAGES["aiperf"].rsplit(":", 1)
    assert repository == fact["repository"]
    assert re.match(fact["tag_pattern"], tag), tag
    # the Jobs run the release the controller's `make aiperf` installs, so both parse into the same result model
    with open(os.path.join(REPO, "Makefile"), encoding="utf-8") as handle:
        (controller_release,) = re.findall(r"^AIPERF_VERSION := (\S+)$", handle.read(), re.M)
    assert tag == controller_release
