"""workload_identity_info's exchange of one service account: which prefix it reads, what each failing step says."""
import botocore.exceptions

from ansible_collections.eks_llm.inference.plugins.modules import workload_identity_info

ROLE = "arn:aws:iam::123456789012:role/demo-vllm-model-reader"


class Answer(object):
    def __init__(self, body):
        self.body = body

    def to_dict(self):
        return self.body


class Kube(object):
    """The two API server calls: the service account (with or without IRSA's annotation) and its TokenRequest."""

    def __init__(self, annotations):
        self.annotations = annotations
        self.calls = []

    def request(self, method, path, body=None):
        self.calls.append((method, path))
        if path.endswith("/token"):
            assert body["spec"]["audiences"] == ["sts.amazonaws.com"]
            return Answer({"status": {"token": "projected-token"}})
        return Answer({"metadata": {"annotations": self.annotations}})


class S3(object):
    def __init__(self, keys):
        self.keys = keys
        self.listed = []

    def list_objects_v2(self, Bucket, Prefix, MaxKeys):
        self.listed.append((Bucket, Prefix))
        return {"Contents": [{"Key": k} for k in self.keys if k.startswith(Prefix)][:MaxKeys]}

    def get_object(self, Bucket, Key, Range):
        class Body(object):
            def read(self):
                return b"{"
        return {"Body": Body()}


class Sts(object):
    def __init__(self, refuse=False):
        self.refuse = refuse

    def assume_role_with_web_identity(self, **kwargs):
        if self.refuse:
            raise botocore.exceptions.ClientError({"Error": {"Code": "AccessDenied", "Message": "Not authorized to perform sts:AssumeRoleWithWebIdentity"}},
                                                  "AssumeRoleWithWebIdentity")
        assert kwargs["RoleArn"] == ROLE and kwargs["WebIdentityToken"] == "projected-token"
        return {"Credentials": {"AccessKeyId": "a", "SecretAccessKey": "b", "SessionToken": "c"}}


def aws_of(s3, sts):
    return {"sts": sts, "config": None, "session": lambda credentials: type("Session", (), {"client": lambda self, *a, **k: s3})()}


PARAMS = {"bucket": "demo-models", "prefix": "triton/model_repository/", "audience": "sts.amazonaws.com", "region": "us-west-2", "endpoint_url": None}
KEYS = ["triton/model_repository/opt/config.pbtxt", "models/qwen/config.json"]


def test_an_entry_with_its_own_prefix_reads_that_folder_the_others_the_modules_prefix():
    s3 = S3(KEYS)
    kube = Kube({"eks.amazonaws.com/role-arn": ROLE})
    own = workload_identity_info.check_one(kube, aws_of(s3, Sts()), {"namespace": "vllm", "service_account": "vllm", "prefix": "models/qwen/"}, PARAMS)
    shared = workload_identity_info.check_one(kube, aws_of(s3, Sts()), {"namespace": "llm", "service_account": "triton", "prefix": ""}, PARAMS)
    assert (own["ok"], own["message"]) == (True, "assumed demo-vllm-model-reader and read models/qwen/config.json")
    assert (shared["ok"], shared["message"]) == (True, "assumed demo-vllm-model-reader and read triton/model_repository/opt/config.pbtxt")
    assert s3.listed == [("demo-models", "models/qwen/"), ("demo-models", "triton/model_repository/")]


def test_each_failing_step_is_named_with_the_folder_it_needed():
    empty = workload_identity_info.check_one(Kube({"eks.amazonaws.com/role-arn": ROLE}), aws_of(S3([]), Sts()),
                                             {"namespace": "vllm", "service_account": "vllm", "prefix": "models/qwen/"}, PARAMS)
    assert (empty["step"], empty["message"]) == ("s3", ROLE + " may list s3://demo-models/models/qwen/ but it holds nothing")
    unannotated = workload_identity_info.check_one(Kube({}), aws_of(S3(KEYS), Sts()), {"namespace": "vllm", "service_account": "vllm", "prefix": ""}, PARAMS)
    assert unannotated["step"] == "annotation" and "has no eks.amazonaws.com/role-arn annotation" in unannotated["message"]
    refused = workload_identity_info.check_one(Kube({"eks.amazonaws.com/role-arn": ROLE}), aws_of(S3(KEYS), Sts(refuse=True)),
                                               {"namespace": "vllm", "service_account": "vllm", "prefix": ""}, PARAMS)
    assert refused["step"] == "sts" and "AccessDenied: Not authorized to perform sts:AssumeRoleWithWebIdentity" in refused["message"]
