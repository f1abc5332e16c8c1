"""The audit's drift against the role's variables (storage_audit role_variables): each area as the part of the
role that fixes it would see it, and nothing where the host is as the variables ask."""

from __future__ import annotations

import os

import jinja2
import pytest

from ansible_collections.cowstack.docker_storage.plugins.module_utils._drift import (
    CRON_MARKER, directives, drift, dropin_lines, reads)
from ansible_collections.cowstack.docker_storage.plugins.module_utils._preflight import evaluate
from factsbuilder import facts as make_facts
from test_bad_inputs import DEFAULTS

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
PATHS = {"storage_dropin": "/etc/systemd/system/docker.service.d/10-cowstack-storage.conf",
         "containerd_dropin": "/etc/systemd/system/containerd.service.d/10-cowstack-storage.conf",
         "hold_file": "/var/lib/cowstack-docker-storage/hold-docker"}
UUID = "0b7c3f6e-1111-2222-3333-444455556666"
FSTAB = "/etc/fstab"
CRON = "/etc/cron.d/cowstack-docker-storage-snapshot"
GOOD_FSTAB = "UUID=%s /var/lib/docker btrfs noatime,compress=zstd:3,subvol=@docker 0 0\n" % UUID
GOOD_DROPIN = ("# Ansible managed\n[Unit]\nRequiresMountsFor=/var/lib/docker\nConditionPathIsMountPoint=/var/lib/docker\n"
               "ConditionPathExists=!/var/lib/cowstack-docker-storage/hold-docker\n")
GOOD_CRON = "%s\n0 * * * * root /usr/local/sbin/cowstack-snapshot\n" % CRON_MARKER


def inputs(**extra):
    base = dict(DEFAULTS)
    base.update({
        "docker_storage_policy": "large_images", "docker_storage_data_root": "/var/lib/docker",
        "docker_storage_devices": ["/dev/vdb"], "docker_storage_btrfs_mount_options": ["noatime", "compress=zstd:3"],
        "docker_storage_btrfs_subvolume": "@docker", "docker_storage_fstab": FSTAB,
        "docker_storage_manage_daemon": False, "docker_storage_docker_unit_dropin": True,
        "docker_storage_zfs_dataset": "docker/docker", "docker_storage_daemon_json_path": "/etc/docker/daemon.json",
        "docker_storage_zfs_properties": {"compression": "lz4", "atime": "off"}})
    base.update(extra)
    return base


def btrfs_host(options=("rw", "noatime", "compress=zstd:3", "subvol=/@docker"), files=None):
    facts = make_facts("btrfs", "26.1.5")
    facts["backing_fs"].update(mount_point="/var/lib/docker", source="/dev/vdb", options=list(options))
    facts["devices"] = [{"path": "/dev/vdb", "exists": True, "block": True, "mounted_at": ["/var/lib/docker"],
                         "probe": {"TYPE": "btrfs", "UUID": UUID}}]
    facts["files"] = dict({FSTAB: GOOD_FSTAB, PATHS["storage_dropin"]: GOOD_DROPIN, CRON: GOOD_CRON}, **(files or {}))
    return facts


SNAPSHOT = {"docker_storage_snapshots": True, "docker_storage_snapshot_state": "present",
            "docker_storage_snapshot_cron_file": "cowstack-docker-storage-snapshot",
            "docker_storage_snapshot_schedule": "0 * * * *", "docker_storage_snapshot_scheduler": "cron",
            "docker_storage_snapshot_unit": "cowstack-docker-storage-snapshot",
            "docker_storage_snapshot_systemd_dir": "/etc/systemd/system", "docker_storage_snapshot_on_calendar": ""}


def areas(role_inputs, facts, snapshot=None):
    plan = evaluate(role_inputs, facts, check_mode=True)
    assert not plan["errors"], plan["errors"]
    items = drift(role_inputs, facts, plan, PATHS, snapshot)
    return sorted(set(i["area"] for i in items)), items


