"""storage_probe: writes, reads back and removes a file, and reports an unwritable volume as a failure in words."""
import importlib.util
import os

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
_spec = importlib.util.spec_from_file_location("storage_probe", os.path.join(REPO, "roles", "verify", "files", "storage_probe.py"))
storage_probe = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(storage_probe)


def test_a_writable_volume_passes_and_keeps_nothing(tmp_path):
    volume, log = tmp_path / "data", tmp_path / "termination-log"
    volume.mkdir()
    assert storage_probe.probe(str(volume), str(log)) == 0
    assert list(volume.iterdir()) == []
    assert log.read_text().startswith("wrote, read back and removed 131072 bytes")


def test_an_unwritable_volume_fails_saying_why(tmp_path):
    volume, log = tmp_path / "data", tmp_path / "termination-log"
    volume.mkdir()
    volume.chmod(0o500)
    try:
        code = storage_probe.probe(str(volume), str(log))
    finally:
        volume.chmod(0o700)
    if os.geteuid() == 0:  # root writes anyway: the missing directory below is the failure case then
        code = storage_probe.probe(str(tmp_path / "missing"), str(log))
    assert code == 1
    assert log.read_text().startswith("I/O error on ")
