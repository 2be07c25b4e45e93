"""KMS: key operations accept a key ARN as well as the id, as AWS does (several moto ones only take the id)."""
from moto.kms.models import KmsBackend


def _accept_arn(method):
    def wrapper(self, key_id, *args, **kwargs):
        return method(self, KmsBackend.get_key_id(key_id), *args, **kwargs)
    wrapper.standin = True
    return wrapper


def install():
    for name in ("schedule_key_deletion", "cancel_key_deletion", "enable_key", "disable_key", "enable_key_rotation",
                 "disable_key_rotation", "get_key_rotation_status", "put_key_policy", "get_key_policy", "update_key_description"):
        method = getattr(KmsBackend, name)
        if not getattr(method, "standin", False):
            setattr(KmsBackend, name, _accept_arn(method))