def test_a_host_as_the_variables_ask_has_no_drift():
    assert areas(inputs(), btrfs_host(), SNAPSHOT) == ([], [])


@pytest.mark.parametrize("change, area, fragment", [
    ({"options": ("rw", "relatime", "compress=zstd:3", "subvol=/@docker")}, "mount", "without noatime"),
    ({"files": {FSTAB: GOOD_FSTAB.replace("noatime,", "")}}, "fstab", "'UUID=%s" % UUID),
    ({"files": {FSTAB: "# empty\n"}}, "fstab", "has no entry for /var/lib/docker"),
    ({"files": {FSTAB: GOOD_FSTAB.replace(UUID, "f" * 8)}}, "fstab", "entry for /var/lib/docker"),
    ({"files": {PATHS["storage_dropin"]: None}}, "drop-in", "is missing"),
    ({"files": {PATHS["storage_dropin"]: GOOD_DROPIN.replace("ConditionPathExists", "#")}}, "drop-in", "wanted"),
    ({"files": {CRON: GOOD_CRON.replace("0 * * * *", "5 * * * *")}}, "snapshots", "'5 * * * *', '0 * * * *' wanted"),
    ({"files": {CRON: None}}, "snapshots", "no snapshot job"),
])
def test_each_drift_is_named(change, area, fragment):
    found, items = areas(inputs(), btrfs_host(**change), SNAPSHOT)
    assert found == [area], items
    assert fragment in items[0]["what"], items


def test_the_snapshot_timer_is_compared_with_on_calendar():
    snapshot = dict(SNAPSHOT, docker_storage_snapshot_scheduler="systemd")
    timer = "/etc/systemd/system/cowstack-docker-storage-snapshot.timer"
    good = "[Timer]\nOnCalendar=*-*-* *:00:00\nPersistent=true\n"
    assert areas(inputs(), btrfs_host(files={timer: good}), snapshot)[0] == []
    found, items = areas(inputs(), btrfs_host(files={timer: good.replace("*:00:00", "*:30:00")}), snapshot)
    assert found == ["snapshots"] and "runs at *-*-* *:30:00" in items[0]["what"]


def test_storage_not_made_yet_is_one_item_not_a_cascade():
    facts = make_facts("ext4", "26.1.5", btrfs=True)
    facts["devices"] = [{"path": "/dev/vdb", "exists": True, "block": True, "mounted_at": [], "probe": {}}]
    facts["files"] = {}
    found, items = areas(inputs(docker_storage_docker_unit_dropin=False), facts)
    assert found == ["storage"] and "btrfs storage is to be made at /var/lib/docker" in items[0]["what"]


def test_zfs_properties_as_zfs_storage_plans_them():
    facts = make_facts("zfs", "26.1.5", zfs="2.2.4")
    facts["backing_fs"].update(mount_point="/var/lib/docker", source="docker/docker")
    facts["devices"] = [{"path": "/dev/vdb", "exists": True, "block": True, "mounted_at": [], "probe": {"TYPE": "zfs_member"}}]
    facts["files"] = {PATHS["storage_dropin"]: GOOD_DROPIN + "Requires=zfs-mount.service\nAfter=zfs-mount.service\n"}
    facts["zfs_properties"] = {"docker/docker": {"compression": ["lz4", "inherited from docker"], "atime": ["off", "local"],
                                                 "mountpoint": ["/var/lib/docker", "local"], "mounted": ["yes", "-"]}}
    role = inputs(docker_storage_policy="enterprise")
    assert areas(role, facts) == ([], [])
    facts["zfs_properties"]["docker/docker"]["compression"] = ["off", "local"]
    found, items = areas(role, facts)
    assert found == ["zfs"] and items[0]["what"] == "docker/docker compression is off (local), lz4 wanted"


