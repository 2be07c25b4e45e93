"""EC2 NAT gateways with time replay: pending -> available, deleting -> deleted.

Also their tags' resource type, which moto names differently from AWS.

moto creates them `available` and deletes them to `deleted` at once, and 500s
(AttributeError) when deleting an unknown id.

EBS volumes not created from a snapshot: AWS answers SnapshotId "" (amazon.aws.ec2_vol_info reads it),
moto leaves the field out.
"""
from moto.ec2 import utils as ec2_utils
from moto.ec2.exceptions import EC2ClientError
from moto.ec2.models.elastic_block_store import Volume
from moto.ec2.models.nat_gateways import NatGateway, NatGatewayBackend

from . import timing

SECONDS = {"CreateNatGateway": 90, "DeleteNatGateway": 60}


def _create(method):
    def create_nat_gateway(self, *args, **kwargs):
        nat = method(self, *args, **kwargs)
        end = timing.start("ec2", "CreateNatGateway", nat.id, SECONDS["CreateNatGateway"])
        timing.hold(nat, "state", "pending", end)
        return nat
    create_nat_gateway.standin = True
    return create_nat_gateway


def _delete(method):
    def delete_nat_gateway(self, nat_gateway_id):
        if nat_gateway_id not in self.nat_gateways:
            raise EC2ClientError("NatGatewayNotFound", f"The Nat Gateway {nat_gateway_id} was not found")
        nat = method(self, nat_gateway_id)  # moto sets state "deleted"; show "deleting" until the replay ends
        end = timing.start("ec2", "DeleteNatGateway", nat.id, SECONDS["DeleteNatGateway"])
        timing.hold(nat, "state", "deleting", end)
        return nat
    delete_nat_gateway.standin = True
    return delete_nat_gateway


def _volume_init(method):
    def init(self, *args, **kwargs):
        method(self, *args, **kwargs)
        if self.snapshot_id is None:
            self.snapshot_id = ""
    init.standin = True
    return init


def install():
    # AWS reports (and filters) NAT gateway tags as resource type "natgateway"; moto says "nat-gateway",
    # so amazon.aws.ec2_vpc_nat_gateway never sees its own tags and re-tags on every run.
    ec2_utils.EC2_PREFIX_TO_RESOURCE["nat"] = "natgateway"
    timing.timed(NatGateway, "state")
    if not getattr(NatGatewayBackend.create_nat_gateway, "standin", False):
        NatGatewayBackend.create_nat_gateway = _create(NatGatewayBackend.create_nat_gateway)
        NatGatewayBackend.delete_nat_gateway = _delete(NatGatewayBackend.delete_nat_gateway)
    if not getattr(Volume.__init__, "standin", False):
        Volume.__init__ = _volume_init(Volume.__init__)
