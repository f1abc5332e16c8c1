"""The oracle: the real dockerd decides, and the facts must have predicted it.

For each filesystem as data-root: dockerd with no storage-driver must pick ``default_driver``; dockerd with
each driver must start exactly when ``compatible[driver].ok``; storage-opts start exactly when the choice
reports no error; prior state is honoured as dockerd honours it."""

from __future__ import annotations

import json
import os

import pytest

import realhost

from ansible_collections.cowstack.docker_storage.plugins.module_utils._choice import choose
from ansible_collections.cowstack.docker_storage.plugins.module_utils._drivers import (
    GRAPHDRIVERS, band_for, dockerd_pick, host_view)

KINDS = ["ext4", "ext4-nodtype", "xfs", "xfs-pquota", "btrfs", "zfs"]


def _fresh(mnt, name):
    """A data-root that does not exist yet on the filesystem (dockerd creates it), so no prior state."""
    return os.path.join(mnt, "dr-%s" % name)


@pytest.mark.parametrize("kind", KINDS)
def test_dockerd_agrees_with_facts(kind, loopfs):
    with loopfs(kind) as mnt:
        facts = realhost.storage_facts(_fresh(mnt, "facts"))
        assert facts["docker"]["installed"] and facts["docker"]["version"]

        with realhost.dockerd(_fresh(mnt, "default")) as daemon:
            assert daemon.started, daemon.error_line()
            assert daemon.driver == facts["default_driver"], (daemon.driver, facts["default_driver_reason"])

        for driver in GRAPHDRIVERS:
            expected = facts["compatible"][driver]
            with realhost.dockerd(_fresh(mnt, driver), driver=driver) as daemon:
                assert daemon.started is expected["ok"], (driver, expected["reason"], daemon.error_line())
                if daemon.started:
                    assert daemon.driver == driver


# (filesystem, driver, storage-opts): dockerd starts exactly when choose() reports no error.
OPTS = [
    ("xfs-pquota", "overlay2", ["overlay2.size=1G"]),
    ("xfs", "overlay2", ["overlay2.size=1G"]),
    ("ext4", "overlay2", ["overlay2.size=1G"]),
    ("ext4", "overlay2", ["overlay2.override_kernel_check=true"]),
    ("ext4", "overlay2", ["overlay2.nosuchopt=1"]),
    ("btrfs", "btrfs", ["btrfs.min_space=1G"]),
    ("btrfs", "btrfs", ["btrfs.nosuchopt=1"]),
    ("ext4", "vfs", ["size=1G"]),
    ("xfs-pquota", "vfs", ["size=1G"]),
]


@pytest.mark.parametrize("kind, driver, opts", OPTS)
def test_storage_opts_rules_match_dockerd(kind, driver, opts, loopfs):
    with loopfs(kind) as mnt:
        facts = realhost.storage_facts(_fresh(mnt, "facts"))
        choice = choose(facts, driver, storage_opts=opts)
        with realhost.dockerd(_fresh(mnt, "opts"), driver=driver, storage_opts=opts) as daemon:
            assert daemon.started is (choice["errors"] == []), (choice["errors"], daemon.error_line())


def test_prior_state_is_honoured_and_several_refuse(loopfs):
    with loopfs("btrfs") as mnt:
        one = _fresh(mnt, "prior-one")
        os.makedirs(os.path.join(one, "overlay2", "l"))
        facts = realhost.storage_facts(one)
        assert facts["prior_drivers"] == ["overlay2"]
        with realhost.dockerd(one) as daemon:
            assert daemon.started and daemon.driver == facts["default_driver"], daemon.error_line()

        several = _fresh(mnt, "prior-several")
        os.makedirs(os.path.join(several, "overlay2", "l"))
        os.makedirs(os.path.join(several, "btrfs", "subvolumes"))
        facts = realhost.storage_facts(several)
        assert facts["default_driver"] is None
        with realhost.dockerd(several) as daemon:
            assert not daemon.started
            assert "several" in daemon.log, daemon.error_line()


# -- the containerd image store (Docker 24+; run for real by the containerd scenario on Docker 28) --------------

