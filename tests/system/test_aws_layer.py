"""The AWS layer end to end: deploy, re-run without change, tear down to nothing, and the hard cases."""
import datetime
import json
import re

import pytest

from tests.system.conftest import DEPLOYMENT, aws, leftovers, run_playbook, run_playbook_until, write_inventory

# Fake credentials in the shape the validator accepts, assembled here so secret scanners don't flag them.
FAKE_NGC_KEY = "nvapi-" + "SYSTEMTEST-" + "0123456789" * 3
FAKE_HF_TOKEN = "hf_" + "SYSTEMTEST" + "abcdefghij" * 3
NIM_MODEL = {"name": "llama3-8b", "engine": "nim_chart", "parameters_billion": 8,
             "nim": {"image": "nvcr.io/nim/meta/llama3-8b-instruct", "tag": "1.0.3"}}


def assert_deployed(name=DEPLOYMENT):
    ec2 = aws("ec2")
    tag = [{"Name": "tag:eks-llm:deployment", "Values": [name]}]
    vpcs = ec2.describe_vpcs(Filters=tag)["Vpcs"]
    assert len(vpcs) == 1
    subnets = ec2.describe_subnets(Filters=tag)["Subnets"]
    assert len(subnets) == 4 and len(set(s["AvailabilityZone"] for s in subnets)) == 2
    private = [s for s in subnets if any(t["Key"] == "karpenter.sh/discovery" for t in s.get("Tags", []))]
    assert len(private) == 2
    assert [n["State"] for n in ec2.describe_nat_gateways(Filter=tag)["NatGateways"]] == ["available"]
    eks = aws("eks")
    cluster = eks.describe_cluster(name=name)["cluster"]
    assert cluster["status"] == "ACTIVE" and cluster["version"] == "1.34"
    assert cluster["tags"]["eks-llm:deployment"] == name
    assert cluster["encryptionConfig"][0]["resources"] == ["secrets"]
    assert cluster["accessConfig"]["authenticationMode"] == "API"
    enabled = [t for entry in cluster["logging"]["clusterLogging"] if entry["enabled"] for t in entry["types"]]
    assert sorted(enabled) == ["api", "audit", "authenticator"]
    assert eks.describe_nodegroup(clusterName=name, nodegroupName=name + "-core")["nodegroup"]["status"] == "ACTIVE"
    addons = eks.list_addons(clusterName=name)["addons"]
    assert sorted(addons) == ["aws-ebs-csi-driver", "aws-efs-csi-driver", "coredns", "eks-pod-identity-agent", "kube-proxy", "vpc-cni"]
    for addon in addons:
        assert eks.describe_addon(clusterName=name, addonName=addon)["addon"]["status"] == "ACTIVE"
    # the EBS CSI driver tags every volume it creates with the deployment's tags (teardown finds leaked ones)
    ebs = eks.describe_addon(clusterName=name, addonName="aws-ebs-csi-driver")["addon"]
    assert json.loads(ebs["configurationValues"])["controller"]["extraVolumeTags"]["eks-llm:deployment"] == name
    attached = aws("iam").list_attached_role_policies(RoleName=name + "-ebs-csi-driver")["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == ["arn:aws:iam::aws:policy/AmazonEBSCSIDriverPolicyV2"]
    entries = eks.list_access_entries(clusterName=name)["accessEntries"]
    assert any(e.endswith(":role/%s-karpenter-node" % name) for e in entries)
    associations = eks.list_pod_identity_associations(clusterName=name)["associations"]
    assert sorted((a["namespace"], a["serviceAccount"]) for a in associations) == [
        ("karpenter", "karpenter"), ("kube-system", "ebs-csi-controller-sa"), ("kube-system", "efs-csi-controller-sa"),
        ("logging", "fluent-bit"), ("vllm", "vllm")]
    # vLLM streaming from the model bucket reads it through Pod Identity (boto3 in its image), with its own role
    streamer = [a for a in associations if a["namespace"] == "vllm"][0]
    streamer_role = eks.describe_pod_identity_association(clusterName=name, associationId=streamer["associationId"])["association"]["roleArn"]
    assert streamer_role.endswith(":role/%s-vllm-model-reader" % name)
    streamer_trust = aws("iam").get_role(RoleName=name + "-vllm-model-reader")["Role"]["AssumeRolePolicyDocument"]
    assert [s["Principal"] for s in streamer_trust["Statement"]] == [{"Service": "pods.eks.amazonaws.com"}]
    # Triton's AWS SDK for C++ cannot use Pod Identity: IRSA through the cluster's OIDC provider, for exactly its account
    issuer = cluster["identity"]["oidc"]["issuer"].replace("https://", "")
    providers = [p["Arn"] for p in aws("iam").list_open_id_connect_providers()["OpenIDConnectProviderList"]]
    provider = [arn for arn in providers if arn.endswith(":oidc-provider/" + issuer)]
    assert len(provider) == 1
    provider_tags = aws("iam").get_open_id_connect_provider(OpenIDConnectProviderArn=provider[0])["Tags"]
    assert {"Key": "eks-llm:deployment", "Value": name} in provider_tags
    trust = aws("iam").get_role(RoleName=name + "-triton-model-reader")["Role"]["AssumeRolePolicyDocument"]
    assert trust["Statement"] == [{"Effect": "Allow", "Principal": {"Federated": provider[0]}, "Action": "sts:AssumeRoleWithWebIdentity",
                                   "Condition": {"StringEquals": {issuer + ":sub": "system:serviceaccount:llm:triton",
                                                                  issuer + ":aud": "sts.amazonaws.com"}}}]
    efs = [f for f in aws("efs").describe_file_systems()["FileSystems"] if f.get("Name") == name + "-models"]
    assert len(efs) == 1 and efs[0]["Encrypted"] and efs[0]["ThroughputMode"] == "elastic"
    assert len(aws("efs").describe_mount_targets(FileSystemId=efs[0]["FileSystemId"])["MountTargets"]) == 2
    s3 = aws("s3")
    bucket = [b["Name"] for b in s3.list_buckets()["Buckets"] if b["Name"].startswith(name + "-models-")]
    assert len(bucket) == 1
    assert s3.get_bucket_versioning(Bucket=bucket[0])["Status"] == "Enabled"
    assert all(s3.get_public_access_block(Bucket=bucket[0])["PublicAccessBlockConfiguration"].values())
    roles = sorted(r["RoleName"] for r in aws("iam").list_roles()["Roles"] if r["RoleName"].startswith(name + "-"))
    assert len(roles) == 9
    for role, policy_name in (("triton-model-reader", "triton"), ("vllm-model-reader", "vllm")):
        policy = aws("iam").get_role_policy(RoleName="%s-%s" % (name, role), PolicyName=policy_name)["PolicyDocument"]
        resources = [r for s in policy["Statement"] for r in ([s["Resource"]] if isinstance(s["Resource"], str) else s["Resource"])]
        assert resources and all(bucket[0] in r for r in resources), (role, resources)
    assert len(aws("events").list_rules(NamePrefix=name + "-karpenter-")["Rules"]) == 5
    assert len(aws("logs").describe_log_groups(logGroupNamePrefix="/aws/eks/%s/" % name)["logGroups"]) == 2
    secret = json.loads(aws("secretsmanager").get_secret_value(SecretId=name + "/grafana-admin")["SecretString"])
    assert secret["username"] == "admin" and len(secret["password"]) == 32
    return secret["password"]


def task_outcomes(output, role, task):
    """How each run of a role's task ended (ok, changed, skipping, ...), in the order of the output."""
    return re.findall(r"TASK \[eks_llm\.inference\.%s : %s\][^\n]*\n(?:[^\n]*\n)??(\w+):" % (role, re.escape(task)), output)


def interruption_deliveries(standin, name=DEPLOYMENT):
    """What EC2 and AWS Health would do: one event per interruption rule; what reached the queue, what failed."""
    rules = aws("events").list_rules(NamePrefix=name + "-karpenter-")["Rules"]
    for rule in rules:
        pattern = json.loads(rule["EventPattern"])
        standin.emit_event(pattern["source"][0], pattern["detail-type"][0], {"stand-in": "interruption test"})
    sqs = aws("sqs")
    url = sqs.get_queue_url(QueueName=name + "-karpenter")["QueueUrl"]
    received = []
    while True:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not batch:
            break
        received += [json.loads(message["Body"])["detail-type"] for message in batch]
        sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)])
    now = datetime.datetime.now(datetime.timezone.utc)
    failed = {rule["Name"]: sum(point["Sum"] for point in aws("cloudwatch").get_metric_statistics(
        Namespace="AWS/Events", MetricName="FailedInvocations", Dimensions=[{"Name": "RuleName", "Value": rule["Name"]}],
        StartTime=now - datetime.timedelta(hours=1), EndTime=now + datetime.timedelta(minutes=1), Period=3600,
        Statistics=["Sum"])["Datapoints"]) for rule in rules}
    return {"rules": len(rules), "received": sorted(received), "failed": {rule: n for rule, n in failed.items() if n}}


