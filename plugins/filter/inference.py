# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
"""Filters exposing the inference layer's object model (plugins/module_utils/inference.py) to the roles."""

from ansible_collections.eks_llm.inference.plugins.module_utils import inference


def inference_plan(config, bucket, region):
    """Everything the inference layer should have for ``eks_llm``: objects per engine, releases, keys."""
    return inference.plan(config, bucket, region)


def inference_selector(config):
    """Label selector matching every object the inference layer created for this deployment."""
    return inference.selector(config)


def inference_stale(existing, keys, engines=None):
    """The labelled objects (k8s_info resources) that are not in the plan's keys, or whose workload changes engine."""
    return inference.stale(existing, keys, engines)


def inference_removal_order(remove, config):
    """inference_stale entries split into {before, after} the apply (a retagged NIM model's old cache goes after)."""
    return inference.removal_order(remove, config)


def inference_keep_sizes(objects, existing, engine=None):
    """Objects with the size of already existing PVCs kept (claims on EFS are neither shrunk nor grown); with
    engine, only the existing claims labelled with that engine count."""
    return inference.keep_existing_sizes(objects, existing, engine)


def inference_claim_key(ref):
    """'namespace/name' of a claim reference (PV spec.claimRef, or a PVC entry of inference_stale)."""
    ref = ref or {}
    return "%s/%s" % (ref.get("namespace", ""), ref["name"]) if ref.get("name") else ""


def inference_object_key(entry):
    """'Kind namespace/name' of an inference_stale entry, for reports."""
    return "%s %s/%s" % (entry["kind"], entry.get("namespace") or "", entry["name"])


def triton_model_json(model):
    """The vLLM engine arguments of a model (the content of 1/model.json)."""
    return inference.triton_model_json(model)


def inference_removal_phases(remove):
    """inference_stale entries grouped into deletion phases (serving, storage, credentials, namespaces)."""
    return inference.removal_phases(remove)


def inference_object_keys(objects):
    """'Kind/namespace/name' of listed Kubernetes objects, to compare with a phase's keys."""
    return inference.object_keys(objects)


def inference_secret_objects(secrets, config, data_by_name):
    """The plan's credential Secrets ([{namespace, name, type}]) as Secret objects with the data of their names."""
    return inference.secret_objects(config, secrets, data_by_name)


def inference_weights_problems(listings):
    """Why vLLM could not start from the S3 folders of the streamed models: the results of amazon.aws.s3_object
    mode=list looped over the plan's vllm_streamed (each with item and s3_keys); missing config.json, tokenizer or
    *.safetensors weights, one message each; [] when every folder can start vLLM."""
    return [problem for listing in listings for problem in inference.streamed_weights_problems(listing["item"], listing.get("s3_keys") or [])]


class FilterModule(object):
    def filters(self):
        return {
            "inference_plan": inference_plan,
            "inference_selector": inference_selector,
            "inference_stale": inference_stale,
            "inference_removal_order": inference_removal_order,
            "inference_keep_sizes": inference_keep_sizes,
            "inference_claim_key": inference_claim_key,
            "inference_object_key": inference_object_key,
            "inference_object_keys": inference_object_keys,
            "inference_removal_phases": inference_removal_phases,
            "triton_model_json": triton_model_json,
            "inference_secret_objects": inference_secret_objects,
            "inference_weights_problems": inference_weights_problems,
        }
