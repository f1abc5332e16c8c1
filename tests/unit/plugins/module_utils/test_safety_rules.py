"""The rules behind the safety of a run: lab file ownership, the run lock, what a host lacks, reading an unmounted
btrfs, and finishing a switch a run left half done."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.cowstack.docker_storage.plugins.module_utils._btrfs import (
    parse_chunk_profiles, parse_root_refs, subvolume_exists,
)
from ansible_collections.cowstack.docker_storage.plugins.module_utils._lab import adoptable, refusal
from ansible_collections.cowstack.docker_storage.plugins.module_utils._lock import describe, stale
from ansible_collections.cowstack.docker_storage.plugins.module_utils._preflight import evaluate
from ansible_collections.cowstack.docker_storage.plugins.module_utils._requirements import missing, os_family
from ansible_collections.cowstack.docker_storage.plugins.module_utils._units import parse_size
from test_bad_inputs import DEFAULTS, ZFS, host, running_overlay2_with_images

# btrfs-progs 6.2 (Debian 12): @docker and dir/sv at the top level, nested inside @docker.
DUMP_ROOT = """
\titem 4 key (FS_TREE ROOT_REF 256) itemoff 14924 itemsize 25
\t\troot ref key dirid 256 sequence 2 name @docker
\titem 5 key (FS_TREE ROOT_REF 258) itemoff 14904 itemsize 20
\t\troot ref key dirid 257 sequence 2 name sv
\titem 13 key (256 ROOT_BACKREF 5) itemoff 12914 itemsize 25
\t\troot backref key dirid 256 sequence 2 name @docker
\titem 14 key (256 ROOT_REF 257) itemoff 12890 itemsize 24
\t\troot ref key dirid 256 sequence 2 name nested
"""
DUMP_CHUNK = """
\t\tio_align 4096 io_width 4096 sector_size 4096 type 0
\t\tlength 8388608 owner 2 stripe_len 65536 type DATA|single
\t\tlength 8388608 owner 2 stripe_len 65536 type SYSTEM|DUP
\t\tlength 33554432 owner 2 stripe_len 65536 type METADATA|DUP
"""


@pytest.mark.parametrize("path, exists", [("@docker", True), ("@docker/nested", True), ("other", False),
                                          ("@docker/missing", False), ("sv", False), ("dir/sv", None)])
def test_subvolumes_read_without_a_mount(path, exists):
    assert subvolume_exists(parse_root_refs(DUMP_ROOT), path) is exists


def test_profiles_read_without_a_mount():
    assert parse_chunk_profiles(DUMP_CHUNK) == {"data": "single", "system": "dup", "metadata": "dup"}
    # older btrfs-progs print no profile for single
    assert parse_chunk_profiles("length 1 owner 2 stripe_len 65536 type DATA\n") == {"data": "single"}
    profiles = parse_chunk_profiles("x type DATA|RAID1\n y type METADATA|RAID1C3\n")
    assert profiles == {"data": "raid1", "metadata": "raid1c3"}


LAB = {"path": "/var/lib/lab.img", "dir_exists": True, "exists": True, "symlink": False, "regular": True,
       "size": 2 * 1024 ** 3, "marked": False, "probe": {}, "device": None, "free_bytes": 10 * 1024 ** 3}


def test_a_marked_lab_file_is_used_and_grown():
    assert refusal(dict(LAB, marked=True), 4 * 1024 ** 3) == (None, False)


@pytest.mark.parametrize("probe, adopt", [({"TYPE": "btrfs", "LABEL": "docker"}, True),
                                          ({"TYPE": "zfs_member", "LABEL": "docker"}, True),
                                          ({"TYPE": "btrfs", "LABEL": "home"}, False),
                                          ({"TYPE": "ext4", "LABEL": "docker"}, False), ({}, False)])
def test_an_unmarked_file_is_adopted_only_when_it_holds_the_roles_filesystem(probe, adopt):
    assert adoptable(probe, {"btrfs": "docker", "zfs": "docker"}) is adopt
    message, adopted = refusal(dict(LAB, probe=probe), LAB["size"], {"btrfs": "docker", "zfs": "docker"})
    assert adopted is adopt and (message is None) is adopt


def test_a_new_lab_file_needs_room_for_all_of_it():
    message, _adopt = refusal(dict(LAB, exists=False, regular=False, size=None, free_bytes=1024 ** 3), 2 * 1024 ** 3)
    assert "1.0 GiB free, the lab file needs 2.0 GiB more" in message and "Nothing was changed" in message


def alive_never(pid, start):
    return False


def alive_always(pid, start):
    return True


def test_lock_holders():
    holder = {"token": "t", "controller": "c1", "pid": 5, "start": "9"}
    assert stale(holder, "c1", alive_never) and not stale(holder, "c1", alive_always)
    assert not stale(holder, "c2", alive_never), "a holder of another controller is never known gone"
    assert stale({}, "c1", alive_always), "a lock cut short while it was written"
    assert "pid 5 on controller c1" in describe(holder)


@pytest.mark.parametrize("fields, family", [
    ({"ID": "debian"}, "Debian"), ({"ID": "ubuntu", "ID_LIKE": "debian"}, "Debian"),
    ({"ID": "linuxmint", "ID_LIKE": "ubuntu debian"}, "Debian"), ({"ID": "rocky", "ID_LIKE": "rhel centos fedora"}, "RedHat"),
    ({"ID": "nixos"}, None)])
def test_os_family(fields, family):
    assert os_family(fields) == family


def test_missing_parts():
    facts = {"available": {"zfs": False, "zfs_tools": True, "zfs_kernel": False}}
    assert missing("zfs", facts) == ["kernel"]
    assert missing("btrfs", {"available": {"btrfs": True}}) == []


@pytest.mark.parametrize("text, size", [("10G", 10 * 1024 ** 3), ("512M", 512 * 1024 ** 2), ("1TiB", 1024 ** 4),
                                        ("lots", None), ("-1G", None), ("1.5G", None), (True, None), (4096, 4096)])
def test_sizes(text, size):
    assert parse_size(text) == size


# -- finishing a switch a run left half done ---------------------------------------------------------------------

def journal(phase, **extra):
    base = {"path": "/var/lib/cowstack-docker-storage/switch.json", "phase": phase, "started": "2026-12-03T10:00:00Z",
            "from": {"driver": "overlay2"}, "to": {"driver": "zfs", "data_root": "/var/lib/docker",
                                                   "image_store": "graphdriver", "prepare": "zfs"},
            "aside": "/var/lib/docker.cowstack-overlay2", "spool": "/var/tmp/cowstack-docker-migration",
            "images": ["sha256:a busybox:latest"], "dropin_before": False}
    base.update(extra)
    return base


def plan_for(facts_change, **inputs):
    wanted = dict(copy.deepcopy(DEFAULTS), **dict(ZFS, docker_storage_migration="save_load"))
    wanted.update(inputs)
    facts = host(wanted)
    facts_change(facts)
    return evaluate(wanted, facts)


def test_killed_after_the_vacate_the_rerun_finishes_from_the_journal():
    """docker stopped, the data-root gone (moved aside): no refusal for a stopped daemon, no second save, the
    images of the first run to load, and the aside directory of the journal (not one named after no driver)."""
    def after_vacate(facts):
        facts["docker"].update(running=False, driver=None)
        facts["switch_journal"] = journal("vacated")
    result = plan_for(after_vacate)
    assert result["errors"] == [], result["errors"]
    assert result["resume"]["phase"] == "vacated"
    assert not result["save_images"] and not result["vacate"]
    assert result["load_images"] and result["images"] == ["sha256:a busybox:latest"]
    assert result["aside"] == "/var/lib/docker.cowstack-overlay2"
    assert result["restart_pending"]


def test_killed_after_the_save_before_the_move_the_data_root_is_still_vacated():
    def saved_docker_stopped(facts):
        facts["docker"].update(running=False)
        facts["prior_drivers"] = ["overlay2"]
        facts["data_root_empty"] = False
        facts["switch_journal"] = journal("saved", aside=None)
    result = plan_for(saved_docker_stopped)
    assert result["errors"] == [], result["errors"]
    assert result["vacate"] and not result["save_images"] and result["load_images"]


def test_killed_mid_save_starts_over():
    """No journal is written before the save is complete: the rerun saves again."""
    result = plan_for(running_overlay2_with_images)
    assert result["errors"] == [] and result["save_images"] and result["resume"] is None and result["vacate"]


def test_daemon_json_written_but_docker_not_restarted():
    """Killed after daemon.json was written, dockerd still on the old driver with its images: the journal of the first
    run (phase configuring) is finished - no refusal for the images a rerun would see as hidden (they were saved),
    a restart though no file changes, the images of the first run to load, and daemon.json of before the first run
    kept for a rollback (not the one the first run wrote)."""
    def old_driver_running(facts):
        running_overlay2_with_images(facts)
        facts["backing_fs"]["fstype"] = "zfs"
        facts["data_root_empty"] = False
        facts["daemon_json"].update(exists=True, content={"storage-driver": "zfs", "log-driver": "json-file"})
        facts["switch_journal"] = journal("configuring", aside=None, daemon_json_existed=True,
                                          daemon_json_before={"log-driver": "json-file"})
    result = plan_for(old_driver_running)
    assert result["errors"] == [], result["errors"]
    assert result["restart_pending"] and not result["daemon"]["write"] and not result["save_images"]
    assert result["resume"]["phase"] == "configuring" and result["load_images"]
    assert result["journal_keep"]["daemon_json_before"] == {"log-driver": "json-file"}


def test_saved_but_docker_still_runs_the_old_driver_starts_over():
    """The save was recorded, then the run died before anything moved; docker kept running for days: a fresh save
    (images may have come since), and what the host had before the first run is kept."""
    def still_running(facts):
        running_overlay2_with_images(facts)
        facts["switch_journal"] = journal("saved", aside=None, dropin_before=False, daemon_json_existed=False,
                                          **{"from": {"driver": "overlay2", "data_root": "/var/lib/docker"}})
    result = plan_for(still_running)
    assert result["errors"] == [] and result["resume"] is None and result["save_images"]
    assert result["journal_keep"] == {"dropin_before": False, "daemon_json_existed": False}
    assert result["journaled"]


def test_a_converged_host_needs_no_restart():
    def converged(facts):
        facts["backing_fs"]["fstype"] = "zfs"
        facts["docker"].update(running=True, driver="zfs", image_store="graphdriver", data_root="/var/lib/docker",
                               images=3)
        facts["daemon_json"].update(exists=True, content={"storage-driver": "zfs"})
        facts["data_root_empty"] = False
    result = plan_for(converged)
    assert result["errors"] == [] and not result["restart_pending"] and not result["daemon"]["write"]
    assert not (result["vacate"] or result["save_images"] or result["load_images"])
