# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
"""The controller-side benchmark modules' fixture files (modules run in-process with utils.ModuleRunner).

The fixtures under fixtures/benchmark/ are the output of genai-perf 0.0.16 and AIPerf 0.13.0
themselves (run against a stand-in server; genai-perf with a stand-in perf_analyzer), with
the artifact, tokenizer and server paths replaced by production-looking ones. The tools write
their CSVs with CRLF line ends; the copies here have LF (ansible-test's line-endings rule),
they only show what the modules must not read.
"""

import os
import shutil


FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "benchmark")

GENAI_PERF_CHAT = os.path.join(FIXTURES, "genai_perf_chat")
GENAI_PERF_CHAT_FILE = os.path.join(
    GENAI_PERF_CHAT, "meta_llama-3.1-8b-instruct-openai-chat-concurrency64", "profile_export_genai_perf.json")
GENAI_PERF_COMPLETIONS = os.path.join(FIXTURES, "genai_perf_completions")
GENAI_PERF_KSERVE = os.path.join(FIXTURES, "genai_perf_kserve")
GENAI_PERF_GENERATE = os.path.join(FIXTURES, "genai_perf_generate")
AIPERF_CHAT = os.path.join(FIXTURES, "aiperf_chat")
AIPERF_COMPLETIONS = os.path.join(FIXTURES, "aiperf_completions")
TRUNCATED = os.path.join(FIXTURES, "truncated", "profile_export_genai_perf.json")
FOREIGN = os.path.join(FIXTURES, "foreign", "summary_lifecycle_metrics.json")


def copy_fixture(source, destination):
    shutil.copytree(source, destination)
    return str(destination)
