"""EKS through boto3 against the stand-in: the APIs we add and the realism fixes."""
import base64
import json
import os
import time

import pytest
from botocore.exceptions import ClientError
from cryptography import x509

from tests.standin.helpers import FAST, NODE_ROLE, ROLE, error_code


def test_addon_lifecycle_with_time_replay_and_waiters(aws, cluster, aws_standin):
    eks = aws("eks")
    name = cluster["name"]
    aws_standin.configure(time_scale=0.01)  # 60 s create -> 0.6 s, 30 s delete -> 0.3 s
    started = time.time()
    created = eks.create_addon(clusterName=name, addonName="aws-efs-csi-driver", tags={"team": "ml"})["addon"]
    assert created["status"] == "CREATING"
    assert created["addonVersion"] == "v2.1.11-eksbuild.1"  # default for 1.33
    assert eks.describe_addon(clusterName=name, addonName="aws-efs-csi-driver")["addon"]["status"] == "CREATING"
    eks.get_waiter("addon_active").wait(clusterName=name, addonName="aws-efs-csi-driver", WaiterConfig=FAST)
    assert time.time() - started >= 0.6
    addon = eks.describe_addon(clusterName=name, addonName="aws-efs-csi-driver")["addon"]
    assert addon["status"] == "ACTIVE" and addon["publisher"] == "eks" and addon["health"] == {"issues": []}
    assert addon["addonArn"].startswith(f"arn:aws:eks:us-west-2:123456789012:addon/{name}/aws-efs-csi-driver/")
    assert eks.list_addons(clusterName=name)["addons"] == ["aws-efs-csi-driver"]
    assert eks.list_tags_for_resource(resourceArn=addon["addonArn"])["tags"] == {"team": "ml"}

    with pytest.raises(ClientError) as dup:
        eks.create_addon(clusterName=name, addonName="aws-efs-csi-driver")
    assert error_code(dup) == "ResourceInUseException"

    update = eks.update_addon(clusterName=name, addonName="aws-efs-csi-driver", addonVersion="v2.1.4-eksbuild.1")["update"]
    assert update["status"] == "InProgress" and update["type"] == "AddonUpdate"
    with pytest.raises(ClientError) as no_scope:  # AWS needs addonName to find an add-on's update
        eks.describe_update(name=name, updateId=update["id"])
    assert error_code(no_scope) == "ResourceNotFoundException"
    eks.get_waiter("addon_active").wait(clusterName=name, addonName="aws-efs-csi-driver", WaiterConfig=FAST)
    assert eks.describe_update(name=name, updateId=update["id"], addonName="aws-efs-csi-driver")["update"]["status"] == "Successful"
    assert eks.describe_addon(clusterName=name, addonName="aws-efs-csi-driver")["addon"]["addonVersion"] == "v2.1.4-eksbuild.1"

    deleting = eks.delete_addon(clusterName=name, addonName="aws-efs-csi-driver")["addon"]
    assert deleting["status"] == "DELETING"
    eks.get_waiter("addon_deleted").wait(clusterName=name, addonName="aws-efs-csi-driver", WaiterConfig=FAST)
    assert eks.list_addons(clusterName=name)["addons"] == []
    with pytest.raises(ClientError) as gone:
        eks.describe_addon(clusterName=name, addonName="aws-efs-csi-driver")
    assert error_code(gone) == "ResourceNotFoundException"
    assert gone.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_addon_versions_and_validation(aws, cluster):
    eks = aws("eks")
    name = cluster["name"]
    addons = {a["addonName"]: a for a in eks.describe_addon_versions(kubernetesVersion="1.34")["addons"]}
    assert {"vpc-cni", "coredns", "kube-proxy", "eks-pod-identity-agent", "aws-efs-csi-driver", "aws-ebs-csi-driver",
            "amazon-cloudwatch-observability"} <= set(addons)
    for minor in ("1.31", "1.32", "1.33", "1.34"):
        for info in eks.describe_addon_versions(kubernetesVersion=minor)["addons"]:
            defaults = [v["addonVersion"] for v in info["addonVersions"]
                        for c in v["compatibilities"] if c["clusterVersion"] == minor and c["defaultVersion"]]
            assert len(defaults) == 1, (minor, info["addonName"])
    proxy = addons["kube-proxy"]["addonVersions"]
    assert [v["addonVersion"] for v in proxy] == ["v1.34.0-eksbuild.2"]
    assert addons["amazon-cloudwatch-observability"]["defaultNamespace"] == "amazon-cloudwatch"

    schema = eks.describe_addon_configuration(addonName="vpc-cni", addonVersion="v1.20.4-eksbuild.1")
    assert schema["configurationSchema"].startswith("{") and schema["podIdentityConfiguration"][0]["serviceAccount"] == "aws-node"
    ebs = eks.describe_addon_configuration(addonName="aws-ebs-csi-driver", addonVersion="v1.51.1-eksbuild.1")
    ebs_identity = ebs["podIdentityConfiguration"][0]
    assert ebs_identity["serviceAccount"] == "ebs-csi-controller-sa"
    # the recommended policy (the one roles/iam attaches) is among the managed policies moto loads
    policy = aws("iam").get_policy(PolicyArn=ebs_identity["recommendedManagedPolicies"][0])["Policy"]
    assert policy["PolicyName"] == "AmazonEBSCSIDriverPolicyV2"

    for kwargs in ({"addonName": "kube-proxy", "addonVersion": "v1.34.0-eksbuild.2"},  # 1.34 build on a 1.33 cluster
                   {"addonName": "no-such-addon"},
                   {"addonName": "coredns", "configurationValues": "[not, a, mapping]"}):
        with pytest.raises(ClientError) as bad:
            eks.create_addon(clusterName=name, **kwargs)
        assert error_code(bad) == "InvalidParameterException", kwargs


