"""The root disk is found from the root mount's major:minor, also when its source is /dev/root (no device node),
and through device-mapper slaves at every level; on a fake sysfs tree."""

from __future__ import annotations

import os

from ansible_collections.cowstack.docker_storage.plugins.module_utils._mountinfo import parse_mountinfo
from ansible_collections.cowstack.docker_storage.plugins.module_utils._probe_devices import root_disks


def fake_sys(tmp_path):
    sys = tmp_path / "sys"
    devices = sys / "devices" / "pci0000:00" / "virtio2" / "block"
    (devices / "vda" / "vda1").mkdir(parents=True)
    (devices / "vda" / "vda1" / "partition").write_text("1\n")
    (devices / "vdb").mkdir(parents=True)
    (sys / "devices" / "virtual" / "block" / "dm-0" / "slaves").mkdir(parents=True)
    os.symlink(str(devices / "vdb"), str(sys / "devices" / "virtual" / "block" / "dm-0" / "slaves" / "vdb"))
    (sys / "class" / "block").mkdir(parents=True)
    (sys / "dev" / "block").mkdir(parents=True)
    for name, path, number in (("vda", devices / "vda", "254:0"), ("vda1", devices / "vda" / "vda1", "254:1"),
                               ("vdb", devices / "vdb", "254:16"),
                               ("dm-0", sys / "devices" / "virtual" / "block" / "dm-0", "253:0")):
        os.symlink(str(path), str(sys / "class" / "block" / name))
        os.symlink(str(path), str(sys / "dev" / "block" / number))
    return str(sys)


def mounts(number, source):
    return parse_mountinfo("22 1 %s / / rw,relatime shared:1 - ext4 %s rw\n"
                           "40 22 0:35 / /var/lib/docker rw - btrfs /dev/loop7 rw\n" % (number, source))


def test_dev_root_is_found_by_its_number(tmp_path):
    assert root_disks(mounts("254:1", "/dev/root"), fake_sys(tmp_path)) == {"vda1", "vda"}


def test_a_device_mapper_root_names_its_slaves(tmp_path):
    assert root_disks(mounts("253:0", "/dev/mapper/vg-root"), fake_sys(tmp_path)) == {"dm-0", "vdb"}


def test_an_anonymous_number_and_no_device_finds_nothing(tmp_path):
    assert root_disks(mounts("0:27", "rpool/ROOT/debian"), fake_sys(tmp_path)) == set()


def test_lvm_on_luks_on_a_partition_reaches_the_disk(tmp_path):
    """dm-2 (LVM) sits on dm-1 (LUKS), which sits on vdc2: all three and the disk vdc are the root's."""
    sys = tmp_path / "sys"
    fake_sys(tmp_path)
    disk = sys / "devices" / "pci0000:00" / "virtio3" / "block" / "vdc"
    (disk / "vdc2").mkdir(parents=True)
    (disk / "vdc2" / "partition").write_text("2\n")
    virtual = sys / "devices" / "virtual" / "block"
    for name, slave, path in (("dm-1", "vdc2", disk / "vdc2"), ("dm-2", "dm-1", virtual / "dm-1")):
        (virtual / name / "slaves").mkdir(parents=True)
        os.symlink(str(path), str(virtual / name / "slaves" / slave))
    for name, path, number in (("vdc", disk, "254:32"), ("vdc2", disk / "vdc2", "254:34"),
                               ("dm-1", virtual / "dm-1", "253:1"), ("dm-2", virtual / "dm-2", "253:2")):
        os.symlink(str(path), str(sys / "class" / "block" / name))
        os.symlink(str(path), str(sys / "dev" / "block" / number))
    found = root_disks(mounts("253:2", "/dev/mapper/vg-root"), str(sys))
    assert found == {"dm-2", "dm-1", "vdc2", "vdc"}


def test_a_partitioned_raid_reaches_its_member_disks(tmp_path):
    """/ on md126p2: the partition has no slaves, its array md126 has sda and sdb; all four are the root's."""
    sys = tmp_path / "sys"
    fake_sys(tmp_path)
    virtual = sys / "devices" / "virtual" / "block"
    scsi = sys / "devices" / "pci0000:00" / "ata1" / "block"
    (virtual / "md126" / "md126p2").mkdir(parents=True)
    (virtual / "md126" / "md126p2" / "partition").write_text("2\n")
    (virtual / "md126" / "slaves").mkdir()
    for disk in ("sda", "sdb"):
        (scsi / disk).mkdir(parents=True)
        os.symlink(str(scsi / disk), str(virtual / "md126" / "slaves" / disk))
    for name, path, number in (("md126", virtual / "md126", "9:126"), ("md126p2", virtual / "md126" / "md126p2", "259:2"),
                               ("sda", scsi / "sda", "8:0"), ("sdb", scsi / "sdb", "8:16")):
        os.symlink(str(path), str(sys / "class" / "block" / name))
        os.symlink(str(path), str(sys / "dev" / "block" / number))
    assert root_disks(mounts("259:2", "/dev/md126p2"), str(sys)) == {"md126p2", "md126", "sda", "sdb"}