def test_deploy_rerun_teardown_and_secrets_never_printed(standin, tmp_path):
    model_bucket = "%s-models-%s-us-west-2" % (DEPLOYMENT, aws("sts").get_caller_identity()["Account"])
    inventory = write_inventory(tmp_path, changes={"eks_llm_models": [
        {"name": "opt-350m", "engine": "triton_vllm", "parameters_billion": 0.35, "precision": "fp16",
         "vllm": {"model_id": "facebook/opt-350m"}}, NIM_MODEL,
        {"name": "qwen-streamed", "engine": "vllm", "namespace": "vllm", "parameters_billion": 0.5, "precision": "bf16",
         "vllm": {"model_id": "s3://%s/models/qwen25-0.5b" % model_bucket}}]})
    secrets_env = {"NGC_API_KEY": FAKE_NGC_KEY, "HF_TOKEN": FAKE_HF_TOKEN}

    first = run_playbook("playbooks/aws.yml", inventory, args=["-vvv"], env=secrets_env)
    assert first.returncode == 0, first
    grafana_password = assert_deployed()
    for secret in (FAKE_NGC_KEY, FAKE_HF_TOKEN, grafana_password):
        assert secret not in first.output
    # verify's AWS-side check, then what EventBridge really delivers (the stand-in evaluates queue policy and key)
    check = run_playbook("tests/system/playbooks/verify_interruption.yml", inventory, env=secrets_env)
    delivered = interruption_deliveries(standin)
    assert check.returncode == 0, (delivered, check)
    assert delivered["failed"] == {} and len(delivered["received"]) == delivered["rules"], delivered

    second = run_playbook("playbooks/aws.yml", inventory, env=secrets_env)
    assert second.returncode == 0, second
    assert second.changed == 0, second
    # the network was read once and found as wanted: none of its amazon.aws tasks ran (the first run did run them)
    assert task_outcomes(second.output, "network", "Create the network or update what differs") == ["skipping"], second
    for write in ("Attach an internet gateway", "Start the NAT gateways (awaited later, while the cluster is being created)",
                  "Route each private subnet through its NAT gateway"):
        assert "TASK [eks_llm.inference.network : %s]" % write in first.output, write
        assert task_outcomes(second.output, "network", write) == [], write
    assert grafana_password == assert_deployed()  # never regenerated
    # and the iam role ran amazon.aws.iam_role and iam_policy for no role: its drift check found every one as wanted
    for write_task in ("Create the IAM roles", "Attach the inline least-privilege policies"):
        ran = task_outcomes(second.output, "iam", write_task)
        assert len(ran) >= 2 and set(ran) == {"skipping"}, (write_task, ran)
    # IAM was read twice: by the role's first run (the cluster's role, and every other role that did not wait for the
    # OIDC provider) and by its IRSA run; the run for the other roles used the first read
    assert task_outcomes(second.output, "iam", "Find the IAM roles that differ from what they should be") == ["ok", "skipping", "ok"]
    # and the eks_cluster role ran none of its write modules: its two drift reads found everything as wanted, and
    # everything ACTIVE, so no wait ran either (on the first run each of them ran)
    for write_task, skipped in (
            ("Create the KMS key that envelope-encrypts Kubernetes secrets", 1),
            ("Create the control-plane log group first, so its retention is ours and teardown finds it by tag", 1),
            ("Start creating the EKS cluster (awaited later; everything independent runs meanwhile)", 1),
            ("Wait until the cluster is active", 1),
            ("Ensure the core node group for system pods (Karpenter, CoreDNS, monitoring)", 2),  # the starting and the waiting pass
            ("Ensure the managed add-ons", 2),
            ("Grant cluster-admin to the listed principals, and let Karpenter's nodes join", 1),
            ("The cluster's IAM OIDC provider, present while a workload uses IRSA", 1),
            ("Associate pod identities (the workloads whose image uses Pod Identity; IRSA workloads are annotated instead)", 1)):
        assert "TASK [eks_llm.inference.eks_cluster : %s]" % write_task in first.output, write_task
        assert task_outcomes(second.output, "eks_cluster", write_task) == ["skipping"] * skipped, write_task
    assert "TASK [eks_llm.inference.eks_cluster : Ensure the EKS cluster (waiting for it only when asked)]" not in second.output
    # karpenter_prereqs read its queue, the queue's encryption and the rules once and found them as wanted
    for write_task in ("Create the interruption queue", "Encrypt the interruption queue with SQS-managed keys",
                       "Route the interruption events to the queue"):
        assert "TASK [eks_llm.inference.karpenter_prereqs : %s]" % write_task in first.output, write_task
        assert task_outcomes(second.output, "karpenter_prereqs", write_task) == ["skipping"], write_task
    # model_storage read its security group, file system and bucket once and found them as wanted (and EFS available:
    # no wait either)
    for write_task in ("Create the security group admitting NFS from the cluster's subnets only",
                       "Start creating the EFS file system (awaited by main)",
                       "Create the S3 model bucket (encrypted, private, versioned)"):
        assert "TASK [eks_llm.inference.model_storage : %s]" % write_task in first.output, write_task
        assert task_outcomes(second.output, "model_storage", write_task) == ["skipping"], write_task
    assert "TASK [eks_llm.inference.model_storage : The EFS file system for shared model caches" not in second.output

    # a volume the EBS CSI driver created for a claim nobody deleted (it carries the deployment's tags)
    leaked = aws("ec2").create_volume(AvailabilityZone="us-west-2a", Size=50, VolumeType="gp3", Encrypted=True, TagSpecifications=[
        {"ResourceType": "volume", "Tags": [{"Key": "eks-llm:deployment", "Value": DEPLOYMENT}, {"Key": "ebs.csi.aws.com/cluster", "Value": "true"},
                                            {"Key": "kubernetes.io/created-for/pvc/name", "Value": "prometheus-db-0"}]}])["VolumeId"]
    assert "volume " + leaked in leftovers()

    teardown = run_playbook("playbooks/teardown_aws.yml", inventory, env=secrets_env)
    assert teardown.returncode == 0, teardown
    assert "Nothing tagged" in teardown.output
    assert leftovers() == []
    assert grafana_password not in teardown.output

    again = run_playbook("playbooks/teardown_aws.yml", inventory, env=secrets_env)
    assert again.returncode == 0, again
    assert again.changed == 0, again


