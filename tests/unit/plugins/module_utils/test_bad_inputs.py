"""The bad-input table: every input of the docker_storage role that must be refused, with a message naming the
variable (or the bad value) and what to do, before the host is changed. Pure rules here (the preflight's plan on
facts shaped like storage_facts'); tests/integration/test_role_bad_inputs.py runs the host-side ones through the
real role, in check mode and in a real run."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.cowstack.docker_storage.plugins.module_utils._inputs import check
from ansible_collections.cowstack.docker_storage.plugins.module_utils._preflight import evaluate
from factsbuilder import facts as make_facts

# The role's defaults (roles/docker_storage/defaults/main.yml), as the role passes them to the preflight.
DEFAULTS = {
    "docker_storage_policy": "auto", "docker_storage_data_root": "/var/lib/docker", "docker_storage_devices": [],
    "docker_storage_lab_file": None, "docker_storage_safe_mode": True, "docker_storage_force_devices": [],
    "docker_storage_storage_opts": None, "docker_storage_install_packages": True,
    "docker_storage_docker_version": None, "docker_storage_zfs_pool": "docker",
    "docker_storage_zfs_vdev_type": "single", "docker_storage_zfs_pool_properties": {"ashift": 12},
    "docker_storage_zfs_dataset": "docker/docker",
    "docker_storage_zfs_properties": {"compression": "lz4", "atime": "off", "checksum": "sha256", "dedup": "off",
                                      "com.sun:auto-snapshot": "false"},
    "docker_storage_btrfs_checksum": "crc32c", "docker_storage_btrfs_label": "docker",
    "docker_storage_btrfs_subvolume": "@docker", "docker_storage_btrfs_data_profile": None,
    "docker_storage_btrfs_metadata_profile": None, "docker_storage_btrfs_mount_options": ["noatime", "compress=zstd:3"],
    "docker_storage_fstab": "/etc/fstab", "docker_storage_manage_daemon": True,
    "docker_storage_daemon_json_path": "/etc/docker/daemon.json", "docker_storage_daemon_options": {},
    "docker_storage_migration": "none", "docker_storage_migration_spool": "/var/tmp/cowstack-docker-migration",
    "docker_storage_migration_timeout": 7200, "docker_storage_migration_poll": 10,
    "docker_storage_pin_image_store": False, "docker_storage_docker_service": "docker.service",
    "docker_storage_remove_unit_flags": False, "docker_storage_journal": "/var/lib/cowstack-docker-storage/switch.json",
    "docker_storage_image_store": "auto", "docker_storage_containerd_config": "/etc/containerd/config.toml",
    "docker_storage_containerd_settings": {},
}
ZFS = {"docker_storage_policy": "enterprise", "docker_storage_devices": ["/dev/vdb"]}
BTRFS = {"docker_storage_policy": "large_images", "docker_storage_devices": ["/dev/vdb"]}
LAB = {"docker_storage_policy": "large_images",
       "docker_storage_lab_file": {"path": "/var/lib/cowstack/lab.img", "size": "2G"}}


def device(path, **info):
    base = {"path": path, "exists": True, "block": True, "problem": None, "holds": [], "root_disk": False,
            "mounted_at": [], "probe": {}, "size_bytes": 10 * 1024 ** 3}
    base.update(info)
    return base


def host(inputs, **extra):
    """Facts of a Debian host with btrfs and ZFS (2.1) and the devices the inputs name, all blank."""
    facts = make_facts("ext4", "26.1.5", zfs="2.1.11")
    facts["available"].update(btrfs_tools=True, btrfs_kernel=True, zfs_tools=True, zfs_kernel=True, xfs_tools=True)
    facts["os"] = {"id": "debian", "family": "Debian", "pretty_name": "Debian GNU/Linux 12 (bookworm)"}
    facts["devices"] = [device(d) for d in inputs.get("docker_storage_devices") or []]
    facts["data_root_empty"] = True
    facts["service"] = {"drop_ins": [], "flags": []}
    lab = inputs.get("docker_storage_lab_file")
    if isinstance(lab, dict) and lab.get("path"):
        facts["lab_file"] = {"path": lab["path"], "dir_exists": True, "exists": False, "symlink": False,
                             "regular": False, "size": None, "marked": False, "probe": {}, "device": None,
                             "free_bytes": 50 * 1024 ** 3}
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(facts.get(key), dict):
            facts[key].update(value)
        else:
            facts[key] = value
    return facts


def system_containerd(state=False):
    """The system's containerd with its default root on the host's ext4 (docker.io's packaging on Debian)."""
    dirs = dict((name, {"path": "/var/lib/containerd/io.containerd.snapshotter.v1.%s" % name, "fstype": "ext4",
                        "mount_point": "/", "state": state and name == "btrfs"})
                for name in ("overlayfs", "native", "btrfs", "zfs"))
    return {"managed_by_dockerd": False, "config": "/etc/containerd/config.toml", "root": "/var/lib/containerd",
            "certain": True, "snapshotters": dirs}


def no_zfs(facts):
    facts["available"].update(zfs=False, zfs_tools=False, zfs_kernel=False, zfs_version=None, zfs_device=False)
    return facts


def no_btrfs_tools(facts):
    facts["available"].update(btrfs=False, btrfs_tools=False)
    return facts


def lab_file(**info):
    def patch(facts):
        facts["lab_file"].update(info)
        return facts
    return patch


def docker_missing(facts):
    facts["docker"] = {"installed": False, "version": None, "running": False}
    return facts


def centos(facts):
    facts["os"] = {"id": "rocky", "id_like": "rhel centos fedora", "family": "RedHat", "pretty_name": "Rocky Linux 9"}
    return facts


def running_overlay2_with_images(facts):
    facts["docker"].update(running=True, driver="overlay2", image_store="graphdriver", data_root="/var/lib/docker",
                           images=3, containers=0, volumes=0)
    facts["data_root_empty"] = False
    return facts


def stopped_with_state(facts):
    facts["docker"].update(running=False)
    facts["prior_drivers"] = ["overlay2"]
    facts["data_root_empty"] = False
    return facts


def journal(**content):
    def patch(facts):
        facts["switch_journal"] = dict({"path": "/var/lib/cowstack-docker-storage/switch.json"}, **content)
        return facts
    return patch


def device_facts(path, **info):
    def patch(facts):
        facts["devices"] = [device(path, **info)]
        return facts
    return patch


# (id, inputs over the defaults, a change of the host's facts or None, what the message must contain)
CASES = [
    # policy and data-root
    ("unknown policy", {"docker_storage_policy": "fastest"}, None, "docker_storage_policy: unknown policy or driver 'fastest'"),
    ("policy in capitals", {"docker_storage_policy": "OVERLAY2"}, None, "unknown policy or driver 'OVERLAY2'"),
    ("relative data-root", {"docker_storage_data_root": "var/lib/docker"}, None,
     "docker_storage_data_root 'var/lib/docker' must be an absolute path"),
    ("data-root with a trailing slash", {"docker_storage_data_root": "/var/lib/docker/"}, None, "write it as /var/lib/docker"),
    ("data-root with ..", {"docker_storage_data_root": "/var/lib/x/../docker"}, None, "write it as /var/lib/docker"),
    ("data-root /", {"docker_storage_data_root": "/"}, None, "docker_storage_data_root / would put Docker's state over the whole system"),
    # devices
    ("a device that is a file", dict(ZFS, docker_storage_devices=["/etc/passwd"]), None,
     "docker_storage_devices entry /etc/passwd is not a device path"),
    ("a relative device", dict(ZFS, docker_storage_devices=["vdb"]), None, "docker_storage_devices entry 'vdb' must be an absolute path"),
    ("a device listed twice", dict(ZFS, docker_storage_devices=["/dev/vdb", "/dev/vdb"]), None, "docker_storage_devices lists /dev/vdb twice"),
    ("a device that does not exist", dict(ZFS, docker_storage_devices=["/dev/does-not-exist"]),
     device_facts("/dev/does-not-exist", exists=False, block=False), "docker_storage_devices entry /dev/does-not-exist does not exist"),
    ("a device node that is not a block device", dict(ZFS, docker_storage_devices=["/dev/null"]),
     device_facts("/dev/null", block=False), "docker_storage_devices entry /dev/null is not a block device"),
    ("the system disk", dict(ZFS, docker_storage_devices=["/dev/vda"]),
     device_facts("/dev/vda", root_disk=True), "docker_storage_devices entry /dev/vda is the system disk"),
    ("devices and a lab file", dict(LAB, docker_storage_devices=["/dev/vdb"]), None,
     "Give either docker_storage_devices or docker_storage_lab_file, not both"),
    ("devices for a policy that prepares nothing", {"docker_storage_policy": "general", "docker_storage_devices": ["/dev/vdb"]}, None,
     "docker_storage_devices is given, but docker_storage_policy general prepares no filesystem"),
    ("a lab file for auto", {"docker_storage_lab_file": {"path": "/var/lib/cowstack/lab.img", "size": "2G"}}, None,
     "docker_storage_lab_file is given, but docker_storage_policy auto prepares no filesystem"),
    ("forced devices in safe mode", dict(ZFS, docker_storage_force_devices=["/dev/vdb"]), None, "docker_storage_safe_mode is true"),
    ("a forced device that is not listed", dict(ZFS, docker_storage_safe_mode=False, docker_storage_force_devices=["/dev/vdc"]), None,
     "docker_storage_force_devices lists /dev/vdc, which is not in docker_storage_devices"),
    # the lab file
    ("a relative lab file", dict(LAB, docker_storage_lab_file={"path": "lab.img", "size": "2G"}), None,
     "docker_storage_lab_file.path 'lab.img' must be an absolute path"),
    ("a lab file under /dev", dict(LAB, docker_storage_lab_file={"path": "/dev/shm/lab.img", "size": "2G"}), None,
     "docker_storage_lab_file.path /dev/shm/lab.img is under /dev/"),
    ("a lab file under /run", dict(LAB, docker_storage_lab_file={"path": "/run/lab.img", "size": "2G"}), None, "is under /run/"),
    ("a lab file inside the data-root", dict(LAB, docker_storage_lab_file={"path": "/var/lib/docker/lab.img", "size": "2G"}), None,
     "docker_storage_lab_file.path /var/lib/docker/lab.img is inside docker_storage_data_root"),
    ("a lab size that is not a size", dict(LAB, docker_storage_lab_file={"path": "/var/lib/cowstack/lab.img", "size": "lots"}), None,
     "docker_storage_lab_file.size 'lots'"),
    ("a lab size too small", dict(LAB, docker_storage_lab_file={"path": "/var/lib/cowstack/lab.img", "size": "10M"}), None, "at least 128M"),
    ("a lab file with an unknown key", dict(LAB, docker_storage_lab_file={"path": "/var/lib/cowstack/lab.img", "size": "2G", "sise": 1}), None,
     "docker_storage_lab_file must be a dict with path and size"),
    ("an existing file not made by the collection", LAB, lab_file(exists=True, regular=True, size=71),
     "docker_storage_lab_file.path /var/lib/cowstack/lab.img exists and was not made by cowstack.docker_storage"),
    ("an existing ext4 image not made by the collection", LAB, lab_file(exists=True, regular=True, size=2 ** 31, probe={"TYPE": "ext4"}),
     "it holds a ext4 signature"),
    ("a lab path that is a directory", LAB, lab_file(exists=True, regular=False), "exists and is not a regular file"),
    ("a lab path that is a symlink", LAB, lab_file(exists=True, symlink=True), "is a symbolic link"),
    ("a lab file whose directory is missing", LAB, lab_file(dir_exists=False), "its directory does not exist"),
    ("a lab file without room", LAB, lab_file(free_bytes=1024 ** 3),
     "docker_storage_lab_file.path /var/lib/cowstack/lab.img: its filesystem has 1.0 GiB free, the lab file needs 2.0 GiB more"),
    # ZFS names, layout and properties (checked whatever the policy)
    ("a pool name with a shell command", {"docker_storage_zfs_pool": "tank;rm -rf /"}, None, "docker_storage_zfs_pool: pool name 'tank;rm -rf /'"),
    ("a reserved pool name", {"docker_storage_zfs_pool": "mirror", "docker_storage_zfs_dataset": "mirror/docker"}, None,
     "pool name 'mirror' is reserved"),
    ("a pool name starting with a digit", {"docker_storage_zfs_pool": "1pool", "docker_storage_zfs_dataset": "1pool/docker"}, None,
     "must start with a letter"),
    ("a dataset with a command substitution", {"docker_storage_zfs_pool": "tank", "docker_storage_zfs_dataset": "tank/do$(id)"}, None,
     "docker_storage_zfs_dataset: dataset name 'tank/do$(id)'"),
    ("a dataset outside the pool", {"docker_storage_zfs_dataset": "other/docker"}, None,
     "docker_storage_zfs_dataset other/docker is not a dataset inside docker_storage_zfs_pool docker"),
    ("the pool itself as the dataset", {"docker_storage_zfs_dataset": "docker"}, None, "is not a dataset inside docker_storage_zfs_pool"),
    ("an unknown vdev type", {"docker_storage_zfs_vdev_type": "raid7"}, None, "docker_storage_zfs_vdev_type 'raid7'"),
    ("a mirror of one device", dict(ZFS, docker_storage_zfs_vdev_type="mirror"), None,
     "docker_storage_zfs_vdev_type mirror needs at least 2 devices"),
    ("raidz2 of two devices", dict(ZFS, docker_storage_devices=["/dev/vdb", "/dev/vdc"], docker_storage_zfs_vdev_type="raidz2"), None,
     "needs at least 3 devices"),
    ("ashift out of range", {"docker_storage_zfs_pool_properties": {"ashift": 20}}, None,
     "docker_storage_zfs_pool_properties ashift=20: use an ashift of 9 to 16"),
    ("an unknown pool property", {"docker_storage_zfs_pool_properties": {"ashfit": 12}}, None,
     "docker_storage_zfs_pool_properties: 'ashfit' is not a pool property"),
    ("a bad failmode", {"docker_storage_zfs_pool_properties": {"failmode": "explode"}}, None, "failmode=explode: use wait, continue or panic"),
    ("compression bogus", {"docker_storage_zfs_properties": {"compression": "bogus"}}, None,
     "docker_storage_zfs_properties: ZFS property compression=bogus"),
    ("checksum md5", {"docker_storage_zfs_properties": {"checksum": "md5"}}, None, "ZFS property checksum=md5: unknown checksum"),
    ("checksum off", {"docker_storage_zfs_properties": {"checksum": "off"}}, None, "checksum=off removes ZFS's integrity checking"),
    ("atime yes", {"docker_storage_zfs_properties": {"atime": "yes"}}, None, "ZFS property atime=yes: must be on or off"),
    ("atime read by YAML as a boolean", {"docker_storage_zfs_properties": {"atime": False}}, None,
     "docker_storage_zfs_properties atime: YAML read on/off as a boolean"),
    ("a misspelt property", {"docker_storage_zfs_properties": {"compresion": "lz4"}}, None, "unknown or unmanaged ZFS property 'compresion'"),
    ("dedup yes", {"docker_storage_zfs_properties": {"dedup": "yes"}}, None, "dedup must be off, on, verify"),
    ("recordsize huge", {"docker_storage_zfs_properties": {"recordsize": "huge"}}, None, "recordsize is a size such as 128K"),
    ("zstd level 42", {"docker_storage_zfs_properties": {"compression": "zstd-42"}}, None, "use a zstd level of 1 to 19"),
    # btrfs
    ("a btrfs checksum md5", {"docker_storage_btrfs_checksum": "md5"}, None, "docker_storage_btrfs_checksum 'md5'"),
    ("a subvolume escaping the filesystem", {"docker_storage_btrfs_subvolume": "../escape"}, None,
     "docker_storage_btrfs_subvolume: btrfs subvolume '../escape'"),
    ("an empty subvolume", {"docker_storage_btrfs_subvolume": ""}, None, "docker_storage_btrfs_subvolume: btrfs subvolume ''"),
    ("a label with a newline", {"docker_storage_btrfs_label": "doc\nker"}, None, "docker_storage_btrfs_label"),
    ("a label too long", {"docker_storage_btrfs_label": "x" * 256}, None, "give a label of 1 to 255 bytes"),
    ("a misspelt mount option", {"docker_storage_btrfs_mount_options": ["noatme"]}, None,
     "docker_storage_btrfs_mount_options: unknown btrfs mount option 'noatme'"),
    ("a zstd level the kernel refuses", {"docker_storage_btrfs_mount_options": ["compress=zstd:42"]}, None, "btrfs mount option compress=zstd:42"),
    ("subvol= set by hand", {"docker_storage_btrfs_mount_options": ["subvol=other"]}, None, "is set by the role from docker_storage_btrfs_subvolume"),
    ("mount options as a string", {"docker_storage_btrfs_mount_options": "noatime"}, None, "docker_storage_btrfs_mount_options must be a list"),
    ("an unknown profile", {"docker_storage_btrfs_data_profile": "raid7"}, None, "docker_storage_btrfs_data_profile 'raid7'"),
    ("raid1 on one device", dict(BTRFS, docker_storage_btrfs_data_profile="raid1"), None,
     "docker_storage_btrfs_data_profile raid1 needs at least 2 devices"),
    # migration and daemon.json
    ("an unknown migration", {"docker_storage_migration": "yolo"}, None, "docker_storage_migration 'yolo'"),
    ("a relative spool", {"docker_storage_migration_spool": "spool"}, None, "docker_storage_migration_spool 'spool' must be an absolute path"),
    ("a spool inside the data-root", {"docker_storage_migration_spool": "/var/lib/docker/spool"}, None,
     "docker_storage_migration_spool /var/lib/docker/spool and docker_storage_data_root /var/lib/docker are nested"),
    ("a zero timeout", {"docker_storage_migration_timeout": 0}, None, "docker_storage_migration_timeout 0 must be a whole number of seconds"),
    ("a poll longer than the timeout", {"docker_storage_migration_timeout": 60, "docker_storage_migration_poll": 120}, None,
     "docker_storage_migration_poll 120 is longer than docker_storage_migration_timeout 60"),
    ("an unknown daemon option", {"docker_storage_daemon_options": {"storage-drvier": "zfs"}}, None,
     "docker_storage_daemon_options: unknown dockerd option 'storage-drvier'"),
    ("daemon options as a string", {"docker_storage_daemon_options": "log-driver=journald"}, None,
     "docker_storage_daemon_options must be a dict of daemon.json keys"),
    ("a storage key as a daemon option", {"docker_storage_daemon_options": {"storage-driver": "zfs"}}, None,
     "storage-driver is set by the role from the policy"),
    ("a relative daemon.json", {"docker_storage_daemon_json_path": "daemon.json"}, None,
     "docker_storage_daemon_json_path 'daemon.json' must be an absolute path"),
    ("a relative fstab", {"docker_storage_fstab": "fstab"}, None, "docker_storage_fstab 'fstab' must be an absolute path"),
    ("a service name with a command", {"docker_storage_docker_service": "docker; reboot"}, None,
     "docker_storage_docker_service 'docker; reboot' is not a systemd service name"),
    ("storage-opts without =", {"docker_storage_storage_opts": ["overlay2.size"]}, None,
     "docker_storage_storage_opts ['overlay2.size'] must be a list of key=value"),
    ("a Docker version that is not one", {"docker_storage_docker_version": "latest"}, None,
     "docker_storage_docker_version 'latest' is not a version"),
    ("a Docker version too old", {"docker_storage_docker_version": "19.03"}, None, "docker_storage_docker_version 19.03 is older than 20.10"),
    # what the host lacks
    ("ZFS wanted, not installed, install off", dict(ZFS, docker_storage_install_packages=False), no_zfs,
     "docker_storage_policy enterprise needs the ZFS tools (zfs, zpool) and the ZFS kernel module, which this host lacks: install zfsutils-linux, zfs-dkms"),
    ("btrfs wanted, tools missing, install off", dict(BTRFS, docker_storage_install_packages=False), no_btrfs_tools,
     "docker_storage_policy large_images needs the btrfs tools (mkfs.btrfs, btrfs), which this host lacks: install btrfs-progs"),
    ("btrfs wanted, the kernel has none", BTRFS, lambda f: (f["available"].update(btrfs=False, btrfs_kernel=False), f)[1],
     "needs btrfs support in the running kernel, which this host lacks"),
    ("ZFS wanted on a host that is not Debian", ZFS, lambda f: centos(no_zfs(f)),
     "docker_storage_install_packages installs packages on Debian-family hosts only (Debian, Ubuntu); this host is Rocky Linux 9"),
    ("Docker not installed and no version given", {}, docker_missing, "Docker is not installed on this host: install it first"),
    ("a switch that hides images, no migration", BTRFS, running_overlay2_with_images, "docker_storage_migration: save_load"),
    ("a switch with dockerd stopped and state on disk", BTRFS, stopped_with_state, "dockerd is stopped"),
    ("an interrupted switch to another target", ZFS,
     journal(phase="vacated", to={"driver": "btrfs", "data_root": "/var/lib/docker", "image_store": "graphdriver"},
             **{"from": {"driver": "overlay2"}}),
     "an earlier run was cut short while switching Docker from overlay2 to btrfs"),
    ("an unreadable journal", ZFS, journal(error="/var/lib/cowstack-docker-storage/switch.json is not a JSON object"),
     "the switch journal is unreadable"),
    ("a boolean that is not one", {"docker_storage_manage_daemon": "maybe"}, None,
     "docker_storage_manage_daemon 'maybe' is not a boolean: use true or false"),
    ("the journal inside the data-root", {"docker_storage_journal": "/var/lib/docker/switch.json"}, None,
     "docker_storage_journal /var/lib/docker/switch.json is inside docker_storage_data_root"),
    ("a lock wait that is not a number", {"docker_storage_lock_wait": "soon"}, None,
     "docker_storage_lock_wait 'soon' must be a whole number of seconds"),
    ("a device holding ext4 (safe mode, before any package is installed)", BTRFS,
     device_facts("/dev/vdb", probe={"TYPE": "ext4"}, holds=["a ext4 signature"]),
     "refusing to use /dev/vdb: it holds a ext4 signature. If its content may be destroyed, set docker_storage_safe_mode"),
    ("a device mounted elsewhere", BTRFS, device_facts("/dev/vdb", mounted_at=["/srv/data"]),
     "docker_storage_devices entry /dev/vdb is mounted at /srv/data: unmount it first"),
    ("a data-root that is its own mount point, to be vacated", BTRFS,
     lambda f: (running_overlay2_with_images(f), f["backing_fs"].update(mount_point="/var/lib/docker", source="/dev/sdb1"),
                f)[2], "docker_storage_data_root /var/lib/docker is itself a mount point (/dev/sdb1, ext4)"),
    ("the drop-in off while the data-root is to be vacated", dict(BTRFS, docker_storage_docker_unit_dropin=False,
                                                                  docker_storage_migration="save_load"),
     running_overlay2_with_images, "docker_storage_docker_unit_dropin is false, but moving /var/lib/docker aside needs"),
    ("an image store that does not exist", {"docker_storage_image_store": "overlayfs"}, None,
     "docker_storage_image_store 'overlayfs': use auto"),
    ("the containerd store on a Docker without one", {"docker_storage_image_store": "containerd"},
     lambda f: (f["docker"].update(version="20.10.24"), f)[1], "Docker 20.10.24 has no containerd image store"),
    ("the store pinned through the daemon options", {"docker_storage_daemon_options": {
        "features": {"containerd-snapshotter": True}}}, None, "use docker_storage_image_store"),
    ("containerd's snapshotter directory holds snapshots", dict(BTRFS, docker_storage_image_store="containerd"),
     lambda f: (f.update(containerd=system_containerd(state=True)), f)[1],
     "/var/lib/containerd/io.containerd.snapshotter.v1.btrfs holds snapshots of containerd's btrfs snapshotter"),
    ("containerd's config imports other files", dict(BTRFS, docker_storage_image_store="containerd"),
     lambda f: (f.update(containerd=dict(system_containerd(), certain=False)), f)[1],
     "containerd's config /etc/containerd/config.toml imports other files"),
    ("containerd's root moved through the settings", {"docker_storage_containerd_settings": {"root": "/srv/c"}},
     None, "docker_storage_containerd_settings: root is not set here"),
    ("a snapshotter's root_path through the settings", {"docker_storage_containerd_settings": {
        'plugins."io.containerd.snapshotter.v1.btrfs".root_path': "/srv/b"}}, None, "moves a snapshotter's data"),
    ("a containerd key that is not a dotted key", {"docker_storage_containerd_settings": {"a b": 1}}, None,
     "docker_storage_containerd_settings a b: 'a b' is not a dotted TOML key"),
    ("a containerd value that is not a TOML scalar", {"docker_storage_containerd_settings": {"oom_score": {"x": 1}}},
     None, "is not a TOML value this module writes"),
    ("containerd settings without a system containerd", {"docker_storage_containerd_settings": {"oom_score": 0}},
     lambda f: (f.update(containerd={"managed_by_dockerd": True, "snapshotters": {}}), f)[1],
     "there is no system containerd here"),
    ("an earlier aside directory in the way", BTRFS, lambda f: (running_overlay2_with_images(f), f.update(
        data_root_siblings=["/var/lib/docker.cowstack-overlay2"]), f)[2],
     "/var/lib/docker would move aside to /var/lib/docker.cowstack-overlay2, which already exists"),
]


@pytest.mark.parametrize("name, inputs, facts_change, fragment", CASES, ids=[c[0] for c in CASES])
def test_refused_naming_the_input(name, inputs, facts_change, fragment):
    wanted = dict(copy.deepcopy(DEFAULTS), **copy.deepcopy(inputs))
    facts = host(wanted)
    if facts_change:
        facts = facts_change(facts)
    result = evaluate(wanted, facts)
    assert result["errors"], "%s was accepted: %s" % (name, result)
    assert any(fragment in e for e in result["errors"]), result["errors"]
    for error in result["errors"]:
        assert says_what_to_do(error), "no advice in: %s" % error


# Each refusal tells the operator what to do: an instruction, or the allowed values.
ADVICE = ("use ", "give ", "set ", "choose ", "name ", "install ", "remove ", "write it as", "quote ", "move ", "add ",
          "run again", "must be", "such as", "unmount ", "boot ", "keep ", "list ", "check ")


def says_what_to_do(message):
    return any(word in message.lower() for word in ADVICE)


def test_the_table_is_at_least_forty_inputs():
    assert len(CASES) >= 40


def test_a_device_of_the_storage_at_the_data_root_is_no_refusal():
    """The converged host: the btrfs device is mounted at the data-root and, by dockerd's btrfs driver, below it."""
    wanted = dict(DEFAULTS, **BTRFS)
    facts = host(wanted)
    facts["devices"] = [device("/dev/vdb", probe={"TYPE": "btrfs"}, holds=["a btrfs signature"],
                               mounted_at=["/var/lib/docker", "/var/lib/docker/btrfs"])]
    assert evaluate(wanted, facts)["errors"] == []


def test_booleans_given_as_strings_are_read_as_ansible_reads_them():
    """-e docker_storage_manage_daemon=false arrives as the string "false": the plan must not vacate then (the tasks
    read it with | bool and skip the daemon step)."""
    wanted = dict(DEFAULTS, docker_storage_manage_daemon="false", docker_storage_install_packages="no", **BTRFS)
    facts = no_btrfs_tools(running_overlay2_with_images(host(wanted)))
    result = evaluate(wanted, facts)
    assert not result["vacate"] and result["daemon"] == {} and not result["journaled"]
    assert any("install btrfs-progs" in e for e in result["errors"]), "install_packages 'no' was read as true"


def test_the_defaults_are_accepted():
    assert check(DEFAULTS)["errors"] == []
    for inputs in (ZFS, BTRFS, LAB):
        wanted = dict(DEFAULTS, **inputs)
        result = evaluate(wanted, host(wanted))
        assert result["errors"] == [], (inputs, result["errors"])


@pytest.mark.parametrize("inputs", [ZFS, BTRFS, LAB])
def test_bad_zfs_input_is_refused_whatever_the_policy(inputs):
    """A ZFS typo fails a btrfs run too: it would otherwise wait for the day the policy changes."""
    wanted = dict(DEFAULTS, docker_storage_zfs_properties={"compression": "bogus"}, **inputs)
    assert any("compression=bogus" in e for e in evaluate(wanted, host(wanted))["errors"])


def test_no_silent_fallback_when_devices_are_given():
    """enterprise with devices on a host without ZFS and install off: an error, never overlay2 with the devices
    unused (it was before)."""
    wanted = dict(DEFAULTS, docker_storage_install_packages=False, **ZFS)
    result = evaluate(wanted, no_zfs(host(wanted)))
    assert result["errors"] and result["choice"] is None


def test_zfs_packages_are_planned_on_debian_and_the_choice_assumes_them():
    wanted = dict(DEFAULTS, **ZFS)
    facts = no_zfs(host(wanted))
    result = evaluate(wanted, facts)
    assert result["errors"] == [], result["errors"]
    assert result["packages"] == ["zfsutils-linux", "zfs-dkms", "linux-headers-6.1.0-28-amd64"]
    assert result["contrib"] is True
    assert result["choice"]["driver"] == "zfs" and result["choice"]["prepare"] == "zfs"
    assert facts["available"]["zfs"] is False  # the facts themselves are not changed


def test_btrfs_tools_only_when_the_kernel_has_btrfs():
    wanted = dict(DEFAULTS, **BTRFS)
    result = evaluate(wanted, no_btrfs_tools(host(wanted)))
    assert result["packages"] == ["btrfs-progs"] and result["contrib"] is False


def test_docker_missing_with_a_version_prepares_first():
    wanted = dict(DEFAULTS, docker_storage_docker_version="26.1", **BTRFS)
    result = evaluate(wanted, docker_missing(host(wanted)))
    assert result["errors"] == [], result["errors"]
    assert result["docker_missing"] and not result["restart_pending"] and not result["save_images"]
    assert result["choice"]["driver"] == "btrfs" and result["choice"]["docker_version"] == "26.1"
    assert any("nothing is restarted or verified until Docker is installed" in w for w in result["warnings"])


def test_warnings_are_returned_for_display():
    wanted = dict(DEFAULTS, docker_storage_zfs_properties={"compression": "gzip-9", "dedup": "on"}, **ZFS)
    warnings = evaluate(wanted, host(wanted))["warnings"]
    assert any("gzip-9 is CPU bound" in w for w in warnings) and any("dedup=on keeps a table" in w for w in warnings)
