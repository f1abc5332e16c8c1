"""btrfs_storage on real loop devices: check mode, apply, apply again, drift, safe mode, refusals."""

from __future__ import annotations

import os
import struct

import pytest

import realhost


def blkid_type(device):
    out = realhost.run(["blkid", "-p", "-o", "value", "-s", "TYPE", device], check=False)
    return out.stdout.strip() or None


def live_mount(mount_point):
    for line in open("/proc/self/mountinfo"):
        parts = line.split()
        if parts[4] == mount_point:
            sep = parts.index("-")
            return {"root": parts[3], "fstype": parts[sep + 1], "source": parts[sep + 2],
                    "options": parts[5].split(",") + parts[sep + 3].split(",")}
    return None


@pytest.fixture
def env(scratch):
    return dict(scratch, mount_point=scratch["target"])


def args(env, devices, **extra):
    return dict({"devices": devices, "mount_point": env["mount_point"], "fstab": env["fstab"]}, **extra)


def test_check_apply_again_and_drift(env):
    with realhost.loop_devices(1) as (device,):
        fstab_before = open(env["fstab"]).read()
        checked = realhost.run_module("btrfs_storage", args(env, [device]), check_mode=True)
        assert checked["changed"] is True and not checked.get("failed"), checked
        assert any(step.startswith("mkfs.btrfs") for step in checked["plan"])
        assert blkid_type(device) is None, "check mode formatted the device"
        assert live_mount(env["mount_point"]) is None and open(env["fstab"]).read() == fstab_before

        applied = realhost.run_module("btrfs_storage", args(env, [device]))
        assert applied["changed"] is True and not applied.get("failed"), applied
        assert blkid_type(device) == "btrfs"
        mount = live_mount(env["mount_point"])
        assert mount["fstype"] == "btrfs" and mount["root"] == "/@docker"
        assert "compress=zstd:3" in mount["options"] and "noatime" in mount["options"]
        fstab = open(env["fstab"]).read()
        assert "UUID=abc / ext4 defaults 0 1" in fstab
        assert "UUID=%s %s btrfs noatime,compress=zstd:3,subvol=@docker 0 0" % (applied["uuid"], env["mount_point"]) \
            in fstab
        assert applied["checksum"] == "crc32c"

        again = realhost.run_module("btrfs_storage", args(env, [device]))
        assert again["changed"] is False and again["plan"] == [], again
        assert realhost.run_module("btrfs_storage", args(env, [device]), check_mode=True)["changed"] is False

        # Drift by hand: compression switched off on the live mount, the fstab line deleted.
        realhost.run(["mount", "-o", "remount,compress=no", env["mount_point"]])
        open(env["fstab"], "w").write(fstab_before)
        drift = realhost.run_module("btrfs_storage", args(env, [device]), check_mode=True)
        assert drift["changed"] is True
        assert any("remount" in step and "compress=zstd:3" in step for step in drift["plan"]), drift["plan"]
        assert any(step.startswith("fstab entry") for step in drift["plan"])
        assert not any(o.startswith("compress=") for o in live_mount(env["mount_point"])["options"])
        assert open(env["fstab"]).read() == fstab_before

        fixed = realhost.run_module("btrfs_storage", args(env, [device]))
        assert fixed["changed"] is True
        assert "compress=zstd:3" in live_mount(env["mount_point"])["options"]
        assert applied["uuid"] in open(env["fstab"]).read()
        assert realhost.run_module("btrfs_storage", args(env, [device]))["changed"] is False


def test_safe_mode_keeps_an_existing_filesystem(env):
    with realhost.loop_devices(1) as (device,):
        realhost.run(["mkfs.ext4", "-q", "-F", device])
        holder = env["tmp"] / "holder"
        holder.mkdir()
        realhost.run(["mount", device, str(holder)])
        (holder / "precious.txt").write_text("keep me")
        realhost.run(["umount", str(holder)])

        refused = realhost.run_module("btrfs_storage", args(env, [device]))
        assert refused.get("failed") is True
        assert device in refused["msg"] and "ext4 signature" in refused["msg"]
        assert "docker_storage_force_devices" in refused["msg"]
        assert blkid_type(device) == "ext4"
        realhost.run(["mount", device, str(holder)])
        assert (holder / "precious.txt").read_text() == "keep me"
        realhost.run(["umount", str(holder)])

        forced = realhost.run_module("btrfs_storage", args(env, [device], force_devices=[device]))
        assert forced["changed"] is True and blkid_type(device) == "btrfs", forced


def test_safe_mode_keeps_a_partition_table(env):
    """An MBR with one partition and no filesystem yet: still somebody's disk layout, so it is refused."""
    with realhost.loop_devices(1) as (device,):
        entry = struct.pack("<B3sB3sII", 0, b"\0\0\0", 0x83, b"\0\0\0", 2048, 65536)
        with open(device, "r+b") as disk:
            disk.seek(446)
            disk.write(entry)
            disk.seek(510)
            disk.write(b"\x55\xaa")
        realhost.run(["blockdev", "--rereadpt", device], check=False)
        refused = realhost.run_module("btrfs_storage", args(env, [device]))
        assert refused.get("failed") is True and device in refused["msg"], refused
        assert "partition table" in refused["msg"], refused["msg"]
        assert realhost.run(["blkid", "-p", "-o", "value", "-s", "PTTYPE", device]).stdout.strip() == "dos"


def test_mounted_device_is_refused_even_when_forced(env):
    with realhost.loop_devices(1) as (device,):
        realhost.run(["mkfs.ext4", "-q", "-F", device])
        holder = env["tmp"] / "holder"
        holder.mkdir()
        realhost.run(["mount", device, str(holder)])
        try:
            refused = realhost.run_module("btrfs_storage", args(env, [device], force_devices=[device]))
            assert refused.get("failed") and "mounted filesystem at %s" % holder in refused["msg"], refused
        finally:
            realhost.run(["umount", str(holder)])
        assert blkid_type(device) == "ext4"