def test_teardown_after_a_run_killed_half_way(standin):
    output = run_playbook_until("playbooks/aws.yml", "Start EFS and create the model bucket")
    assert "Start EFS" in output
    assert leftovers(), "the killed run should have created something"
    teardown = run_playbook("playbooks/teardown_aws.yml")
    assert teardown.returncode == 0, teardown
    assert leftovers() == []


def test_converges_with_a_fifth_of_aws_calls_throttled(standin):
    standin.configure(throttle_rate=0.2, throttle_seed=7)
    deploy = run_playbook("playbooks/aws.yml")
    throttled = standin.stats()
    assert deploy.returncode == 0, deploy
    teardown = run_playbook("playbooks/teardown_aws.yml")
    assert teardown.returncode == 0, teardown
    standin.configure(throttle_rate=0.0)
    assert leftovers() == []
    # the run really was throttled, across services, and still converged
    assert throttled["throttled"] > 20 and len(throttled["throttled_by_service"]) >= 5, throttled


@pytest.mark.parametrize("changes, remove, message", [
    ({"eks_llm_name": "Bad_Name"}, [], "eks_llm_name: 'Bad_Name' is not usable"),
    ({"eks_llm_region": "moon-1"}, [], "eks_llm_region: 'moon-1' is not an AWS region"),
    ({"eks_llm_models": [dict(NIM_MODEL, engine="tgi")]}, [], "unknown engine 'tgi'"),
    ({"eks_llm_models": [NIM_MODEL]}, [], "engine nim_chart pulls from nvcr.io and NGC: set NGC_API_KEY"),
    ({"eks_llm_models": [dict(NIM_MODEL, parameters_billion=70, tensor_parallel=2)]}, [], "cannot be placed on node pool 'gpu-g5'"),
    ({"eks_llm_models": [{"name": "m", "engine": "triton_vllm", "parameters_billion": 1}]}, [], "needs a model source"),
    ({"eks_llm_models": [dict(NIM_MODEL), dict(NIM_MODEL)]}, [], "duplicate model name 'llama3-8b'"),
    ({"eks_llm_gpu_node_pools": [{"name": "gpu-g5", "instance_types": ["g5.12xlarge"]}],
      "eks_llm_models": [dict(NIM_MODEL, tensor_parallel=8)]}, [], "g5.12xlarge: has 4 GPU(s), the model needs 8 (tensor_parallel)"),
    ({"eks_llm_core_nodes": {"min_size": "two"}}, [], "min_size"),
])
def test_bad_inventory_fails_in_preflight_and_creates_nothing(standin, tmp_path, changes, remove, message):
    inventory = write_inventory(tmp_path, changes=changes, remove=remove)
    result = run_playbook("playbooks/aws.yml", inventory)
    assert result.returncode != 0, result
    assert message in result.output, result
    assert "The inventory has" in result.output
    assert leftovers() == []
    assert aws("iam").list_roles()["Roles"] == []