def test_addon_pod_identity_is_owned_by_the_addon(aws, cluster):
    eks = aws("eks")
    name = cluster["name"]
    role = "arn:aws:iam::123456789012:role/efs-csi"
    addon = eks.create_addon(clusterName=name, addonName="aws-efs-csi-driver",
                             podIdentityAssociations=[{"serviceAccount": "efs-csi-controller-sa", "roleArn": role}])["addon"]
    [assoc] = eks.list_pod_identity_associations(clusterName=name)["associations"]
    assert assoc["namespace"] == "kube-system" and assoc["ownerArn"] == addon["addonArn"]
    assert addon["podIdentityAssociations"] == [assoc["associationArn"]]
    eks.delete_addon(clusterName=name, addonName="aws-efs-csi-driver")
    assert eks.list_pod_identity_associations(clusterName=name)["associations"] == []


def test_cluster_creator_gets_admin_access_entry(aws, cluster):
    eks = aws("eks")
    name = cluster["name"]
    described = eks.describe_cluster(name=name)["cluster"]
    assert described["accessConfig"] == {"authenticationMode": "API_AND_CONFIG_MAP", "bootstrapClusterCreatorAdminPermissions": True}
    assert eks.list_access_entries(clusterName=name)["accessEntries"] == ["arn:aws:iam::123456789012:root"]
    policies = eks.list_associated_access_policies(clusterName=name, principalArn="arn:aws:iam::123456789012:root")
    assert [p["policyArn"].rsplit("/", 1)[1] for p in policies["associatedAccessPolicies"]] == ["AmazonEKSClusterAdminPolicy"]