def test_daemon_json_keys_are_named_one_by_one():
    facts = btrfs_host()
    facts["daemon_json"].update(exists=True, content={"log-driver": "journald", "storage-driver": "overlay2"})
    found, items = areas(inputs(docker_storage_manage_daemon=True), facts, SNAPSHOT)
    assert "daemon.json" in found
    whats = [i["what"] for i in items if i["area"] == "daemon.json"]
    assert any('storage-driver: "overlay2" now, "btrfs" wanted' in w for w in whats), whats
    assert not any("log-driver" in w for w in whats), "a key another tool owns is not drift"


def test_reads_names_what_the_checks_need():
    tool = {"/usr/local/lib/x/cowstack-snapshot.py": "ab" * 32, "/usr/local/lib/x/_retention.py": "cd" * 32}
    args = reads(inputs(docker_storage_zfs_pool_properties={"autotrim": "on", "ashift": 12}), PATHS,
                 dict(SNAPSHOT, tool_files=tool))
    files = args["read_files"]
    assert FSTAB in files and PATHS["storage_dropin"] in files and CRON in files
    assert args["zfs_properties"] == {"docker/docker": ["atime", "compression", "mounted", "mountpoint"]}
    assert args["zpool_properties"] == {"docker": ["ashift", "autotrim"]}
    assert args["checksum_files"] == sorted(tool)
    assert "/etc/containerd/config.toml" not in files  # no keys to set: not read
    with_keys = reads(inputs(docker_storage_containerd_settings={"a.b": 1},
                             docker_storage_containerd_config="/etc/containerd/config.toml"), PATHS)
    assert "/etc/containerd/config.toml" in with_keys["read_files"] and with_keys["checksum_files"] == []
    assert reads(inputs(docker_storage_devices=[]), PATHS)["zfs_properties"] == {}
    assert reads(inputs(docker_storage_zfs_dataset="bad;name"), PATHS)["zfs_properties"] == {}
    assert reads(inputs(docker_storage_zfs_pool="bad;pool", docker_storage_zfs_pool_properties={"autotrim": "on"}),
                 PATHS)["zpool_properties"] == {}


@pytest.mark.parametrize("driver, requires", [("btrfs", []), ("zfs", ["zfs-mount.service"])])
def test_dropin_lines_are_what_the_template_renders(driver, requires):
    path = os.path.join(ROOT, "roles", "docker_storage", "templates", "docker-storage-dropin.conf.j2")
    with open(path) as handle:
        text = jinja2.Template(handle.read()).render(
            ansible_managed="Ansible managed", docker_storage__prepare_at="/srv/docker",
            docker_storage_data_root="/srv/docker", docker_storage__hold_file=PATHS["hold_file"],
            docker_storage__requires=requires)
    assert directives(text) == dropin_lines("/srv/docker", PATHS["hold_file"], driver)


def test_what_the_role_would_refuse_is_a_warning_of_the_audit_not_a_failure():
    """A fresh machine without Docker: the role refuses to run (install Docker first), the audit reports it and
    still succeeds - `make audit` is the README's first command on a new machine."""
    from ansible_collections.cowstack.docker_storage.plugins.module_utils._audit import add_drift, summarize
    facts = make_facts("ext4", None)
    facts["docker"] = {"installed": False, "version": None, "running": False}
    role = dict(DEFAULTS)
    plan = evaluate(role, facts, check_mode=True)
    assert any("Docker is not installed" in e for e in plan["errors"])
    summary = add_drift(summarize(facts, "auto", host="new"), drift(role, facts, plan, PATHS), plan)
    assert summary["errors"] == []
    assert any(w.startswith("the role would refuse: Docker is not installed") for w in summary["warnings"])
    assert any(line.startswith("WARNING:     the role would refuse") for line in summary["lines"])