def test_preflight_refuses_reservations_a_reserved_pool_cannot_use_and_creates_nothing(standin, tmp_path):
    fits = {"id": "cr-0a1b2c3d4e5f60718", "instance_type": "g5.xlarge", "availability_zone": "us-west-2a"}
    block = {"id": "cr-0ffee00000000b10c", "instance_type": "g5.12xlarge", "availability_zone": "us-west-2b", "state": "scheduled",
             "reservation_type": "capacity-block", "start_date": "2026-12-10T11:30:00Z", "end_date": "2026-12-17T11:30:00Z"}
    wrong = {"id": "cr-0123456789abcdef0", "instance_type": "p5.48xlarge", "availability_zone": "us-west-2c"}
    standin.configure(capacity_reservations=[fits, block, wrong])
    missing = "cr-0000000000000dead"
    pool = {"name": "gpu-g5", "instance_families": ["g5"], "capacity_types": ["reserved", "on-demand"],
            "capacity_reservations": [{"id": r["id"]} for r in (fits, block, wrong)] + [{"id": missing}]}
    result = run_playbook("playbooks/aws.yml", write_inventory(tmp_path, changes={"eks_llm_gpu_node_pools": [pool]}))
    assert result.returncode != 0, result
    text = " ".join(result.output.split())  # the YAML callback wraps long messages
    # what EC2 says about each, read through DescribeCapacityReservations, naming the pool and the reservation
    assert "GPU node pool gpu-g5, capacity reservation %s: does not exist in this account and region" % missing in text, result
    assert ("GPU node pool gpu-g5, capacity reservation cr-0123456789abcdef0: cr-0123456789abcdef0 (On-Demand Capacity"
            " Reservation, active, 1 x p5.48xlarge in us-west-2c) reserves p5.48xlarge, which is not one of the pool's instance"
            " types") in text, result
    assert "is in us-west-2c, where the deployment has no subnet (zones: us-west-2a, us-west-2b)" in text
    assert "Capacity Block cr-0ffee00000000b10c is scheduled, not active yet: Karpenter launches into it from 2026-12-10" in text
    assert "cr-0a1b2c3d4e5f60718:" not in text  # the one that fits is not mentioned
    assert leftovers() == []
    assert aws("iam").list_roles()["Roles"] == []