def test_access_entries_and_policies(aws, cluster):
    eks = aws("eks")
    name = cluster["name"]
    principal = "arn:aws:iam::123456789012:role/platform/ml-engineers"
    entry = eks.create_access_entry(clusterName=name, principalArn=principal, kubernetesGroups=["ml"], tags={"a": "b"})["accessEntry"]
    assert entry["type"] == "STANDARD" and entry["kubernetesGroups"] == ["ml"]
    assert entry["username"] == "arn:aws:sts::123456789012:assumed-role/ml-engineers/{{SessionName}}"
    with pytest.raises(ClientError) as dup:
        eks.create_access_entry(clusterName=name, principalArn=principal)
    assert error_code(dup) == "ResourceInUseException"

    view = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"
    associated = eks.associate_access_policy(clusterName=name, principalArn=principal, policyArn=view,
                                             accessScope={"type": "namespace", "namespaces": ["llm"]})
    assert associated["associatedAccessPolicy"]["accessScope"] == {"type": "namespace", "namespaces": ["llm"]}
    with pytest.raises(ClientError) as bad_scope:
        eks.associate_access_policy(clusterName=name, principalArn=principal, policyArn=view,
                                    accessScope={"type": "namespace", "namespaces": []})
    assert error_code(bad_scope) == "InvalidParameterException"
    listed = eks.list_associated_access_policies(clusterName=name, principalArn=principal)["associatedAccessPolicies"]
    assert [p["policyArn"] for p in listed] == [view]
    assert eks.list_access_entries(clusterName=name, associatedPolicyArn=view)["accessEntries"] == [principal]
    assert any(p["name"] == "AmazonEKSClusterAdminPolicy" for p in eks.list_access_policies()["accessPolicies"])

    eks.update_access_entry(clusterName=name, principalArn=principal, kubernetesGroups=["ml", "viewers"])
    assert eks.describe_access_entry(clusterName=name, principalArn=principal)["accessEntry"]["kubernetesGroups"] == ["ml", "viewers"]
    assert eks.list_tags_for_resource(resourceArn=entry["accessEntryArn"])["tags"] == {"a": "b"}
    eks.disassociate_access_policy(clusterName=name, principalArn=principal, policyArn=view)
    assert eks.list_associated_access_policies(clusterName=name, principalArn=principal)["associatedAccessPolicies"] == []
    eks.delete_access_entry(clusterName=name, principalArn=principal)
    with pytest.raises(ClientError) as gone:
        eks.describe_access_entry(clusterName=name, principalArn=principal)
    assert error_code(gone) == "ResourceNotFoundException"


def test_config_map_cluster_refuses_access_entries_until_mode_changes(aws, subnets):
    eks = aws("eks")
    eks.create_cluster(name="legacy", roleArn=ROLE, resourcesVpcConfig={"subnetIds": subnets},
                       accessConfig={"authenticationMode": "CONFIG_MAP"})
    assert eks.list_access_entries(clusterName="legacy")["accessEntries"] == []
    principal = "arn:aws:iam::123456789012:role/admin"
    with pytest.raises(ClientError) as refused:
        eks.create_access_entry(clusterName="legacy", principalArn=principal)
    assert error_code(refused) == "InvalidRequestException"
    update = eks.update_cluster_config(name="legacy", accessConfig={"authenticationMode": "API_AND_CONFIG_MAP"})["update"]
    assert update["type"] == "AccessConfigUpdate"
    assert eks.describe_cluster(name="legacy")["cluster"]["accessConfig"]["authenticationMode"] == "API_AND_CONFIG_MAP"
    eks.create_access_entry(clusterName="legacy", principalArn=principal)
    with pytest.raises(ClientError) as backwards:
        eks.update_cluster_config(name="legacy", accessConfig={"authenticationMode": "CONFIG_MAP"})
    assert error_code(backwards) == "InvalidParameterException"


