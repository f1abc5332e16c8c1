# -*- coding: utf-8 -*-
# Copyright: cowstack.docker_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the snapshot modules ask the host: commands (argv, ``LC_ALL=C``), mounts, and whether a configured
target can be snapshotted. The rules themselves are in ``_retention``, ``_snapshot_config`` and ``_snapshot_fs``
(shared with the installed tool)."""

from __future__ import annotations

from ._command import run_c
from ._plan import StepFailed
from ._probe import read_mounts
from ._retention import RetentionError
from ._snapshot_config import check_config, docker_refusal, docker_storage
from ._snapshot_fs import btrfs_target_problem, store


class Host(object):
    """Runs commands for the snapshot modules; also the runner of a ``_snapshot_fs`` store (``read``/``change``)."""

    dry_run = False

    def __init__(self, module):
        self.module = module
        self.bins = {}

    def bin(self, name, required=True):
        if name not in self.bins:
            self.bins[name] = self.module.get_bin_path(name)
        if required and not self.bins[name]:
            self.module.fail_json(msg="%s target %s: this host has no %s command" % (
                "ZFS" if name == "zfs" else "btrfs", self.module.params.get("target"), name))
        return self.bins[name]

    def run(self, argv, step=False):
        """``argv``'s output. A failure fails the module; in a ``step`` of a plan, it raises ``StepFailed`` (the
        plan then fails the module, naming the steps done)."""
        argv = [self.bin(argv[0])] + list(argv[1:])
        rc, out, err = run_c(self.module, argv)
        if rc != 0:
            msg = "%s failed (rc %d): %s" % (" ".join(argv[:3]), rc, (err or out).strip())
            if step:
                raise StepFailed(msg, rc=rc, cmd=argv)
            self.module.fail_json(msg=msg, rc=rc, cmd=argv)
        return out

    def read(self, argv):
        return self.run(argv)

    def change(self, argv):
        """A store's change, run as a step of a plan (a failure names the steps done)."""
        return self.run(argv, step=True)

    def mounts(self):
        return read_mounts()

    def store(self, item, mounts):
        """The ``_snapshot_fs`` store of ``item`` (``target``, ``kind``, ``snapshot_dir``), run by this host."""
        return store(self, item, mounts)


def target_problem(module, host, mounts, item):
    """``(problem, missing)`` for ``item`` as this host is now: problem None when it can be snapshotted;
    missing True when it does not exist (yet) as a dataset or subvolume, False when it exists but is the wrong
    kind of thing."""
    if item["kind"] == "btrfs":
        problem = btrfs_target_problem(mounts, item["target"], item["snapshot_dir"])
        return problem, problem is not None
    if not host.bin("zfs", required=False):
        return "%s is a ZFS dataset name, but this host has no zfs command" % item["target"], True
    argv = [host.bin("zfs"), "list", "-H", "-p", "-o", "name,type", item["target"]]
    rc, out, err = run_c(module, argv)
    if rc != 0:
        return "%s: %s" % (item["target"], (err or out).strip() or "no such dataset"), True
    kind = out.split("\t")[1].strip() if "\t" in out else None
    if kind not in ("filesystem", "volume"):
        return "%s is a ZFS %s, not a filesystem or volume" % (item["target"], kind), False
    return None, False


def checked_config(module, host, doc):
    """A whole ``cowstack-snapshot`` configuration checked as the tool checks it, plus each target on this host:
    returns ``(config, pending, docker)`` (normalised configuration, targets missing in check mode, what Docker
    owns here) or fails the module, naming every problem, before anything is changed.

    In check mode a target that does not exist yet only warns: an earlier task of the same run (the docker_storage
    role making the pool, the dataset or the subvolume) may create it; a real run refuses it. A target Docker owns
    is refused in every mode."""
    try:
        config = check_config(doc)
    except RetentionError as exc:
        module.fail_json(msg="invalid snapshot configuration: %s" % exc)
    mounts = host.mounts()
    docker = docker_storage(mounts, **config["docker"])
    problems, pending = [], []
    for item in config["targets"]:
        problem, missing = docker_refusal(item["target"], docker), False
        if not problem:
            problem, missing = target_problem(module, host, mounts, item)
        if problem and missing and module.check_mode:
            pending.append(problem)
        elif problem:
            problems.append(problem)
    if problems:
        module.fail_json(msg="invalid snapshot targets: %s" % "; ".join(problems), problems=problems)
    for problem in pending:
        module.warn("check mode: %s (an earlier task of this run may create it; a real run refuses it if not)"
                    % problem)
    return config, pending, docker
