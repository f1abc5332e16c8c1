"""Pure rules and parsers of the storage modules: ZFS, btrfs, fstab, safe mode."""

from __future__ import annotations

import pytest

from ansible_collections.cowstack.docker_storage.plugins.module_utils import _blockdev, _btrfs, _fstab, _zfs


@pytest.mark.parametrize("name, kind, fragment", [
    ("tank", "pool", None),
    ("tank/docker", "dataset", None),
    ("tank/docker:data.v2-x", "dataset", None),
    ("tank docker", "pool", "no spaces"),
    ("tank/doc ker", "dataset", "no spaces"),
    ("tank@snap", "pool", "'@'"),
    ("tank;reboot", "pool", "';'"),
    ("tank/$(reboot)", "dataset", "'$'"),
    ("-tank", "pool", "leading '-'"),
    ("tank/-x", "dataset", "leading '-'"),
    ("1tank", "pool", "start with a letter"),
    ("mirror", "pool", "reserved"),
    ("raidz2x", "pool", "reserved"),
    ("c0t0d0", "pool", "reserved"),
    ("tank/a", "pool", "must not contain '/'"),
    ("", "pool", "empty"),
    ("t" + "a" * 255, "pool", "longer than"),
    ("tank/" + "/".join(["abcdefghij"] * 24), "dataset", "longer than"),
])
def test_zfs_names(name, kind, fragment):
    problem = _zfs.validate_name(name, kind)
    if fragment is None:
        assert problem is None
    else:
        assert problem and fragment in problem


@pytest.mark.parametrize("props, version, error, warning", [
    ({"compression": "lz4", "atime": "off", "checksum": "sha256"}, "2.1.11", None, None),
    ({"compression": "zstd"}, "2.1.11", None, None),
    ({"compression": "zstd-19"}, "2.1.11", None, "costs much CPU"),
    ({"compression": "zstd-20"}, "2.1.11", "use a zstd level of 1 to 19", None),
    ({"compression": "zstd-3"}, "0.8.6", "needs OpenZFS >= 2.0", None),
    ({"compression": "zstd-fast-1000"}, "2.3.9", None, None),
    ({"compression": "zstd-fast-11"}, "2.3.9", "zstd-fast level", None),
    ({"compression": "gzip-9"}, "2.1.11", None, "CPU bound"),
    ({"compression": "brotli"}, "2.1.11", "unknown compression", None),
    ({"atime": "relatime"}, "2.1.11", "must be on or off", None),
    ({"atime": "sometimes"}, "2.1.11", "must be on or off", None),
    ({"checksum": "off"}, "2.1.11", "removes ZFS's integrity", None),
    ({"checksum": "blake3"}, "2.1.11", "needs OpenZFS >= 2.2", None),
    ({"checksum": "blake3"}, "2.2.0", None, None),
    ({"dedup": "on"}, "2.3.9", None, "5 GiB of RAM per TiB"),
    ({"dedup": "sometimes"}, "2.3.9", "dedup must be", None),
    ({"volblocksize": "8K"}, "2.3.9", "unknown or unmanaged", None),
    ({"org.example:owner": "ops"}, "2.3.9", None, None),
])
def test_zfs_properties(props, version, error, warning):
    errors, warnings = _zfs.validate_properties(props, version)
    assert (errors and error in errors[0]) if error else errors == []
    assert (warnings and warning in warnings[0]) if warning else warnings == []


def test_relatime_maps_to_two_properties():
    assert _zfs.normalize_atime({"atime": "relatime", "compression": "lz4"}) == {
        "atime": "on", "relatime": "on", "compression": "lz4"}


ZFS_GET = ("tank/docker\tcompression\tlz4\tinherited from tank\n"
           "tank/docker\tatime\ton\tdefault\n"
           "tank/docker\tchecksum\tsha256\tlocal\n"
           "broken line\n")


def test_plan_properties_inherited_value_is_not_drift():
    current = _zfs.parse_get(ZFS_GET)["tank/docker"]
    assert current["compression"] == ("lz4", "inherited from tank")
    changes = _zfs.plan_properties(current, {"compression": "lz4", "atime": "off", "checksum": "sha256",
                                             "com.sun:auto-snapshot": "false"})
    assert changes == [("atime", "on", "off", "default"), ("com.sun:auto-snapshot", None, "false", None)]