def test_pod_identity_associations(aws, cluster):
    eks = aws("eks")
    name = cluster["name"]
    role = "arn:aws:iam::123456789012:role/nim"
    assoc = eks.create_pod_identity_association(clusterName=name, namespace="llm", serviceAccount="nim", roleArn=role)["association"]
    assert assoc["associationId"].startswith("a-") and len(assoc["associationId"]) == 19
    with pytest.raises(ClientError) as dup:
        eks.create_pod_identity_association(clusterName=name, namespace="llm", serviceAccount="nim",
                                            roleArn="arn:aws:iam::123456789012:role/other")
    assert error_code(dup) == "ResourceInUseException"
    eks.create_pod_identity_association(clusterName=name, namespace="monitoring", serviceAccount="nim", roleArn=role)
    assert len(eks.list_pod_identity_associations(clusterName=name)["associations"]) == 2
    only = eks.list_pod_identity_associations(clusterName=name, namespace="llm", serviceAccount="nim")["associations"]
    assert [a["associationId"] for a in only] == [assoc["associationId"]]
    eks.update_pod_identity_association(clusterName=name, associationId=assoc["associationId"],
                                        roleArn="arn:aws:iam::123456789012:role/nim-v2")
    described = eks.describe_pod_identity_association(clusterName=name, associationId=assoc["associationId"])["association"]
    assert described["roleArn"].endswith("nim-v2")
    eks.delete_pod_identity_association(clusterName=name, associationId=assoc["associationId"])
    with pytest.raises(ClientError) as gone:
        eks.describe_pod_identity_association(clusterName=name, associationId=assoc["associationId"])
    assert error_code(gone) == "ResourceNotFoundException"


def test_cluster_version_update(aws, cluster):
    eks = aws("eks")
    name = cluster["name"]
    with pytest.raises(ClientError) as skip:
        eks.update_cluster_version(name=name, version="1.35")
    assert error_code(skip) == "InvalidParameterException"
    update = eks.update_cluster_version(name=name, version="1.34")["update"]
    assert update["type"] == "VersionUpdate" and {"type": "Version", "value": "1.34"} in update["params"]
    assert eks.describe_update(name=name, updateId=update["id"])["update"]["status"] == "Successful"
    assert eks.list_updates(name=name)["updateIds"] == [update["id"]]
    assert eks.describe_cluster(name=name)["cluster"]["version"] == "1.34"


def test_version_update_replayed_and_nodegroups_must_follow(aws, cluster, subnets, aws_standin):
    eks = aws("eks")
    name = cluster["name"]
    eks.create_nodegroup(clusterName=name, nodegroupName="gpu", nodeRole=NODE_ROLE, subnets=subnets,
                         amiType="AL2023_x86_64_NVIDIA", instanceTypes=["g5.xlarge"])
    aws_standin.configure(time_scale=0.0005)  # 1500 s -> 0.75 s
    update = eks.update_cluster_version(name=name, version="1.34")["update"]
    assert update["status"] == "InProgress"
    described = eks.describe_cluster(name=name)["cluster"]
    assert (described["status"], described["version"]) == ("UPDATING", "1.33")
    with pytest.raises(ClientError) as busy:
        eks.update_cluster_config(name=name, logging={"clusterLogging": [{"types": ["api"], "enabled": True}]})
    assert error_code(busy) == "ResourceInUseException"
    eks.get_waiter("cluster_active").wait(name=name, WaiterConfig=FAST)
    assert eks.describe_cluster(name=name)["cluster"]["version"] == "1.34"
    assert eks.describe_update(name=name, updateId=update["id"])["update"]["status"] == "Successful"
    with pytest.raises(ClientError) as behind:  # node group still on 1.33
        eks.update_cluster_version(name=name, version="1.35")
    assert error_code(behind) in ("InvalidRequestException", "InvalidParameterException")
    aws_standin.configure(time_scale=0.003)  # 300 s -> 0.9 s
    ng_update = eks.update_nodegroup_version(clusterName=name, nodegroupName="gpu")["update"]
    assert eks.describe_nodegroup(clusterName=name, nodegroupName="gpu")["nodegroup"]["status"] == "UPDATING"
    eks.get_waiter("nodegroup_active").wait(clusterName=name, nodegroupName="gpu", WaiterConfig=FAST)
    nodegroup = eks.describe_nodegroup(clusterName=name, nodegroupName="gpu")["nodegroup"]
    assert nodegroup["version"] == "1.34" and nodegroup["releaseVersion"].startswith("1.34.")
    assert eks.describe_update(name=name, updateId=ng_update["id"], nodegroupName="gpu")["update"]["status"] == "Successful"
    assert eks.list_updates(name=name, nodegroupName="gpu")["updateIds"] == [ng_update["id"]]