def zfs_host():
    facts = make_facts("zfs", "26.1.5", zfs="2.2.4")
    facts["backing_fs"].update(mount_point="/var/lib/docker", source="docker/docker")
    facts["devices"] = [{"path": "/dev/vdb", "exists": True, "block": True, "mounted_at": [], "probe": {"TYPE": "zfs_member"}}]
    facts["files"] = {PATHS["storage_dropin"]: GOOD_DROPIN + "Requires=zfs-mount.service\nAfter=zfs-mount.service\n"}
    facts["zfs_properties"] = {"docker/docker": {"compression": ["lz4", "local"], "atime": ["off", "local"],
                                                 "mountpoint": ["/var/lib/docker", "local"], "mounted": ["yes", "-"]}}
    facts["zpool_properties"] = {"docker": {"autotrim": ["on", "local"], "ashift": ["12", "local"]}}
    return facts


def test_pool_properties_as_zfs_storage_plans_them():
    role = inputs(docker_storage_policy="enterprise", docker_storage_zfs_pool="docker",
                  docker_storage_zfs_pool_properties={"autotrim": "on", "ashift": 12})
    assert areas(role, zfs_host()) == ([], [])
    facts = zfs_host()
    facts["zpool_properties"]["docker"]["autotrim"] = ["off", "default"]
    found, items = areas(role, facts)
    assert found == ["zpool"] and items[0]["what"] == "pool docker autotrim is off (default), on wanted (the role sets it)"
    facts["zpool_properties"]["docker"]["ashift"] = ["9", "local"]
    whats = [i["what"] for i in areas(role, facts)[1]]
    assert "pool docker ashift is 9 (local), 12 wanted (fixed when a vdev is created: the role refuses this drift)" in whats
    facts["zpool_properties"]["docker"] = None  # no pool yet: the storage item names it, not each property
    assert areas(role, facts)[0] == []


CONFIG = "/etc/containerd/config.toml"


@pytest.mark.parametrize("text, wanted, fragment", [
    ('version = 2\n[plugins."io.containerd.grpc.v1.cri"]\n  max_concurrent_downloads = 3\n', 6,
     "%s plugins.\"io.containerd.grpc.v1.cri\".max_concurrent_downloads: 3 now, 6 wanted" % CONFIG),
    ("version = 2\n", 6, "max_concurrent_downloads: absent now, 6 wanted"),
    (None, 6, "max_concurrent_downloads: absent now, 6 wanted"),
    ('[plugins."io.containerd.grpc.v1.cri"]\n  max_concurrent_downloads = [\n 1]\n', 6, "spans several lines"),
])
def test_containerd_keys_as_containerd_config_sets_them(text, wanted, fragment):
    key = 'plugins."io.containerd.grpc.v1.cri".max_concurrent_downloads'
    role = inputs(docker_storage_containerd_config=CONFIG, docker_storage_containerd_settings={key: wanted})

    def host(config):
        facts = btrfs_host(files={CONFIG: config})
        facts["containerd"] = {"managed_by_dockerd": False}  # a system containerd, whose config the role sets
        return facts
    found, items = areas(role, host(text), SNAPSHOT)
    assert found == ["containerd"] and fragment in items[0]["what"], items
    same = '[plugins."io.containerd.grpc.v1.cri"]\n  max_concurrent_downloads = 6 # mine\n'
    assert areas(role, host(same), SNAPSHOT) == ([], [])


def test_the_snapshot_tool_files_are_compared_by_digest():
    tool = {"/usr/local/lib/x/cowstack-snapshot.py": "ab" * 32, "/usr/local/lib/x/_retention.py": "cd" * 32}
    snapshot = dict(SNAPSHOT, tool_files=tool)
    facts = btrfs_host()
    facts["checksums"] = dict(tool)
    assert areas(inputs(), facts, snapshot) == ([], [])
    facts["checksums"]["/usr/local/lib/x/_retention.py"] = "ef" * 32
    found, items = areas(inputs(), facts, snapshot)
    assert found == ["snapshots"], items
    assert items[0]["what"] == ("the snapshot tool's files /usr/local/lib/x/_retention.py differ from the "
                                "collection's (the role installs them)")
    facts["checksums"] = {}
    assert "are missing or differ from" in areas(inputs(), facts, snapshot)[1][0]["what"]
    assert areas(inputs(), facts, dict(snapshot, docker_storage_snapshot_state="absent"))[0] == []