@pytest.mark.parametrize("current, wanted, drift", [
    ("131072", "128K", False), ("131072", "128k", False), ("1048576", "1M", False), ("131072", "1M", True),
    ("0", "none", False), ("10737418240", "10G", False), ("10737418240", "10GB", False),
    ("1610612736", "1.5G", False), ("0", "10G", True), (None, "10G", True),
])
def test_plan_properties_sizes_as_zfs_get_p_prints_them(current, wanted, drift):
    """`zfs get -p` prints bytes: 128K asked and 131072 read is no drift, or every run would set it again."""
    for prop in ("recordsize", "quota"):
        changes = _zfs.plan_properties({prop: (current, "local")}, {prop: wanted})
        assert bool(changes) is drift, (prop, current, wanted)
    assert _zfs.plan_properties({"compression": ("131072", "local")}, {"compression": "128K"})  # not a size


STATUS_MIRROR = """  pool: tank
 state: ONLINE
config:

\tNAME          STATE     READ WRITE CKSUM
\ttank          ONLINE       0     0     0
\t  mirror-0    ONLINE       0     0     0
\t    /dev/vdb  ONLINE       0     0     0
\t    /dev/vdc  ONLINE       0     0     0
\tlogs
\t  /dev/vdd    ONLINE       0     0     0

errors: No known data errors
"""
STATUS_SINGLE = """  pool: tank
config:

\tNAME        STATE     READ WRITE CKSUM
\ttank        ONLINE       0     0     0
\t  /dev/vdb  ONLINE       0     0     0

errors: No known data errors
"""
STATUS_RAIDZ2 = STATUS_MIRROR.replace("mirror-0", "raidz2-0").replace(
    "\tlogs\n\t  /dev/vdd    ONLINE       0     0     0\n", "\t    /dev/vdd  ONLINE       0     0     0\n")


@pytest.mark.parametrize("text, vdev_type, devices", [
    (STATUS_MIRROR, "mirror", ["/dev/vdb", "/dev/vdc"]),
    (STATUS_SINGLE, "single", ["/dev/vdb"]),
    (STATUS_RAIDZ2, "raidz2", ["/dev/vdb", "/dev/vdc", "/dev/vdd"]),
    (STATUS_MIRROR.replace("mirror-0", "raidz1-0"), "raidz", ["/dev/vdb", "/dev/vdc"]),
])
def test_zpool_layout(text, vdev_type, devices):
    layout = _zfs.parse_status_layout(text, "tank")
    assert layout["vdev_type"] == vdev_type and layout["devices"] == devices


def test_zpool_create_argv_is_a_list_without_shell():
    argv = _zfs.zpool_create_argv("/sbin/zpool", "tank", "mirror", ["/dev/vdb", "/dev/vdc"], {"ashift": 12},
                                  {"compression": "lz4"})
    assert argv == ["/sbin/zpool", "create", "-o", "ashift=12", "-O", "compression=lz4", "tank", "mirror",
                    "/dev/vdb", "/dev/vdc"]
    single = _zfs.zpool_create_argv("zpool", "tank", "single", ["/dev/vdb"], {})
    assert single == ["zpool", "create", "tank", "/dev/vdb"]


DUMP_SUPER = """superblock: bytenr=65536, device=/dev/loop0
csum_type\t\t1 (xxhash64)
csum_size\t\t8
fsid\t\t\t3c1b0f55-8f5e-4d49-a3bf-0d5d3b5d9e61
label\t\t\tdocker
num_devices\t\t2
"""


def test_btrfs_parsers():
    sup = _btrfs.parse_dump_super(DUMP_SUPER)
    assert sup == {"csum_type": "xxhash", "fsid": "3c1b0f55-8f5e-4d49-a3bf-0d5d3b5d9e61", "label": "docker",
                   "num_devices": "2"}
    assert _btrfs.parse_dump_super("csum_type\t\t0 (crc32c)\n")["csum_type"] == "crc32c"
    df = _btrfs.parse_filesystem_df("Data, RAID1: total=1.00GiB, used=0.00B\nMetadata, DUP: total=1GiB\n"
                                    "GlobalReserve, single: total=5.50MiB\n")
    assert df == {"data": "raid1", "metadata": "dup"}
    show = _btrfs.parse_filesystem_show("Label: 'docker'  uuid: 3c1b0f55-8f5e-4d49-a3bf-0d5d3b5d9e61\n"
                                        "\tTotal devices 1 FS bytes used 144.00KiB\n\tdevid    1 size 1.00GiB used "
                                        "126.38MiB path /dev/loop0\n")
    assert show == {"label": "docker", "uuid": "3c1b0f55-8f5e-4d49-a3bf-0d5d3b5d9e61", "devices": ["/dev/loop0"]}