def test_update_cluster_config_changes_the_cluster(aws, cluster):
    eks = aws("eks")
    name = cluster["name"]
    logging = eks.update_cluster_config(name=name, logging={"clusterLogging": [{"types": ["api", "audit"], "enabled": True}]})
    assert logging["update"]["type"] == "LoggingUpdate"
    assert eks.describe_update(name=name, updateId=logging["update"]["id"])["update"]["status"] == "Successful"
    groups = eks.describe_cluster(name=name)["cluster"]["logging"]["clusterLogging"]
    assert {"types": ["api", "audit"], "enabled": True} in groups
    endpoint = eks.update_cluster_config(name=name, resourcesVpcConfig={
        "endpointPrivateAccess": True, "endpointPublicAccess": True, "publicAccessCidrs": ["203.0.113.0/24"]})["update"]
    assert endpoint["type"] == "EndpointAccessUpdate"
    vpc = eks.describe_cluster(name=name)["cluster"]["resourcesVpcConfig"]
    assert vpc["endpointPrivateAccess"] is True and vpc["publicAccessCidrs"] == ["203.0.113.0/24"]
    assert len(vpc["subnetIds"]) == 2 and vpc["clusterSecurityGroupId"].startswith("sg-")  # not wiped as moto does
    with pytest.raises(ClientError) as two_kinds:
        eks.update_cluster_config(name=name, logging={"clusterLogging": []}, resourcesVpcConfig={"endpointPrivateAccess": False})
    assert error_code(two_kinds) == "InvalidParameterException"
    key = "arn:aws:kms:us-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    wanted = [{"resources": ["secrets"], "provider": {"keyArn": key}}]
    encryption = eks.associate_encryption_config(clusterName=name, encryptionConfig=wanted)
    assert encryption["update"]["type"] == "AssociateEncryptionConfig"
    assert eks.describe_cluster(name=name)["cluster"]["encryptionConfig"][0]["provider"]["keyArn"] == key


def test_nodegroups_inherit_version_and_block_cluster_delete(aws, cluster, subnets):
    eks = aws("eks")
    name = cluster["name"]
    nodegroup = eks.create_nodegroup(clusterName=name, nodegroupName="cpu", nodeRole=NODE_ROLE, subnets=subnets,
                                     tags={"pool": "cpu"})["nodegroup"]
    assert nodegroup["version"] == "1.33" and nodegroup["amiType"] == "AL2023_x86_64_STANDARD"
    assert nodegroup["releaseVersion"].startswith("1.33.")
    assert eks.list_tags_for_resource(resourceArn=nodegroup["nodegroupArn"])["tags"] == {"pool": "cpu"}
    eks.tag_resource(resourceArn=nodegroup["nodegroupArn"], tags={"extra": "1"})
    eks.untag_resource(resourceArn=nodegroup["nodegroupArn"], tagKeys=["pool", "extra"])
    assert eks.list_tags_for_resource(resourceArn=nodegroup["nodegroupArn"])["tags"] == {}
    with pytest.raises(ClientError) as al2:
        eks.create_nodegroup(clusterName=name, nodegroupName="old", nodeRole=NODE_ROLE, subnets=subnets, amiType="AL2_x86_64")
    assert error_code(al2) == "InvalidParameterException"

    update = eks.update_nodegroup_config(clusterName=name, nodegroupName="cpu",
                                         scalingConfig={"minSize": 1, "maxSize": 4, "desiredSize": 3})["update"]
    assert {"type": "DesiredSize", "value": "3"} in update["params"]
    assert eks.describe_update(name=name, updateId=update["id"], nodegroupName="cpu")["update"]["status"] == "Successful"
    assert eks.describe_nodegroup(clusterName=name, nodegroupName="cpu")["nodegroup"]["scalingConfig"]["desiredSize"] == 3
    with pytest.raises(ClientError) as bad_scaling:
        eks.update_nodegroup_config(clusterName=name, nodegroupName="cpu", scalingConfig={"desiredSize": 9})
    assert error_code(bad_scaling) == "InvalidParameterException"

    with pytest.raises(ClientError) as in_use:
        eks.delete_cluster(name=name)
    assert error_code(in_use) == "ResourceInUseException"
    assert in_use.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    eks.delete_nodegroup(clusterName=name, nodegroupName="cpu")
    assert eks.delete_cluster(name=name)["cluster"]["status"] == "DELETING"
    with pytest.raises(ClientError) as gone:
        eks.describe_cluster(name=name)
    assert error_code(gone) == "ResourceNotFoundException"


