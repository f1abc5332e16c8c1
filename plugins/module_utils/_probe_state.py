# -*- coding: utf-8 -*-
# Copyright: cowstack.docker_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""storage_facts' probes of what earlier runs left: the snapshot tool's snapshots and their ages, the switch
journal, Docker states a switch moved aside, directories of drivers used before, and the devices named. Reads the
host; changes nothing."""

from __future__ import annotations

import json
import os
import time

from ._drivers import GRAPHDRIVERS
from ._probe import Probe, read_file
from ._probe_devices import inspect
from ._retention import RetentionError
from ._snapshot_config import age_report, check_config as check_snapshot_config
from ._snapshot_fs import list_btrfs_snapshots, parse_zfs_list, zfs_list_argv


class StateProbe(Probe):
    def snapshots(self, path):
        """The snapshot tool's targets (its configuration at ``path``, when installed): the newest of our
        snapshots per target and its age, as the tool's ``--check`` sees them. One ``zfs list`` per ZFS target;
        btrfs reads the snapshot directory. None without a configuration."""
        text = read_file(path)
        if text is None:
            if not os.path.exists(path):
                return None
            return {"config": path, "error": "%s cannot be read (audit as root)" % path, "targets": [], "warn": None,
                    "critical": None}
        try:
            config = check_snapshot_config(json.loads(text))
        except (ValueError, RetentionError) as exc:
            return {"config": path, "error": "%s: %s" % (path, exc), "targets": [], "warn": None, "critical": None}
        listed = {}
        for item in config["targets"]:
            if item["kind"] == "btrfs":
                listed[item["target"]] = [s["name"] for s in list_btrfs_snapshots(item["snapshot_dir"])]
                continue
            zfs = self.bin("zfs")
            rc, out, err = self.run(zfs_list_argv(item["target"], zfs)) if zfs else (1, "", "zfs not found")
            listed[item["target"]] = [s["name"] for s in parse_zfs_list(out, item["target"])] if rc == 0 \
                else (err.strip() or "zfs list failed")[:300]
        return dict(age_report(config, listed, int(time.time())), config=path)

    def devices(self, paths):
        blkid = self.bin("blkid")
        result = []
        for path in paths:
            if os.path.exists(path) and os.path.realpath(path).startswith("/dev/") and not blkid:
                result.append({"path": path, "exists": True, "block": None, "problem": "blkid not found (util-linux)",
                               "holds": [], "probe": {}})
                continue
            result.append(inspect(self.module, path, blkid=blkid) if path.startswith("/dev/") else
                          {"path": path, "exists": os.path.exists(path), "block": False, "holds": [], "probe": {},
                           "problem": "%s is not under /dev" % path})
        return result

    def siblings(self, data_root):
        """``<data-root>.cowstack-*``: Docker states an earlier switch moved aside."""
        parent, name = os.path.split(data_root)
        try:
            return sorted(os.path.join(parent, e) for e in os.listdir(parent) if e.startswith(name + ".cowstack-"))
        except OSError:
            return []

    def journal(self):
        text = read_file(self.params["journal_path"])
        if not text:
            return None
        try:
            content = json.loads(text)
        except ValueError:
            content = None
        if not isinstance(content, dict):
            return {"error": "%s is not a JSON object" % self.params["journal_path"],
                    "path": self.params["journal_path"]}
        return dict(content, path=self.params["journal_path"])

    def prior_drivers(self, data_root):
        prior = []
        for driver in GRAPHDRIVERS:
            path = os.path.join(data_root, driver)
            if driver != "vfs" and os.path.isdir(path):
                try:
                    if os.listdir(path):
                        prior.append(driver)
                except OSError:
                    pass
        return prior
