"""The audit's free space, pool and snapshot ages: what storage_facts reads in its one round trip, summarised."""

from __future__ import annotations

import copy

from ansible_collections.cowstack.docker_storage.plugins.module_utils import _retention as R
from ansible_collections.cowstack.docker_storage.plugins.module_utils import _snapshot_config as C
from ansible_collections.cowstack.docker_storage.plugins.module_utils._audit import human_bytes, summarize

import factsbuilder

NOW = 1700000000


def config(**monitor):
    return C.check_config({"policy": {"hourly": 24}, "targets": ["tank/docker", "/srv/data"],
                           "monitor": monitor or {"warn": "2h", "critical": "6h"}})


def name(age):
    return R.snapshot_name("cowstack", "hourly", NOW - age)


def test_age_report_per_target_as_check_sees_it():
    listed = {"tank/docker": [name(600), name(3600), "zfs-auto-snap_x", "other"], "/srv/data": [name(7 * 3600)]}
    report = C.age_report(config(), listed, NOW)
    assert report["warn"] == 7200 and report["critical"] == 21600
    zfs, btrfs = report["targets"]
    assert (zfs["target"], zfs["count"], zfs["age_seconds"], zfs["state"]) == ("tank/docker", 2, 600, "OK")
    assert zfs["newest"] == name(600)
    assert (btrfs["age_seconds"], btrfs["state"]) == (7 * 3600, "CRITICAL")


def test_age_report_no_snapshot_and_unlisted():
    report = C.age_report(config(), {"tank/docker": [], "/srv/data": "zfs list failed"}, NOW)
    assert [(t["state"], t["count"], t["error"]) for t in report["targets"]] == [
        ("CRITICAL", 0, None), ("UNKNOWN", None, "zfs list failed")]


def facts_with(pool=None, snapshots=None, free=5 * 1024 ** 3, size=20 * 1024 ** 3):
    facts = copy.deepcopy(factsbuilder.BASE)
    facts["backing_fs"].update(free_bytes=free, size_bytes=size)
    facts["pool"], facts["snapshots"] = pool, snapshots
    return facts


def test_summary_has_space_pool_and_snapshot_ages():
    pool = {"kind": "zfs", "name": "tank", "size_bytes": 100 * 1024 ** 3, "free_bytes": 40 * 1024 ** 3,
            "health": "ONLINE"}
    snaps = C.age_report(config(), {"tank/docker": [name(600)], "/srv/data": [name(3 * 3600)]}, NOW)
    summary = summarize(facts_with(pool, snaps), "auto")
    assert summary["data_root_free_bytes"] == 5 * 1024 ** 3 and summary["pool"] == pool
    assert "space:       5.0 GiB free of 20.0 GiB under data-root; zfs tank: 40.0 GiB free of 100.0 GiB (ONLINE)" \
        in summary["lines"]
    assert "snapshots:   tank/docker: newest 10m old, 1 kept (OK)" in summary["lines"]
    assert summary["warnings"] == ["snapshots of /srv/data: newest 3h old, 1 kept (WARNING; warn at 2h, critical at 6h)"]
    assert "WARNING:     " + summary["warnings"][0] in summary["lines"]


def test_a_degraded_pool_and_an_unreadable_config_are_warnings():
    pool = {"kind": "zfs", "name": "tank", "size_bytes": 1, "free_bytes": 0, "health": "DEGRADED"}
    summary = summarize(facts_with(pool, {"error": "/etc/x: cannot be read"}), "auto")
    assert summary["warnings"] == ["snapshots: /etc/x: cannot be read", "pool tank is DEGRADED"]


def test_without_the_snapshot_tool_nothing_is_added():
    summary = summarize(facts_with(free=None, size=None), "auto")
    assert summary["warnings"] == [] and summary["snapshots"] is None
    assert "space:       unknown free of unknown under data-root" in summary["lines"]


def test_human_bytes():
    values = (None, 0, 1023, 1024, 5 * 1024 ** 4)
    assert [human_bytes(v) for v in values] == [None, "0 B", "1023 B", "1.0 KiB", "5.0 TiB"]