def test_cluster_create_and_delete_are_replayed(aws, subnets, aws_standin):
    eks = aws("eks")
    aws_standin.configure(time_scale=0.002)  # create 600 s -> 1.2 s, node group 240 s -> 0.48 s, deletes 300 s -> 0.6 s
    created = eks.create_cluster(name="slow", roleArn=ROLE, resourcesVpcConfig={"subnetIds": subnets})["cluster"]
    assert created["status"] == "CREATING" and created["version"] == "1.33"
    with pytest.raises(ClientError) as not_ready:
        eks.create_nodegroup(clusterName="slow", nodegroupName="ng", nodeRole=NODE_ROLE, subnets=subnets)
    assert error_code(not_ready) == "InvalidRequestException"
    eks.get_waiter("cluster_active").wait(name="slow", WaiterConfig=FAST)
    eks.create_nodegroup(clusterName="slow", nodegroupName="ng", nodeRole=NODE_ROLE, subnets=subnets)
    assert eks.describe_nodegroup(clusterName="slow", nodegroupName="ng")["nodegroup"]["status"] == "CREATING"
    eks.get_waiter("nodegroup_active").wait(clusterName="slow", nodegroupName="ng", WaiterConfig=FAST)
    eks.delete_nodegroup(clusterName="slow", nodegroupName="ng")
    assert eks.describe_nodegroup(clusterName="slow", nodegroupName="ng")["nodegroup"]["status"] == "DELETING"
    with pytest.raises(ClientError) as still_there:  # a DELETING node group still blocks the cluster delete
        eks.delete_cluster(name="slow")
    assert error_code(still_there) == "ResourceInUseException"
    eks.get_waiter("nodegroup_deleted").wait(clusterName="slow", nodegroupName="ng", WaiterConfig=FAST)
    eks.delete_cluster(name="slow")
    assert eks.describe_cluster(name="slow")["cluster"]["status"] == "DELETING"
    assert "slow" in eks.list_clusters()["clusters"]
    eks.get_waiter("cluster_deleted").wait(name="slow", WaiterConfig=FAST)
    assert "slow" not in eks.list_clusters()["clusters"]

    mine = [e for e in aws_standin.timeline() if ":cluster/slow" in e["resource"] or ":nodegroup/slow/" in e["resource"]]
    durations = {(e["operation"], e["real_seconds"]): e["end"] - e["start"] for e in mine}
    assert durations == pytest.approx({("CreateCluster", 600): 1.2, ("CreateNodegroup", 240): 0.48,
                                       ("DeleteNodegroup", 300): 0.6, ("DeleteCluster", 300): 0.6})
    assert len(mine) == 4 and all(e["service"] == "eks" for e in mine)


