"""The oracle: the real dockerd decides, and the facts must have predicted it.

For each filesystem as data-root: dockerd with no storage-driver must pick ``default_driver``; dockerd with
each driver must start exactly when ``compatible[driver].ok``; storage-opts start exactly when the choice
reports no error; prior state is honoured as dockerd honours it."""

from __future__ import annotations

import os

import pytest

import realhost

from ansible_collections.cowstack.docker_storage.plugins.module_utils._choice import choose
from ansible_collections.cowstack.docker_storage.plugins.module_utils._drivers import GRAPHDRIVERS

KINDS = ["ext4", "ext4-nodtype", "xfs", "xfs-pquota", "btrfs"]


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