@pytest.mark.parametrize("live, wanted, missing", [
    (["rw", "noatime", "compress=zstd:3", "subvol=/@docker"], ["noatime", "compress=zstd:3"], []),
    (["rw", "noatime", "compress=zstd:3"], ["noatime", "compress=zstd"], []),
    (["rw", "relatime"], ["noatime", "compress=zstd:3"], ["noatime", "compress=zstd:3"]),
    (["rw", "noatime", "compress=zstd:1"], ["noatime", "compress=zstd:3"], ["compress=zstd:3"]),
    (["rw", "noatime"], ["noatime", "x-systemd.requires=a.service"], []),
    (["rw", "noatime", "compress=zlib:3"], ["noatime", "compress=zlib"], []),      # the kernel shows the level
    (["rw", "noatime", "compress=zlib:9"], ["noatime", "compress=zlib"], ["compress=zlib"]),
    (["rw", "noatime", "compress=lzo"], ["noatime", "compress=lzo"], []),
])
def test_mount_option_drift(live, wanted, missing):
    assert _btrfs.mount_option_drift(live, wanted) == missing


@pytest.mark.parametrize("opts, error, warning", [
    (["noatime", "compress=zstd:3"], None, None),
    (["compress=zstd:16"], "compress=zstd", None),
    (["compress=gzip"], "compress=zstd", None),
    (["compress=zlib:9"], None, "CPU bound"),
    (["subvol=@x"], "set by the module from subvolume", None),
    (["atime"], None, "writes on every read"),
    (["noatme", "compress=zstd:3"], "unknown btrfs mount option 'noatme'", None),    # a typo fails before mkfs
    (["space_cache=v2", "discard=async", "x-systemd.device-timeout=30", "ssd"], None, None),
])
def test_btrfs_mount_options(opts, error, warning):
    errors, warnings = _btrfs.validate_mount_options(opts)
    assert (errors and error in errors[0]) if error else errors == []
    assert (warnings and warning in warnings[0]) if warning else warnings == []


FSTAB = """# <file system> <mount point> <type> <options> <dump> <pass>
UUID=abc / ext4 errors=remount-ro 0 1
UUID=old /var/lib/docker btrfs defaults 0 0
#UUID=zzz /var/lib/docker ext4 defaults 0 0
/dev/sr0 /media/cdrom0 udf,iso9660 user,noauto 0 0
"""


def test_fstab_entry_replace_keeps_every_other_line():
    assert _fstab.entry_for(FSTAB, "/var/lib/docker")[0] == "UUID=old"
    line = _fstab.render("UUID=new", "/var/lib/docker", "btrfs", ["noatime", "subvol=@docker"])
    assert line == "UUID=new /var/lib/docker btrfs noatime,subvol=@docker 0 0"
    updated = _fstab.replace_entry(FSTAB, "/var/lib/docker", line)
    assert updated.splitlines() == [FSTAB.splitlines()[0], FSTAB.splitlines()[1], line] + FSTAB.splitlines()[3:]
    added = _fstab.replace_entry("UUID=abc / ext4 defaults 0 1", "/srv/d", "UUID=x /srv/d btrfs defaults 0 0")
    assert added == "UUID=abc / ext4 defaults 0 1\nUUID=x /srv/d btrfs defaults 0 0\n"
    assert _fstab.render("LABEL=a", "/srv/my docker", "xfs", []) == "LABEL=a /srv/my\\040docker xfs defaults 0 0"


def test_safe_mode_holdings_name_what_is_there():
    probe = _blockdev.parse_blkid_export("DEVNAME=/dev/vdb\nUUID=1234\nTYPE=ext4\nLABEL=data\n")
    assert _blockdev.holdings(probe) == ["a ext4 signature labelled data"]
    assert _blockdev.holdings({"TYPE": "zfs_member", "LABEL": "tank"}) == ["a ZFS pool label (pool tank)"]
    assert _blockdev.holdings({"PTTYPE": "gpt"}, partitions=["vdb1"]) == ["a gpt partition table", "partitions vdb1"]
    assert _blockdev.holdings({}, mounted_at=["/mnt"], holders=["dm-0"]) == [
        "a mounted filesystem at /mnt", "users dm-0 (device-mapper, md or loop)"]
    assert _blockdev.holdings({}) == []
    message = _blockdev.refusal("/dev/vdb", ["a ext4 signature"])
    assert "/dev/vdb" in message and "docker_storage_force_devices" in message and "Nothing was changed" in message