def test_certificate_authority_and_endpoint(aws, cluster, aws_standin, tmp_path):
    eks = aws("eks")
    name = cluster["name"]
    described = eks.describe_cluster(name=name)["cluster"]
    pem = base64.b64decode(described["certificateAuthority"]["data"])
    cert = x509.load_pem_x509_certificate(pem)
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    ident = described["identity"]["oidc"]["issuer"].rsplit("/", 1)[1]
    assert described["endpoint"] == f"https://{ident}.gr7.us-west-2.eks.amazonaws.com"

    (tmp_path / "ca.crt").write_bytes(pem.replace(b"\n", b"\r\n"))  # any PEM file, e.g. a local kube-apiserver's
    aws_standin.configure(cluster_endpoint="https://127.0.0.1:6443", cluster_ca=str(tmp_path / "ca.crt"))
    overridden = eks.describe_cluster(name=name)["cluster"]
    assert overridden["endpoint"] == "https://127.0.0.1:6443"
    assert base64.b64decode(overridden["certificateAuthority"]["data"]) == pem.replace(b"\n", b"\r\n")
    aws_standin.configure(cluster_endpoint="", cluster_ca="")
    assert eks.describe_cluster(name=name)["cluster"]["endpoint"] == described["endpoint"]


def test_create_cluster_validates_like_aws(aws, subnets):
    eks = aws("eks")
    for kwargs in ({"version": "1.19"}, {"resourcesVpcConfig": {"subnetIds": subnets[:1]}},
                   {"resourcesVpcConfig": {"subnetIds": ["subnet-12345678", subnets[0]]}}):
        args = {"name": "bad", "roleArn": ROLE, "resourcesVpcConfig": {"subnetIds": subnets}, **kwargs}
        with pytest.raises(ClientError) as bad:
            eks.create_cluster(**args)
        assert error_code(bad) == "InvalidParameterException", kwargs


def _auto_mode_cluster_role(iam, name, policies, actions):
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "eks.amazonaws.com"}, "Action": actions}]}
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    for policy in policies:
        iam.attach_role_policy(RoleName=name, PolicyArn="arn:aws:iam::aws:policy/" + policy)
    return arn


AUTO_FACTS = json.load(open(os.path.join(os.path.dirname(os.path.dirname(__file__)), "upstream", "eks_auto_mode.json")))
AUTO_ON = {"computeConfig": {"enabled": True, "nodePools": []}, "storageConfig": {"blockStorage": {"enabled": True}},
           "kubernetesNetworkConfig": {"elasticLoadBalancing": {"enabled": True}}}


def test_auto_mode_is_checked_as_aws_does(aws, subnets):
    """EKS Auto Mode (tests/upstream/eks_auto_mode.json): three capabilities together, node pools need a node role and
    a node role needs node pools, Auto Mode's policies on the cluster role and sts:TagSession in its trust."""
    eks, iam = aws("eks"), aws("iam")
    policies = AUTO_FACTS["cluster_role"]["managed_policies"]
    role = _auto_mode_cluster_role(iam, "auto-cluster", policies, ["sts:AssumeRole", "sts:TagSession"])
    no_tag_session = _auto_mode_cluster_role(iam, "auto-no-tag", policies, "sts:AssumeRole")
    no_compute = _auto_mode_cluster_role(iam, "auto-no-compute", [p for p in policies if p != "AmazonEKSComputePolicy"],
                                         ["sts:AssumeRole", "sts:TagSession"])
    base = {"roleArn": role, "resourcesVpcConfig": {"subnetIds": subnets}, "accessConfig": {"authenticationMode": "API"}}
    bad = [
        ({"computeConfig": {"enabled": True}}, "enabled together"),
        (dict(AUTO_ON, storageConfig={"blockStorage": {"enabled": False}}), "enabled together"),
        (dict(AUTO_ON, computeConfig={"enabled": True, "nodePools": ["general-purpose"]}), "nodeRoleArn is null or empty"),
        (dict(AUTO_ON, computeConfig={"enabled": True, "nodePools": [], "nodeRoleArn": NODE_ROLE}), "nodePools is empty"),
        (dict(AUTO_ON, computeConfig={"enabled": True, "nodePools": ["gpu"], "nodeRoleArn": NODE_ROLE}), "Unknown built-in"),
        (dict(AUTO_ON, roleArn=no_tag_session), "sts:TagSession"),
        (dict(AUTO_ON, roleArn=no_compute), "AmazonEKSComputePolicy"),
        (dict(AUTO_ON, accessConfig={"authenticationMode": "CONFIG_MAP"}), "access entries"),
    ]
    for number, (changes, message) in enumerate(bad):
        with pytest.raises(ClientError) as refused:
            eks.create_cluster(name="auto-bad-%d" % number, **dict(base, **changes))
        assert error_code(refused) == "InvalidParameterException" and message in str(refused.value), changes
    assert not [name for name in eks.list_clusters()["clusters"] if name.startswith("auto-bad-")]  # nothing created

    cluster = eks.create_cluster(name="auto", **dict(base, **AUTO_ON))["cluster"]
    assert cluster["computeConfig"] == {"enabled": True, "nodePools": []}
    assert cluster["storageConfig"] == {"blockStorage": {"enabled": True}}
    assert cluster["kubernetesNetworkConfig"]["elasticLoadBalancing"] == {"enabled": True}
    assert cluster["kubernetesNetworkConfig"]["serviceIpv4Cidr"] == "172.20.0.0/16"
    plain = eks.create_cluster(name="plain", roleArn=ROLE, resourcesVpcConfig={"subnetIds": subnets})["cluster"]
    assert plain["computeConfig"] == {"enabled": False} and plain["storageConfig"] == {"blockStorage": {"enabled": False}}


