"""Bad input on the real role, on this host: each refused in check mode and in a real run, with a message naming
the variable or value and what to do, and nothing changed - /etc/docker, /etc/fstab, the mounts, the loop
devices, the data-root and the lab file stay as they were. The pure rules' full table is
tests/unit/plugins/module_utils/test_bad_inputs.py; these are the ones that need the host (a file that is not a
device, a device that does not exist, a foreign file as a lab file, missing ZFS, a device holding a filesystem)
plus a sample of the pure ones through the role."""

from __future__ import annotations

import hashlib
import os
import shutil

import pytest

import realhost
from test_role_btrfs_real import play


def tree_digest(path):
    digest = hashlib.sha256()
    for root, dirs, files in os.walk(path):
        dirs.sort()
        for name in sorted(files):
            full = os.path.join(root, name)
            st = os.lstat(full)
            digest.update(("%s %o %d\n" % (full, st.st_mode, st.st_size)).encode())
            if os.path.isfile(full) and not os.path.islink(full):
                with open(full, "rb") as handle:
                    digest.update(handle.read())
    return digest.hexdigest()


def host_state(*extra):
    with open("/proc/self/mountinfo") as handle:
        mounts = sorted(line.split()[4] for line in handle)
    loops = realhost.run(["losetup", "--noheadings", "--output", "NAME,BACK-FILE"], check=False).stdout
    return {"etc_docker": tree_digest("/etc/docker") if os.path.isdir("/etc/docker") else None,
            "fstab": hashlib.sha256(open("/etc/fstab", "rb").read()).hexdigest() if os.path.exists("/etc/fstab") else None,
            "mounts": mounts, "loops": sorted(loops.splitlines()),
            "extra": [path_digest(p) for p in extra]}


def path_digest(path):
    if os.path.isdir(path):
        return tree_digest(path)
    if not os.path.exists(path):
        return None
    with open(path, "rb") as handle:
        return handle.read(), oct(os.stat(path).st_mode)


@pytest.fixture
def passwd_copy(tmp_path):
    path = tmp_path / "passwd"
    shutil.copy("/etc/passwd", path)
    os.chmod(path, 0o644)
    return str(path)


def role_vars(tmp_path, **extra):
    """The role with the host's own /etc/docker/daemon.json and /etc/fstab (they must stay unchanged), and a private
    data-root."""
    return dict({"docker_storage_data_root": str(tmp_path / "docker"), "docker_storage_docker_unit_dropin": False}, **extra)


HOST_CASES = [
    ("a file as a device", {"docker_storage_policy": "large_images", "docker_storage_devices": ["/etc/passwd"]},
     "docker_storage_devices entry /etc/passwd is not a device path"),
    ("a device that does not exist", {"docker_storage_policy": "enterprise",
                                      "docker_storage_devices": ["/dev/does-not-exist"]},
     "docker_storage_devices entry /dev/does-not-exist does not exist"),
    ("a device node that is not a block device",
     {"docker_storage_policy": "large_images", "docker_storage_devices": ["/dev/null"]},
     "docker_storage_devices entry /dev/null is not a block device"),
    ("ZFS on a host without it, install off", {"docker_storage_policy": "enterprise", "docker_storage_devices": "LOOP",
                                               "docker_storage_install_packages": False},
     "needs the ZFS tools (zfs, zpool) and the ZFS kernel module, which this host lacks: install zfsutils-linux"),
    ("a pool name with a shell command, policy btrfs", {"docker_storage_policy": "large_images",
                                                        "docker_storage_devices": "LOOP",
                                                        "docker_storage_zfs_pool": "tank;rm -rf /"},
     "docker_storage_zfs_pool: pool name 'tank;rm -rf /'"),
    ("a dataset with a command substitution", {"docker_storage_policy": "large_images", "docker_storage_devices": "LOOP",
                                               "docker_storage_zfs_pool": "tank",
                                               "docker_storage_zfs_dataset": "tank/do$(id)"},
     "docker_storage_zfs_dataset: dataset name 'tank/do$(id)'"),
    ("compression bogus", {"docker_storage_policy": "large_images", "docker_storage_devices": "LOOP",
                           "docker_storage_zfs_properties": {"compression": "bogus"}}, "compression=bogus"),
    ("checksum md5", {"docker_storage_policy": "large_images", "docker_storage_devices": "LOOP",
                      "docker_storage_zfs_properties": {"checksum": "md5"}}, "checksum=md5"),
    ("devices for general", {"docker_storage_policy": "general", "docker_storage_devices": "LOOP"},
     "docker_storage_policy general prepares no filesystem"),
    ("a device holding ext4 (safe mode)", {"docker_storage_policy": "large_images", "docker_storage_devices": "EXT4"},
     "refusing to use"),
]


@pytest.mark.parametrize("check", [True, False], ids=["check mode", "real run"])
@pytest.mark.parametrize("name, extra, fragment", HOST_CASES, ids=[c[0] for c in HOST_CASES])
def test_refused_and_nothing_changed(tmp_path, name, extra, fragment, check):
    with realhost.loop_devices(1) as (loop,):
        if extra.get("docker_storage_devices") == "EXT4":
            realhost.run(["mkfs.ext4", "-q", "-F", loop])
        if extra.get("docker_storage_devices") in ("LOOP", "EXT4"):
            extra = dict(extra, docker_storage_devices=[loop])
        signature = realhost.run(["blkid", "-p", "-o", "export", loop], check=False).stdout
        before = host_state(str(tmp_path / "docker"))
        proc, counts = play(tmp_path, role_vars(tmp_path, **extra), check=check)
        assert counts["failed"] == 1 and counts["changed"] == 0, proc.stdout[-3000:]
        assert fragment in proc.stdout, proc.stdout[-3000:]
        assert "Nothing was changed" in proc.stdout
        assert host_state(str(tmp_path / "docker")) == before
        assert realhost.run(["blkid", "-p", "-o", "export", loop], check=False).stdout == signature


@pytest.mark.parametrize("check", [True, False], ids=["check mode", "real run"])
def test_a_foreign_file_is_never_a_lab_file(tmp_path, passwd_copy, check):
    """A copy of a passwd file named as the lab file: refused naming it, its content, size and mode untouched, no
    loop device attached - in check mode too, which must not plan what a real run would refuse."""
    content = open(passwd_copy, "rb").read()
    before = host_state(passwd_copy)
    extra = role_vars(tmp_path, docker_storage_policy="large_images",
                      docker_storage_lab_file={"path": passwd_copy, "size": "1G"})
    proc, counts = play(tmp_path, extra, check=check)
    assert counts["failed"] == 1 and counts["changed"] == 0, proc.stdout[-3000:]
    assert "docker_storage_lab_file.path %s exists and was not made by cowstack.docker_storage" % passwd_copy \
        in proc.stdout, proc.stdout[-3000:]
    assert open(passwd_copy, "rb").read() == content and oct(os.stat(passwd_copy).st_mode)[-3:] == "644"
    assert host_state(passwd_copy) == before
    assert realhost.run(["losetup", "-j", passwd_copy]).stdout == ""


def test_the_lab_loop_module_refuses_a_foreign_file_too(passwd_copy):
    content = open(passwd_copy, "rb").read()
    for check in (True, False):
        result = realhost.run_module("lab_loop", {"path": passwd_copy, "size": "256M"}, check_mode=check)
        assert result.get("failed") and "was not made by cowstack.docker_storage" in result["msg"], result
        assert result["plan"] == []
    assert open(passwd_copy, "rb").read() == content and os.path.getsize(passwd_copy) == len(content)
