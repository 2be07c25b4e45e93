"""EFS on top of moto 5.2.5.

moto 500s on PutBackupPolicy, UpdateFileSystem and DeleteFileSystemPolicy, only
knows a backup policy set at creation, and raises KeyError (500) for the policy
calls on an unknown file system. Lifecycle configuration and mount target
security groups work natively. File systems and mount targets get time replay.
"""
import json

from moto.efs import urls as efs_urls
from moto.efs.exceptions import BadRequest, EFSError, FileSystemNotFound, MountTargetNotFound
from moto.efs.models import EFSBackend, FileSystem, MountTarget
from moto.efs.responses import EFSResponse

from . import timing

SECONDS = {"CreateFileSystem": 10, "CreateMountTarget": 90, "DeleteMountTarget": 60}
JSON = {"Content-Type": "application/json"}


class ValidationException(EFSError):
    code = 400

    def __init__(self, msg):
        super().__init__("ValidationException", msg)


class IncorrectFileSystemLifeCycleState(EFSError):
    code = 409

    def __init__(self, msg):
        super().__init__("IncorrectFileSystemLifeCycleState", msg)


class StandinEFSResponse(EFSResponse):
    def _fs(self):
        fs_id = self._get_param("FileSystemId")
        if fs_id not in self.efs_backend.file_systems_by_id:
            raise FileSystemNotFound(fs_id)
        return self.efs_backend.file_systems_by_id[fs_id]

    def describe_tags(self):
        """The original tags API (DescribeTags), which community.aws.efs_info still calls; moto only has ListTagsForResource."""
        fs = self._fs()
        return json.dumps({"Tags": self.efs_backend.list_tags_for_resource(fs.file_system_id)}), JSON

    def put_backup_policy(self):
        fs = self._fs()
        status = (self._get_param("BackupPolicy") or {}).get("Status")
        if status not in ("ENABLED", "DISABLED"):
            raise ValidationException(f"BackupPolicy.Status must be ENABLED or DISABLED, not {status}")
        fs._standin_backup = status  # AWS passes ENABLING/DISABLING within seconds; we report the result
        return json.dumps({"BackupPolicy": {"Status": status}}), JSON

    def describe_backup_policy(self):
        fs = self._fs()
        if "_standin_backup" in fs.__dict__:  # a DISABLED policy still exists in AWS; moto would say PolicyNotFound
            return json.dumps({"BackupPolicy": {"Status": fs._standin_backup}}), JSON
        return super().describe_backup_policy()

    def update_file_system(self):
        fs = self._fs()
        mode = self._get_param("ThroughputMode")
        mibps = self._get_param("ProvisionedThroughputInMibps")
        if mode and mode not in ("bursting", "provisioned", "elastic"):
            raise BadRequest(f"Invalid ThroughputMode {mode}")
        if (mode or fs.throughput_mode) == "provisioned" and not (mibps or fs.provisioned_throughput_in_mibps):
            raise BadRequest("ProvisionedThroughputInMibps is required when ThroughputMode is provisioned")
        if mode:
            fs.throughput_mode = mode
            if mode != "provisioned":
                fs.provisioned_throughput_in_mibps = None
        if mibps:
            fs.provisioned_throughput_in_mibps = float(mibps)
        return json.dumps(fs.info_json()), {**JSON, "status": 202}

    def put_file_system_policy(self):
        self._fs()
        try:
            json.loads(self._get_param("Policy") or "")
        except ValueError:
            raise EFSError("InvalidPolicyException", "Policy is not valid JSON") from None
        return super().put_file_system_policy()

    def describe_file_system_policy(self):
        self._fs()
        return super().describe_file_system_policy()

    def delete_file_system_policy(self):
        self._fs().file_system_policy = None
        return "{}", JSON

    def create_mount_target(self):
        fs = self._fs()
        if fs.life_cycle_state != "available":
            raise IncorrectFileSystemLifeCycleState(f"File system {fs.file_system_id} is {fs.life_cycle_state}, not available")
        return super().create_mount_target()

    def delete_mount_target(self):
        backend = self.efs_backend
        mt_id = self._get_param("MountTargetId")
        target = backend.mount_targets_by_id.get(mt_id)
        if target is None:
            raise MountTargetNotFound(mt_id)
        timing.cancel(target, "life_cycle_state")
        target.life_cycle_state = "deleting"  # stays (and blocks DeleteFileSystem) until the replayed delete ends

        def gone():
            if backend.mount_targets_by_id.get(mt_id) is target:
                backend.delete_mount_target(mt_id)
        timing.after(timing.start("efs", "DeleteMountTarget", mt_id, SECONDS["DeleteMountTarget"]), gone)
        return "{}", {**JSON, "status": 204}


def _with_state(info_json):
    """moto builds EFS JSON from __dict__; read the state through the TimedAttr instead."""
    def wrapper(self):
        result = info_json(self)
        result["LifeCycleState"] = self.life_cycle_state
        return result
    wrapper.standin = True
    return wrapper


def _timed_create(method, operation, id_attr):
    def wrapper(self, *args, **kwargs):
        resource = method(self, *args, **kwargs)
        end = timing.start("efs", operation, getattr(resource, id_attr), SECONDS[operation])
        timing.hold(resource, "life_cycle_state", "creating", end)
        return resource
    wrapper.standin = True
    return wrapper


def install():
    for cls in (FileSystem, MountTarget):
        timing.timed(cls, "life_cycle_state")
        if not getattr(cls.info_json, "standin", False):
            cls.info_json = _with_state(cls.info_json)
    if not getattr(EFSBackend.create_file_system, "standin", False):
        EFSBackend.create_file_system = _timed_create(EFSBackend.create_file_system, "CreateFileSystem", "file_system_id")
        EFSBackend.create_mount_target = _timed_create(EFSBackend.create_mount_target, "CreateMountTarget", "mount_target_id")
    efs_urls.url_paths["/2015-02-01/tags/<file_system_id>/"] = StandinEFSResponse.dispatch
    for path in efs_urls.url_paths:
        efs_urls.url_paths[path] = StandinEFSResponse.dispatch
