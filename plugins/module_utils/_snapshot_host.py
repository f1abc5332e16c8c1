# -*- coding: utf-8 -*-
# Copyright: cowstack.docker_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the snapshot modules ask the host: commands (argv, ``LC_ALL=C``), mounts, and whether a configured
target can be snapshotted. The rules themselves are in ``_retention`` (shared with the installed tool)."""

from __future__ import annotations

from ansible_collections.cowstack.docker_storage.plugins.module_utils import _retention as R
from ansible_collections.cowstack.docker_storage.plugins.module_utils._plan import C_LOCALE, StepFailed


class Host(object):
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
        rc, out, err = self.module.run_command(argv, environ_update=C_LOCALE)
        if rc != 0:
            msg = "%s failed (rc %d): %s" % (" ".join(argv[:3]), rc, (err or out).strip())
            if step:
                raise StepFailed(msg, rc=rc, cmd=argv)
            self.module.fail_json(msg=msg, rc=rc, cmd=argv)
        return out

    def mounts(self):
        with open("/proc/self/mountinfo") as handle:
            return R.parse_mounts(handle.read())


def zfs_list(host, dataset):
    return R.parse_zfs_list(host.run(R.zfs_list_argv(dataset)), dataset)


def target_problem(module, host, mounts, item):
    """``(problem, missing)`` for ``item`` as this host is now: problem None when it can be snapshotted;
    missing True when it does not exist (yet) as a dataset or subvolume, False when it exists but is the wrong
    kind of thing."""
    if item["kind"] == "btrfs":
        problem = R.btrfs_target_problem(mounts, item["target"], item["snapshot_dir"])
        return problem, problem is not None
    if not host.bin("zfs", required=False):
        return "%s is a ZFS dataset name, but this host has no zfs command" % item["target"], True
    argv = [host.bin("zfs"), "list", "-H", "-p", "-o", "name,type", item["target"]]
    rc, out, err = module.run_command(argv, environ_update=C_LOCALE)
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
        config = R.check_config(doc)
    except R.RetentionError as exc:
        module.fail_json(msg="invalid snapshot configuration: %s" % exc)
    mounts = host.mounts()
    docker = R.docker_storage(mounts, **config["docker"])
    problems, pending = [], []
    for item in config["targets"]:
        problem, missing = R.docker_refusal(item["target"], docker), False
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