def test_auto_mode_update_enables_all_three_in_one_update(aws, subnets, aws_standin):
    eks, iam = aws("eks"), aws("iam")
    role = _auto_mode_cluster_role(iam, "auto-later", AUTO_FACTS["cluster_role"]["managed_policies"], ["sts:AssumeRole", "sts:TagSession"])
    eks.create_cluster(name="later", roleArn=role, resourcesVpcConfig={"subnetIds": subnets}, accessConfig={"authenticationMode": "API"})
    aws_standin.configure(time_scale=0.0001)
    eks.get_waiter("cluster_active").wait(name="later", WaiterConfig=FAST)
    with pytest.raises(ClientError) as partial:
        eks.update_cluster_config(name="later", computeConfig={"enabled": True}, storageConfig={"blockStorage": {"enabled": True}})
    assert error_code(partial) == "InvalidParameterException"
    update = eks.update_cluster_config(name="later", **AUTO_ON)["update"]
    assert update["type"] == "AutoModeUpdate" and {p["type"] for p in update["params"]} == {"ComputeConfig", "StorageConfig", "KubernetesNetworkConfig"}
    eks.get_waiter("cluster_active").wait(name="later", WaiterConfig=FAST)
    cluster = eks.describe_cluster(name="later")["cluster"]
    assert cluster["computeConfig"]["enabled"] and cluster["storageConfig"]["blockStorage"]["enabled"]
    assert cluster["kubernetesNetworkConfig"] == {"serviceIpv4Cidr": "172.20.0.0/16", "ipFamily": "ipv4", "elasticLoadBalancing": {"enabled": True}}


def test_an_ec2_access_entry_takes_the_auto_node_policy_only(aws, cluster):
    eks = aws("eks")
    name, role = cluster["name"], "arn:aws:iam::123456789012:role/auto-node"
    eks.create_access_entry(clusterName=name, principalArn=role, type="EC2")
    with pytest.raises(ClientError) as admin:
        eks.associate_access_policy(clusterName=name, principalArn=role, accessScope={"type": "cluster"},
                                    policyArn="arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy")
    assert error_code(admin) == "InvalidRequestException"
    eks.associate_access_policy(clusterName=name, principalArn=role, accessScope={"type": "cluster"},
                                policyArn="arn:aws:eks::aws:cluster-access-policy/AmazonEKSAutoNodePolicy")
    policies = eks.list_associated_access_policies(clusterName=name, principalArn=role)["associatedAccessPolicies"]
    assert [p["policyArn"].split("/")[-1] for p in policies] == ["AmazonEKSAutoNodePolicy"]