def test_existing_vpc_is_used_and_left_in_place(standin, tmp_path):
    ec2 = aws("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.60.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=cidr, AvailabilityZone=zone)["Subnet"]["SubnetId"]
               for cidr, zone in (("10.60.0.0/19", "us-west-2a"), ("10.60.32.0/19", "us-west-2b"))]
    inventory = write_inventory(tmp_path, changes={"eks_llm_network": {"vpc_id": vpc, "private_subnet_ids": subnets}})

    deploy = run_playbook("playbooks/aws.yml", inventory)
    assert deploy.returncode == 0, deploy
    cluster = aws("eks").describe_cluster(name=DEPLOYMENT)["cluster"]
    assert sorted(cluster["resourcesVpcConfig"]["subnetIds"]) == sorted(subnets)
    assert ec2.describe_vpcs(Filters=[{"Name": "tag:eks-llm:deployment", "Values": [DEPLOYMENT]}])["Vpcs"] == []
    tagged = ec2.describe_subnets(SubnetIds=subnets)["Subnets"]
    assert all({"Key": "karpenter.sh/discovery", "Value": DEPLOYMENT} in s["Tags"] for s in tagged)

    teardown = run_playbook("playbooks/teardown_aws.yml", inventory)
    assert teardown.returncode == 0, teardown
    assert leftovers() == []
    assert ec2.describe_vpcs(VpcIds=[vpc])["Vpcs"], "the user's VPC must stay"
    kept = ec2.describe_subnets(SubnetIds=subnets)["Subnets"]
    assert len(kept) == 2
    assert not any(t["Key"] == "karpenter.sh/discovery" for s in kept for t in s.get("Tags", []))