# storage-driver values tried with features.containerd-snapshotter on: none, each snapshotter name, and the
# graphdriver names dockerd maps to a snapshotter.
STORE_DRIVERS = [None, "overlayfs", "native", "btrfs", "zfs", "overlay2", "vfs"]
STORE_KINDS = ["ext4", "xfs", "btrfs", "zfs"]
REPORT = os.environ.get("COWSTACK_ORACLE_REPORT")


def _store_of(daemon):
    """The image store a running dockerd reports: its DriverStatus names the snapshotter type."""
    status = dict((row[0], row[1]) for row in daemon.info.get("DriverStatus") or [] if len(row) == 2)
    return "containerd" if status.get("driver-type", "").startswith("io.containerd.snapshotter") else "graphdriver"


def _record(rows, kind, config, prior, predicted, daemon):
    row = {"fs": kind, "config": config, "prior": prior, "predicted_driver": predicted["driver"],
           "predicted_store": predicted["image_store"], "reason": predicted["reason"], "started": daemon.started,
           "driver": daemon.driver if daemon.started else None,
           "store": _store_of(daemon) if daemon.started else None,
           "error": None if daemon.started else daemon.error_line()[-300:]}
    row["agrees"] = (row["started"] is (predicted["driver"] is not None)
                     and (not row["started"] or (row["driver"] == predicted["driver"]
                                                 and row["store"] == predicted["image_store"])))
    rows.append(row)
    if REPORT:
        with open(REPORT, "a") as handle:
            handle.write(json.dumps(row, sort_keys=True) + "\n")


def _store_band(facts):
    band = band_for(facts["docker"]["version"])
    if band.containerd_store == "absent":
        pytest.skip("Docker %s has no containerd image store (molecule/containerd runs this on Docker 28)"
                    % facts["docker"]["version"])
    return band


@pytest.mark.parametrize("kind", STORE_KINDS)
def test_containerd_store_agrees_with_facts(kind, loopfs):
    """Each storage-driver with the feature on, the feature off, and nothing set (dockerd's own store choice):
    dockerd starts exactly when dockerd_pick says, with the driver and the image store it names. Every case runs
    before the assertion, so one run reports every disagreement."""
    rows = []
    with loopfs(kind) as mnt:
        facts = realhost.storage_facts(_fresh(mnt, "facts"))
        band, host = _store_band(facts), host_view(facts)
        with realhost.dockerd(_fresh(mnt, "nothing-set")) as daemon:
            _record(rows, kind, {}, None, {"driver": facts["default_driver"],
                                           "image_store": facts["default_image_store"],
                                           "reason": facts["default_driver_reason"]}, daemon)
        for feature in (True, False):
            for driver in STORE_DRIVERS if feature else ["overlay2", "btrfs", "vfs", "overlayfs"]:
                config = {"features": {"containerd-snapshotter": feature}}
                if driver:
                    config["storage-driver"] = driver
                predicted = dockerd_pick(host, band, config)
                name = "%s-%s" % ("on" if feature else "off", driver or "none")
                with realhost.dockerd(_fresh(mnt, name), config=config) as daemon:
                    _record(rows, kind, config, None, predicted, daemon)
    wrong = [r for r in rows if not r["agrees"]]
    assert not wrong, json.dumps(wrong, indent=1, sort_keys=True)


def test_containerd_store_with_prior_graphdriver_state(loopfs):
    """Prior overlay2 state under data-root with the feature on, and with nothing set: as predicted."""
    rows = []
    with loopfs("ext4") as mnt:
        for name, config in (("prior-on", {"features": {"containerd-snapshotter": True}}), ("prior-none", {})):
            root = _fresh(mnt, name)
            os.makedirs(os.path.join(root, "overlay2", "l"))
            facts = realhost.storage_facts(root)
            band = _store_band(facts)
            predicted = dockerd_pick(host_view(facts), band, config)
            with realhost.dockerd(root, config=config) as daemon:
                _record(rows, "ext4", config, "overlay2", predicted, daemon)
    wrong = [r for r in rows if not r["agrees"]]
    assert not wrong, json.dumps(wrong, indent=1, sort_keys=True)
