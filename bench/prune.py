"""Snapshot pruning cost: bring 10,000 existing snapshots to a policy with the cowstack-snapshot tool.

Prints the tool's wall time and the zfs/btrfs commands it ran (counted by shims first on its PATH, not by
the tool itself). The goal is a constant number of commands, not one per snapshot (and, on real hardware,
under 2 s of tool time). Setting up the snapshots is not timed.

    python bench/prune.py                          # btrfs on a loop device (root)
    python bench/prune.py --count 2000 --foreign 50
    python bench/prune.py --kind zfs               # a file-backed pool (root; inside a VM with ZFS)
    python bench/prune.py --kind zfs --image /dev/shm/cowbench.img --size 512M   # pool file on tmpfs: faster setup
    python bench/prune.py --kind zfs --zfs-parent tank/scratch   # a child dataset of an existing pool
    python bench/prune.py --kind zfs --datasets 20   # 20 datasets x 500: setup in 500 commands (qemu TCG)
    python bench/prune.py --tool-dir /usr/local/lib/cowstack-docker-storage   # the installed tool

Only the standard library: copy this file beside the tool (or pass --tool-dir) to run it in a VM.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SYSTEM_PATH = "/usr/local/sbin:/usr/sbin:/sbin:/usr/local/bin:/usr/bin:/bin"
BTRFS_IOC_SNAP_CREATE_V2 = 0x50009417  # _IOW(0x94, 23, struct btrfs_ioctl_vol_args_v2)
BTRFS_SUBVOL_RDONLY = 1 << 1
# what snapshot_install puts beside the tool: _retention.py and the module_utils files it imports
LIBRARY = ("_retention.py", "_schedule.py", "_snapshot_config.py", "_snapshot_fs.py", "_mountinfo.py")
POLICY = {"frequently": 4, "hourly": 24, "daily": 30, "weekly": 8, "monthly": 12, "yearly": 2}


def tool_dir(args):
    if args.tool_dir:
        return args.tool_dir
    work = tempfile.mkdtemp(prefix="cowstack-bench-tool-")
    shutil.copy(os.path.join(ROOT, "roles", "docker_storage_snapshot", "files", "cowstack-snapshot.py"), work)
    for name in LIBRARY:
        shutil.copy(os.path.join(ROOT, "plugins", "module_utils", name), work)
    return work


def load_retention(directory):
    sys.path.insert(0, directory)
    import _retention  # pylint: disable=import-outside-toplevel
    return _retention


def shims(directory, log):
    """``zfs`` and ``btrfs`` shims that run the real command and log each call with its duration (ns)."""
    for name in ("zfs", "btrfs"):
        real = shutil.which(name, path=SYSTEM_PATH)
        if not real:
            continue
        path = os.path.join(directory, name)
        with open(path, "w") as handle:
            handle.write('#!/bin/sh\nstart=$(date +%%s%%N)\n%s "$@"\nrc=$?\n'
                         'printf "%%.40s\\t%%s\\n" "%s $1 $2" "$(($(date +%%s%%N) - start))" >> %s\nexit $rc\n'
                         % (real, name, log))
        os.chmod(path, 0o755)


def names(retention, count, foreign, now):
    """``count`` of ours, one per 15 minutes back from ``now`` (about 104 days for 10,000), with ``foreign``
    others interleaved."""
    ours = [retention.snapshot_name("cowstack", "frequently", now - 900 * i) for i in range(count, 0, -1)]
    step = max(1, count // max(1, foreign)) if foreign else 0
    others = ["manual-%05d" % i for i in range(foreign)]
    mixed = []
    for index, name in enumerate(ours):
        mixed.append(name)
        if step and index % step == 0 and others:
            mixed.append(others.pop())
    return mixed + others


# -- btrfs ----------------------------------------------------------------------------------------------

@contextlib.contextmanager
def btrfs_target(args, wanted):
    sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
    import realhost  # pylint: disable=import-outside-toplevel
    with realhost.loop_filesystem("btrfs", args.size) as mnt:
        data = os.path.join(mnt, "data")
        realhost.run(["btrfs", "subvolume", "create", data])
        snaps = os.path.join(data, ".snapshots")
        os.mkdir(snaps)
        start = time.monotonic()
        source = os.open(data, os.O_RDONLY)
        directory = os.open(snaps, os.O_RDONLY)
        try:
            for name in wanted:  # one ioctl each: 10,000 processes would take far longer than the run we measure
                buf = bytearray(struct.pack("=qQQ32s4040s", source, 0, BTRFS_SUBVOL_RDONLY, b"\0" * 32,
                                            name.encode()))
                fcntl.ioctl(directory, BTRFS_IOC_SNAP_CREATE_V2, buf, True)
        finally:
            os.close(source)
            os.close(directory)
        print("setup: %d btrfs snapshots in %.1f s" % (len(wanted), time.monotonic() - start))

        def left():
            return [sorted(e.name for e in os.scandir(snaps) if e.stat(follow_symlinks=False).st_ino == 256)]
        yield [data], left


# -- zfs ------------------------------------------------------------------------------------------------

def zfs(*argv):
    return subprocess.run(["zfs"] + list(argv), check=True, capture_output=True, text=True,
                          env=dict(os.environ, LC_ALL="C", PATH=SYSTEM_PATH)).stdout


@contextlib.contextmanager
def zfs_target(args, wanted):
    pool = None
    if args.zfs_parent:
        parent = "%s/cowstack-bench-%d" % (args.zfs_parent, os.getpid())
    else:
        pool = "cowbench%d" % os.getpid()
        image = args.image or "/var/tmp/%s.img" % pool
        subprocess.run(["truncate", "-s", args.size, image], check=True)
        subprocess.run(["zpool", "create", "-O", "mountpoint=none", pool, image], check=True,
                       env=dict(os.environ, PATH=SYSTEM_PATH))
        parent = pool + "/bench"
    datasets = ["%s/data%d" % (parent, i) for i in range(args.datasets)]
    try:
        zfs("create", parent)
        for dataset in datasets:
            zfs("create", dataset)
        start = time.monotonic()
        # ZFS takes at most one snapshot of a dataset per transaction group, so N snapshots of one dataset
        # take N commands (N txg syncs: minutes for 10,000, far longer under qemu TCG). With --datasets D
        # each command snapshots all D datasets at once (one atomic `zfs snapshot a@n b@n ...`).
        for index, name in enumerate(wanted):
            zfs("snapshot", *["%s@%s" % (dataset, name) for dataset in datasets])
            if index and index % 1000 == 0:
                print("  %d commands after %.0f s" % (index, time.monotonic() - start), flush=True)
        print("setup: %d zfs snapshots (%d datasets x %d) in %.1f s" % (
            len(wanted) * len(datasets), len(datasets), len(wanted), time.monotonic() - start))

        def left():
            out = zfs("list", "-H", "-o", "name", "-t", "snapshot", "-r", parent)
            found = {}
            for line in out.splitlines():
                if "@" in line:
                    dataset, snap = line.split("@", 1)
                    found.setdefault(dataset, []).append(snap)
            return [sorted(found.get(dataset, [])) for dataset in datasets]
        yield datasets, left
    finally:
        if pool:
            subprocess.run(["zpool", "destroy", pool], check=False, env=dict(os.environ, PATH=SYSTEM_PATH))
            os.unlink(image)
        else:
            subprocess.run(["zfs", "destroy", "-r", parent], check=False, env=dict(os.environ, PATH=SYSTEM_PATH))


# -- the measurement ------------------------------------------------------------------------------------

def measure(tool, config, log, extra):
    open(log, "w").close()
    env = dict(os.environ, PATH=os.path.dirname(log) + os.pathsep + SYSTEM_PATH, LC_ALL="C")
    start = time.monotonic()
    proc = subprocess.run(["/usr/bin/python3", "-I", tool, "--config", config, "--json"] + extra,
                          capture_output=True, text=True, env=env, check=False)
    elapsed = time.monotonic() - start
    if proc.returncode != 0:
        sys.exit("tool failed (rc %d): %s" % (proc.returncode, proc.stderr))
    calls, in_commands = [], 0.0
    with open(log) as handle:
        for line in handle:
            call, _tab, nanoseconds = line.rstrip("\n").partition("\t")
            if call.strip():
                calls.append(call.strip())
                in_commands += int(nanoseconds or 0) / 1e9
    report = json.loads(proc.stdout)
    report["in_commands"] = in_commands
    return elapsed, calls, report


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--kind", choices=["btrfs", "zfs"], default="btrfs")
    parser.add_argument("--count", type=int, default=10000, help="our snapshots to start from")
    parser.add_argument("--foreign", type=int, default=100, help="other snapshots interleaved (never touched)")
    parser.add_argument("--size", default="2G", help="size of the loop device or pool file")
    parser.add_argument("--image", help="zfs: pool file (default /var/tmp/cowbench<pid>.img)")
    parser.add_argument("--zfs-parent", help="zfs: create the test dataset under this existing dataset instead")
    parser.add_argument("--datasets", type=int, default=1,
                        help="zfs: spread --count over this many datasets (setup takes --count/N commands)")
    parser.add_argument("--tool-dir",
                        help="directory holding cowstack-snapshot.py, _retention.py and the files it imports")
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("needs root (loop devices, zfs)")
    tools = tool_dir(args)
    retention = load_retention(tools)
    tool = os.path.join(tools, "cowstack-snapshot.py")
    if args.datasets < 1 or (args.datasets > 1 and args.kind != "zfs"):
        sys.exit("--datasets: a positive number, more than 1 only with --kind zfs")
    now = int(time.time())
    per_target = args.count // args.datasets
    wanted = names(retention, per_target, args.foreign // args.datasets, now)
    ours = [n for n in wanted if retention.parse_name(n, "cowstack")]
    expected = retention.plan_retention(ours, POLICY, now)
    work = tempfile.mkdtemp(prefix="cowstack-bench-")
    log = os.path.join(work, "calls.log")
    shims(work, log)
    target = btrfs_target if args.kind == "btrfs" else zfs_target
    try:
        with target(args, wanted) as (targets, left):
            config = os.path.join(work, "snapshot.json")
            with open(config, "w") as handle:
                json.dump({"policy": POLICY, "targets": targets, "lock_file": os.path.join(work, "lock")}, handle)
            print("policy: %s" % ", ".join("%s %d" % (p, POLICY[p]) for p in retention.PERIODS))
            elapsed, calls, report = measure(tool, config, log, ["--prune-only"])
            remaining = left()
            foreign_left = [[n for n in names_left if n.startswith("manual-")] for names_left in remaining]
            kept = sum(len(r) - len(f) for r, f in zip(remaining, foreign_left))
            foreign_total = len(wanted) - len(ours)
            own = elapsed - report["in_commands"]
            print("prune %d of ours in %d target(s) (+%d others) -> %d kept: %.2f s tool wall time (%.2f s inside), "
                  "%d commands: %s" % (len(ours) * len(targets), len(targets), foreign_total * len(targets), kept,
                                       elapsed, report["seconds"], len(calls),
                                       ", ".join(sorted(set(calls), key=calls.index))))
            print("  of the wall time: %.2f s in the zfs/btrfs commands, %.2f s the tool's own (start-up, listing "
                  "parsed, plan)" % (report["in_commands"], own))
            as_planned = all(sorted(r) == sorted(expected["keep"] + f) for r, f in zip(remaining, foreign_left))
            print("  destroy commands: %d; others left untouched: %d/%d; result as planned: %s" % (
                sum(1 for c in calls if "destroy" in c or "delete" in c), sum(len(f) for f in foreign_left),
                foreign_total * len(targets), as_planned))
            elapsed2, calls2 = measure(tool, config, log, [])[:2]
            print("next scheduled run (take one, prune to policy): %.2f s, %d commands: %s" % (
                elapsed2, len(calls2), ", ".join(calls2)))
            goal = len(calls) <= 8 * len(targets) and as_planned
            print("goal (commands constant in the number of snapshots: <= 8 per target, result as planned): %s"
                  % ("met" if goal else "NOT met"))
            print("goal (< 2 s of the tool's own time): %s (%.2f s)" % ("met" if own < 2 else "NOT met", own))
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if not args.tool_dir:
            shutil.rmtree(tools, ignore_errors=True)


if __name__ == "__main__":
    main()
