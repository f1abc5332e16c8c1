"""What btrfs_storage and zfs_storage share: the options, the safe-mode and mount-point refusals (messages name
module options)."""

from __future__ import annotations

from ansible_collections.cowstack.docker_storage.plugins.module_utils import _storage_module as S
from ansible_collections.cowstack.docker_storage.plugins.module_utils._plan import Plan

BLANK = {"problem": None, "root_disk": False, "mounted_at": [], "holds": [], "probe": {}}
PARAMS = {"force_devices": [], "assume_empty_mount_point": False}


def test_argument_spec_adds_the_shared_options():
    spec = S.argument_spec(pool=dict(type="str", required=True))
    assert sorted(spec) == ["assume_empty_mount_point", "force_devices", "mount_point", "pool", "validate_only"]
    assert spec["mount_point"] == dict(type="path", required=True)


def test_safe_mode_refuses_what_a_device_holds_unless_forced():
    plan = Plan()
    infos = [dict(BLANK, path="/dev/vdb", holds=["a ext4 signature"]), dict(BLANK, path="/dev/vdc")]
    S.refuse_devices(plan, infos, PARAMS, "formatted")
    assert len(plan.refusals) == 1 and "/dev/vdb" in plan.refusals[0] and "force_devices" in plan.refusals[0]
    forced = Plan()
    S.refuse_devices(forced, infos, dict(PARAMS, force_devices=["/dev/vdb"]), "formatted")
    assert forced.refusals == []


def test_root_and_mounted_devices_are_refused_even_when_forced():
    plan = Plan()
    infos = [dict(BLANK, path="/dev/vda", root_disk=True, holds=["the root filesystem (it is the system disk)"]),
             dict(BLANK, path="/dev/vdb", mounted_at=["/mnt"], holds=["a mounted filesystem at /mnt"])]
    S.refuse_devices(plan, infos, dict(PARAMS, force_devices=["/dev/vda", "/dev/vdb"]), "used")
    assert len(plan.refusals) == 2
    assert all(r.endswith("(root disks and mounted devices are never used, forced or not)") for r in plan.refusals)


def test_files_at_the_mount_point_are_named(tmp_path):
    params = dict(PARAMS, mount_point=str(tmp_path / "docker"))
    assert S.files_at(params) == []
    for name in ("overlay2", "image", "volumes", "a", "b", "c"):
        (tmp_path / "docker" / name).mkdir(parents=True)
    files = S.files_at(params)
    assert files == ["a", "b", "c", "image", "overlay2", "volumes"]
    assert S.files_at(dict(params, assume_empty_mount_point=True)) == []
    message = S.hiding(params["mount_point"], files, "a dataset")
    assert "(a, b, c, image, overlay2)" in message and "mounting a dataset over them would hide them" in message