def auto_mode_inventory(tmp_path):
    """The local inventory in EKS Auto Mode: no core node group, no Karpenter of ours (its chart override and the
    KWOK node class kind are refused there, so they go)."""
    inventory = write_inventory(tmp_path, changes={"eks_llm_cluster": {"version": "1.34", "compute_mode": "auto_mode"}},
                                remove=["eks_llm_karpenter", "eks_llm_chart_overrides"])
    return inventory


def test_auto_mode_aws_layer_deploys_reruns_and_tears_down(standin, tmp_path):
    """EKS Auto Mode: the cluster with compute, block storage and load balancing on (the stand-in checks the cluster
    role's policies and trust as AWS does), no node group, no Karpenter queue or roles, the Auto Mode node role's EC2
    access entry, only the EFS add-on; a re-run changes nothing; teardown leaves nothing."""
    inventory = auto_mode_inventory(tmp_path)
    first = run_playbook("playbooks/aws.yml", inventory)
    assert first.returncode == 0, first
    eks, iam = aws("eks"), aws("iam")
    cluster = eks.describe_cluster(name=DEPLOYMENT)["cluster"]
    assert cluster["status"] == "ACTIVE"
    assert cluster["computeConfig"] == {"enabled": True, "nodePools": []}
    assert cluster["storageConfig"] == {"blockStorage": {"enabled": True}}
    assert cluster["kubernetesNetworkConfig"]["elasticLoadBalancing"] == {"enabled": True}
    assert eks.list_nodegroups(clusterName=DEPLOYMENT)["nodegroups"] == []
    assert eks.list_addons(clusterName=DEPLOYMENT)["addons"] == ["aws-efs-csi-driver"]
    attached = {p["PolicyName"] for p in iam.list_attached_role_policies(RoleName=DEPLOYMENT + "-eks-cluster")["AttachedPolicies"]}
    assert attached == {"AmazonEKSClusterPolicy", "AmazonEKSComputePolicy", "AmazonEKSBlockStoragePolicy", "AmazonEKSLoadBalancingPolicy",
                        "AmazonEKSNetworkingPolicy"}
    node_role = iam.get_role(RoleName=DEPLOYMENT + "-eks-auto-node")["Role"]["Arn"]
    entry = eks.describe_access_entry(clusterName=DEPLOYMENT, principalArn=node_role)["accessEntry"]
    assert entry["type"] == "EC2"
    policies = eks.list_associated_access_policies(clusterName=DEPLOYMENT, principalArn=node_role)["associatedAccessPolicies"]
    assert [p["policyArn"].split("/")[-1] for p in policies] == ["AmazonEKSAutoNodePolicy"]
    roles = {r["RoleName"] for r in iam.list_roles()["Roles"]}
    for absent in ("-eks-node", "-karpenter-node", "-karpenter-controller", "-ebs-csi-driver"):
        assert DEPLOYMENT + absent not in roles, absent
    assert not [q for q in aws("sqs").list_queues().get("QueueUrls", []) if "karpenter" in q]
    associations = eks.list_pod_identity_associations(clusterName=DEPLOYMENT)["associations"]
    assert sorted((a["namespace"], a["serviceAccount"]) for a in associations) == [("kube-system", "efs-csi-controller-sa"), ("logging", "fluent-bit")]

    second = run_playbook("playbooks/aws.yml", inventory)
    assert second.returncode == 0, second
    assert second.changed == 0, second.changed_tasks

    teardown = run_playbook("playbooks/teardown_aws.yml", inventory)
    assert teardown.returncode == 0, teardown
    assert leftovers() == []


def test_auto_mode_refuses_what_it_cannot_do_and_creates_nothing(standin, tmp_path):
    inventory = write_inventory(tmp_path, changes={"eks_llm_cluster": {"compute_mode": "auto_mode"},
                                                   "eks_llm_core_nodes": {"instance_types": ["m6i.large"]},
                                                   "eks_llm_gpu_software": {"mode": "gpu_operator"}})
    result = run_playbook("playbooks/aws.yml", inventory)
    assert result.returncode != 0
    for message in ("eks_llm_core_nodes: given, but eks_llm_cluster.compute_mode is auto_mode",
                    "eks_llm_gpu_software.mode: gpu_operator, but eks_llm_cluster.compute_mode is auto_mode",
                    "eks_llm_karpenter.node_class_kind: given", "eks_llm_chart_overrides.karpenter: given"):
        assert message in result.output, message
    assert leftovers() == []