def test_checksum_and_profile_drift_are_refused(env):
    with realhost.loop_devices(2) as devices:
        made = realhost.run_module("btrfs_storage", args(env, devices, checksum="xxhash", data_profile="raid1",
                                                         metadata_profile="raid1"))
        assert made["changed"] and made["checksum"] == "xxhash" and made["profiles"] == {}, made
        again = realhost.run_module("btrfs_storage", args(env, devices, checksum="xxhash", data_profile="raid1",
                                                          metadata_profile="raid1"))
        assert not again.get("failed") and again["changed"] is False, again
        assert again["profiles"]["data"] == again["profiles"]["metadata"] == "raid1"
        csum = realhost.run_module("btrfs_storage", args(env, devices, checksum="sha256"))
        assert csum.get("failed") and "cannot be changed in place" in csum["msg"], csum
        profile = realhost.run_module("btrfs_storage", args(env, devices, checksum="xxhash", data_profile="single"))
        assert profile.get("failed") and "btrfs balance start -dconvert=single" in profile["msg"], profile
        assert made["uuid"] in realhost.run(["blkid", "-p", "-o", "value", "-s", "UUID", devices[0]]).stdout


def test_data_root_with_files_is_never_mounted_over(env):
    os.makedirs(os.path.join(env["mount_point"], "overlay2"))
    with realhost.loop_devices(1) as (device,):
        refused = realhost.run_module("btrfs_storage", args(env, [device]))
        assert refused.get("failed") and "would hide them" in refused["msg"], refused
        assert blkid_type(device) is None, "nothing may change before a refusal"


@pytest.mark.parametrize("bad, fragment", [
    ({"devices": ["/dev/nonexistent-disk"]}, "does not exist"),
    ({"devices": ["/etc/hostname"]}, "is not a block device"),
    ({"subvolume": "../escape"}, "btrfs subvolume"),
    ({"mount_options": ["compress=gzip"]}, "compress=zstd"),
    ({"data_profile": "raid1"}, "needs at least 2 devices"),
])
def test_bad_input_fails_before_any_change(env, bad, fragment):
    with realhost.loop_devices(1) as (device,):
        result = realhost.run_module("btrfs_storage", dict(args(env, [device]), **bad))
        assert result.get("failed") and fragment in result["msg"], result
        assert blkid_type(device) is None


def test_root_disk_is_refused(env):
    root = [m for m in open("/proc/self/mountinfo") if m.split()[4] == "/"][-1]
    source = root.split()[root.split().index("-") + 2]
    if not source.startswith("/dev/") or not os.path.exists(source):
        pytest.skip("/ is not on a block device here (%s)" % source)
    result = realhost.run_module("btrfs_storage", args(env, [source], force_devices=[source]))
    assert result.get("failed") and "system disk" in result["msg"], result


def run_module_with_shims(name, module_args, shim_dir, check_mode=False):
    """The module with ``mount`` and ``umount`` on PATH as shims that log each call and run the real tool."""
    log = os.path.join(shim_dir, "calls.log")
    for tool in ("mount", "umount"):
        real = realhost.shutil.which(tool, path="/usr/bin:/bin:/usr/sbin:/sbin")
        path = os.path.join(shim_dir, tool)
        with open(path, "w") as handle:
            handle.write('#!/bin/sh\necho "%s $*" >> %s\nexec %s "$@"\n' % (tool, log, real))
        os.chmod(path, 0o755)
    old = os.environ["PATH"]
    os.environ["PATH"] = shim_dir + os.pathsep + old
    try:
        result = realhost.run_module(name, module_args, check_mode=check_mode)
    finally:
        os.environ["PATH"] = old
    calls = open(log).read().splitlines() if os.path.exists(log) else []
    return result, calls


@pytest.mark.parametrize("subvolume_made", [True, False], ids=["subvolume there", "subvolume missing"])
def test_check_mode_mounts_nothing_on_an_unmounted_filesystem(env, tmp_path, subvolume_made):
    """An existing btrfs that is not mounted: check mode reads its trees from the device (dump-tree), where it used
    to mount it read-only; it plans what a real run does, and the real run then does it."""
    shims = tmp_path / "shims"
    shims.mkdir()
    with realhost.loop_devices(1) as (device,):
        realhost.run(["mkfs.btrfs", "-q", "-f", "-L", "docker", device])
        if subvolume_made:
            top = tmp_path / "top"
            top.mkdir()
            realhost.run(["mount", device, str(top)])
            realhost.run(["btrfs", "subvolume", "create", str(top / "@docker")])
            realhost.run(["umount", str(top)])
        checked, calls = run_module_with_shims("btrfs_storage", args(env, [device]), str(shims), check_mode=True)
        assert not checked.get("failed"), checked
        assert calls == [], "check mode ran %s" % calls
        assert live_mount(env["mount_point"]) is None
        assert ("create subvolume @docker" in checked["plan"]) is not subvolume_made, checked["plan"]
        assert checked["plan"][-2:] == ["mount @docker at %s (noatime,compress=zstd:3,subvol=@docker)"
                                        % env["mount_point"], "fstab entry for %s" % env["mount_point"]]
        applied, calls = run_module_with_shims("btrfs_storage", args(env, [device]), str(shims))
        assert applied["plan"] == checked["plan"] and not applied.get("failed"), applied
        assert any(c.startswith("mount -t btrfs -o noatime,compress=zstd:3,subvol=@docker") for c in calls), calls
        assert live_mount(env["mount_point"])["root"] == "/@docker"
