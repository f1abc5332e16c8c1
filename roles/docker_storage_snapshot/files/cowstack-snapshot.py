# -*- coding: utf-8 -*-
# Copyright: cowstack.docker_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Over 400 lines: the standalone tool's whole command line (run, list, check, metrics) in the one file cron runs;
# its rules and stores are the module_utils files installed beside it.
"""cowstack-snapshot: scheduled ZFS and btrfs snapshots with retention, run by cron or a systemd timer.

Standard library only; imports the collection's own ``plugins/module_utils`` files installed beside this script
(``_retention``, ``_schedule``, ``_snapshot_config``, ``_snapshot_fs``, ``_mountinfo``: the same files the modules
use) and nothing else from the collection.

  cowstack-snapshot [--config FILE]                take one snapshot per target, then prune
  cowstack-snapshot --dry-run                      print what a run would do; change nothing
  cowstack-snapshot --prune-only                   prune without taking a snapshot
  cowstack-snapshot --list [--json]                our snapshots per target, with age
  cowstack-snapshot --check [--warn D --critical D]  monitoring: age of the newest snapshot (Nagios codes)
  cowstack-snapshot --check-config [--config FILE] validate the configuration and the targets
  cowstack-snapshot --metrics                      write the metrics file now (no snapshot taken)

With ``metrics_file`` in the configuration, every run (and ``--metrics``) writes it atomically in
node_exporter's textfile format: per target our snapshot count, the newest one's time and age, the space used
and available, whether it could be read; the last run's time and outcome; the --check verdict.

Per target, one run costs: one listing (``zfs list``; btrfs reads the snapshot directory), one
``zfs snapshot`` / ``btrfs subvolume snapshot -r``, and destroy commands in batches
(``zfs destroy pool/ds@a,b,c``, ``btrfs subvolume delete p1 p2 ...``), not one per snapshot. Only names
``<prefix>_<label>_<UTC timestamp>`` are ever destroyed, only the ones the plan names, never recursively.

Exit codes: 0 done, 1 a target failed (the others were still processed), 2 bad configuration or usage,
75 another run holds the lock. With --check: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import shutil
import subprocess
import sys
import syslog
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
sys.dont_write_bytecode = True  # leave no __pycache__ beside the installed tool

# pylint: disable=wrong-import-position
import _retention as R  # noqa: E402
import _snapshot_config as C  # noqa: E402
import _snapshot_fs as F  # noqa: E402
from _mountinfo import normpath, parse_mountinfo  # noqa: E402
from _snapshot_fs import Failure  # noqa: E402
# pylint: enable=wrong-import-position

DEFAULT_CONFIG = "/etc/cowstack-docker-storage/snapshot.json"
SYSTEM_PATH = "/usr/local/sbin:/usr/sbin:/sbin:/usr/local/bin:/usr/bin:/bin"
EXIT_FAILED, EXIT_CONFIG, EXIT_LOCKED = 1, 2, 75


class Log(object):
    def __init__(self, verbose):
        self.verbose = verbose
        syslog.openlog("cowstack-snapshot", syslog.LOG_PID, syslog.LOG_DAEMON)

    def info(self, msg):
        syslog.syslog(syslog.LOG_INFO, msg)
        if self.verbose:
            sys.stderr.write(msg + "\n")

    def error(self, msg):
        syslog.syslog(syslog.LOG_ERR, msg)
        sys.stderr.write("cowstack-snapshot: " + msg + "\n")


class Runner(object):
    """Runs commands as argv lists (never a shell), with LC_ALL=C, and counts them."""

    def __init__(self, log, dry_run=False):
        self.log, self.dry_run, self.count = log, dry_run, 0
        self.env = dict(os.environ, LC_ALL="C", LANG="C")
        self.path = os.environ.get("PATH", "") + os.pathsep + SYSTEM_PATH
        self.tools = {}

    def tool(self, name):
        if name not in self.tools:
            found = shutil.which(name, path=self.path)
            if not found:
                raise Failure("%s not found in %s" % (name, self.path))
            self.tools[name] = found
        return self.tools[name]

    def read(self, argv):
        """A command that changes nothing: run it even in dry-run."""
        return self._run(argv)

    def change(self, argv):
        if self.dry_run:
            self.log.info("dry-run: would run %s" % " ".join(argv[:4] + (["..."] if len(argv) > 4 else [])))
            return ""
        return self._run(argv)

    def _run(self, argv):
        argv = [self.tool(argv[0])] + list(argv[1:])
        self.count += 1
        proc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              env=self.env, universal_newlines=True, check=False)
        if proc.returncode != 0:
            raise Failure("%s %s failed (rc %d): %s" % (os.path.basename(argv[0]), argv[1] if len(argv) > 1 else "",
                                                        proc.returncode, (proc.stderr or proc.stdout).strip()[:500]))
        return proc.stdout


def read_mounts():
    with open("/proc/self/mountinfo") as handle:
        return parse_mountinfo(handle.read())


def load_config(path):
    try:
        with open(path) as handle:
            doc = json.load(handle)
    except (OSError, ValueError) as exc:
        raise R.RetentionError("cannot read %s: %s" % (path, exc))
    return C.check_config(doc)


def check_target(config, item, mounts):
    docker = C.docker_storage(mounts, **config["docker"])
    reason = C.docker_refusal(item["target"], docker)
    if reason:
        raise Failure("refusing target: " + reason)


def now_epoch(args):
    return args.now if args.now is not None else int(time.time())


def acquire_lock(path, timeout):
    """The run's lock (an open file), or None when another run holds it past ``timeout``. The lock's directory
    must be root's alone: in a world-writable one any user could hold the lock first."""
    parent = os.path.dirname(path)
    if not os.path.isdir(parent):
        os.makedirs(parent, mode=0o700)
    unsafe = F.unsafe_directory(parent)
    if unsafe:
        raise Failure("lock file %s: %s; choose a lock_file in a directory only root can write" % (path, unsafe))
    handle = os.fdopen(os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600), "r+")
    deadline = time.time() + timeout
    while True:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            return handle
        except BlockingIOError:
            if time.time() >= deadline:
                handle.close()
                return None
            time.sleep(0.5)


def run(config, args, log):
    """Take and prune. Every target is planned from one listing; a failed command stops that target."""
    runner = Runner(log, dry_run=args.dry_run)
    mounts = read_mounts()
    now = now_epoch(args)
    report = {"dry_run": args.dry_run, "targets": [], "commands": 0}
    failed = False
    remaining = {}  # target -> our names after the run, for the metrics file (no second listing)
    for item in selected(config, args):
        policy = C.target_policy(config, item)
        entry = {"target": item["target"], "taken": None, "destroy": [], "keep": 0, "foreign": 0, "error": None}
        report["targets"].append(entry)
        try:
            check_target(config, item, mounts)
            store = F.store(runner, item, mounts)
            if item["kind"] == "btrfs":
                store.probe()  # no command: stat and the mount table
            names = [s["name"] for s in store.list()]
            if not args.prune_only:
                label = R.label_for_new(names, policy, now, config["prefix"], config["frequent_minutes"])
                name = R.taken_at(names, now, config["prefix"]) or R.snapshot_name(config["prefix"], label, now)
                if name in names:
                    log.info("%s: %s already exists" % (item["target"], name))
                else:
                    try:
                        store.take(name)
                    except (Failure, OSError) as exc:
                        # Still prune: a full filesystem is the usual reason, and pruning relieves it.
                        failed = True
                        entry["error"] = "taking %s: %s" % (name, exc)
                        log.error("%s: %s" % (item["target"], entry["error"]))
                    else:
                        names.append(name)
                        entry["taken"] = name
                        log.info("%s: %s %s" % (item["target"], "would take" if args.dry_run else "took", name))
            plan = R.plan_retention(names, policy, now, config["prefix"], config["frequent_minutes"])
            entry.update(destroy=plan["destroy"], keep=len(plan["keep"]), foreign=len(plan["foreign"]))
            if plan["destroy"]:
                store.destroy(plan["destroy"])
            remaining[item["target"]] = [n for n in names if n not in plan["destroy"]]
            log.info("%s: %s %d, kept %d of ours, left %d others alone" % (
                item["target"], "would destroy" if args.dry_run else "destroyed", len(plan["destroy"]),
                len(plan["keep"]), len(plan["foreign"])))
        except (Failure, R.RetentionError, OSError) as exc:
            failed = True
            entry["error"] = "; ".join(e for e in (entry["error"], str(exc)) if e)
            log.error("%s: %s" % (item["target"], exc))
    report["commands"] = runner.count
    report["remaining"] = remaining
    return report, failed


# -- metrics (node_exporter textfile collector) ------------------------------------------------------------

METRICS = (
    ("cowstack_snapshot_count", "Snapshots of ours per target."),
    ("cowstack_snapshot_newest_timestamp_seconds", "When our newest snapshot of the target was taken (epoch)."),
    ("cowstack_snapshot_newest_age_seconds", "Age of our newest snapshot of the target when the file was written."),
    ("cowstack_snapshot_target_ok", "1 when the target could be read, else 0."),
    ("cowstack_storage_used_bytes", "Space used on the target's dataset or filesystem."),
    ("cowstack_storage_available_bytes", "Space available to the target's dataset or filesystem."),
)
RUN_METRICS = (
    ("cowstack_snapshot_last_run_timestamp_seconds", "When the last snapshot run ended (epoch)."),
    ("cowstack_snapshot_last_run_success", "1 when the last snapshot run had no failed target, else 0."),
)
CHECK_METRIC = ("cowstack_snapshot_check_status", "The --check verdict: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.")


def _label(value):
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def metrics_text(rows, now, run=None, check=None):
    """The textfile: ``rows`` ``[{target, count, newest, ok, used, available}]``; ``run`` ``(end epoch, success)``;
    ``check`` the --check exit code. A value that is not known is left out, never written as a guess."""
    out = []
    for name, text in METRICS:
        samples = []
        for row in rows:
            value = {"cowstack_snapshot_count": row.get("count"),
                     "cowstack_snapshot_newest_timestamp_seconds": row.get("newest"),
                     "cowstack_snapshot_newest_age_seconds": (now - row["newest"]) if row.get("newest") else None,
                     "cowstack_snapshot_target_ok": 1 if row.get("ok") else 0,
                     "cowstack_storage_used_bytes": row.get("used"),
                     "cowstack_storage_available_bytes": row.get("available")}[name]
            if value is not None:
                samples.append('%s{target="%s"} %d' % (name, _label(row["target"]), value))
        if samples:
            out += ["# HELP %s %s" % (name, text), "# TYPE %s gauge" % name] + samples
    for (name, text), value in zip(RUN_METRICS, run or ()):
        out += ["# HELP %s %s" % (name, text), "# TYPE %s gauge" % name, "%s %d" % (name, int(value))]
    if check is not None:
        out += ["# HELP %s %s" % CHECK_METRIC, "# TYPE %s gauge" % CHECK_METRIC[0], "%s %d" % (CHECK_METRIC[0], check)]
    return "\n".join(out) + "\n"


def carried_run(path):
    """``(end epoch, success)`` of the last run from the metrics file there, so --metrics keeps them."""
    found = {}
    try:
        with open(path) as handle:
            for line in handle:
                parts = line.split()
                if len(parts) == 2 and parts[0] in dict(RUN_METRICS):
                    found[parts[0]] = float(parts[1])
    except (OSError, ValueError):
        return None
    names = [n for n, _t in RUN_METRICS]
    return tuple(found[n] for n in names) if all(n in found for n in names) else None


def write_metrics(path, text):
    """Atomically, as the textfile collector needs (it may read at any moment): a temporary file, then rename."""
    directory = os.path.dirname(path)
    os.makedirs(directory, exist_ok=True)
    # mkstemp: a new file of ours (O_EXCL, no symlink followed), even in a directory others can write; the
    # rename replaces the name, never a file a link there points to
    handle, tmp = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), dir=directory)
    try:
        with os.fdopen(handle, "w") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)
        os.rename(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def usage(runner, item, mounts):
    """(used, available) bytes of the target: ``zfs list`` for a dataset, statvfs for a btrfs subvolume."""
    if item["kind"] == "zfs":
        out = runner.read([runner.tool("zfs"), "list", "-Hp", "-o", "used,available", item["target"]])
        used, available = out.split()[:2]
        return int(used), int(available)
    st = os.statvfs(item["target"])
    return (st.f_blocks - st.f_bfree) * st.f_frsize, st.f_bavail * st.f_frsize


def target_rows(config, runner, mounts, names_by_target=None):
    """One metrics row per target; ``names_by_target`` holds the names a run already listed (no new listing)."""
    rows = []
    for item in config["targets"]:
        row = {"target": item["target"], "ok": False}
        try:
            names = (names_by_target or {}).get(item["target"])
            if names is None:
                check_target(config, item, mounts)
                names = [s["name"] for s in F.store(runner, item, mounts).list()]
            mine = [n for n in names if R.parse_name(n, config["prefix"])]
            snap = R.newest(mine, config["prefix"])
            used, available = usage(runner, item, mounts)
            row.update(count=len(mine), newest=snap["epoch"] if snap else None, used=used, available=available,
                       ok=True)
        except (Failure, R.RetentionError, OSError, ValueError) as exc:
            runner.log.error("metrics: %s: %s" % (item["target"], exc))
        rows.append(row)
    return rows


def metrics_now(config, args, log, run_result=None, names_by_target=None):
    """Write the metrics file (``run_result``: ``(end epoch, success)`` of the run that just ended)."""
    runner, mounts, now = Runner(log), read_mounts(), now_epoch(args)
    rows = target_rows(config, runner, mounts, names_by_target)
    newest = dict((r["target"], r.get("newest")) for r in rows)
    check = R.monitor(newest, now, config["monitor"]["warn"], config["monitor"]["critical"])[0] \
        if all(r["ok"] for r in rows) else 3
    run_result = run_result or carried_run(config["metrics_file"])
    write_metrics(config["metrics_file"], metrics_text(rows, now, run_result, check))
    return rows


def selected(config, args):
    if not args.target:
        return config["targets"]
    wanted = [normpath(t) if t.startswith("/") else t for t in args.target]
    unknown = [t for t in wanted if t not in [i["target"] for i in config["targets"]]]
    if unknown:
        raise R.RetentionError("not in the configuration: %s" % ", ".join(unknown))
    return [i for i in config["targets"] if i["target"] in wanted]


def list_snapshots(config, args, log):
    runner, mounts, now = Runner(log), read_mounts(), now_epoch(args)
    result = []
    for item in selected(config, args):
        rows = []
        for snap in F.store(runner, item, mounts).list():
            parsed = R.parse_name(snap["name"], config["prefix"])
            if parsed:
                rows.append(dict(snap, label=parsed["label"], created=parsed["time"].isoformat(),
                                 age=now - parsed["epoch"]))
        rows.sort(key=lambda r: (r["created"], r["name"]))
        result.append({"target": item["target"], "snapshots": rows})
    return result


def monitor(config, args, log):
    runner, mounts, now = Runner(log), read_mounts(), now_epoch(args)
    newest = {}
    for item in selected(config, args):
        snap = R.newest([s["name"] for s in F.store(runner, item, mounts).list()], config["prefix"])
        newest[item["target"]] = snap["epoch"] if snap else None
    warn = args.warn if args.warn is not None else config["monitor"]["warn"]
    critical = args.critical if args.critical is not None else config["monitor"]["critical"]
    return R.monitor(newest, now, warn, critical)


def check_config(config, log):
    runner, mounts, problems = Runner(log), read_mounts(), []
    for item in config["targets"]:
        try:
            check_target(config, item, mounts)
            F.store(runner, item, mounts).probe()
        except (Failure, OSError) as exc:
            problems.append("%s: %s" % (item["target"], exc))
    return problems


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="cowstack-snapshot", description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--config", default=DEFAULT_CONFIG, help="JSON configuration (default %(default)s)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="monitoring: age of the newest snapshot, Nagios codes")
    mode.add_argument("--check-config", action="store_true", help="validate the configuration and its targets")
    mode.add_argument("--list", action="store_true", help="list our snapshots per target")
    mode.add_argument("--metrics", action="store_true", help="write the metrics file now (metrics_file)")
    parser.add_argument("--dry-run", action="store_true", help="print what a run would do; change nothing")
    parser.add_argument("--prune-only", action="store_true", help="prune without taking a snapshot")
    parser.add_argument("--target", action="append", help="only this target (repeatable)")
    parser.add_argument("--warn", help="--check: warning age of the newest snapshot (e.g. 2h)")
    parser.add_argument("--critical", help="--check: critical age of the newest snapshot (e.g. 6h)")
    parser.add_argument("--lock-timeout", type=float, help="seconds to wait for a running run (default 0; 60 with "
                        "--metrics)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--verbose", "-v", action="store_true", help="log to stderr as well as syslog")
    parser.add_argument("--now", type=int, help=argparse.SUPPRESS)  # epoch seconds; for tests only
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    log = Log(args.verbose or (sys.stderr.isatty() and not args.check))
    try:
        config = load_config(args.config)
        if args.check:
            code, line = monitor(config, args, log)
            print(line)
            return code
        if args.check_config:
            problems = check_config(config, log)
            for problem in problems:
                log.error(problem)
            if not problems:
                print("%s: configuration OK, %d target(s)" % (args.config, len(config["targets"])))
            return EXIT_CONFIG if problems else 0
        if args.metrics:
            if not config["metrics_file"]:
                log.error("%s sets no metrics_file" % args.config)
                return EXIT_CONFIG
            # under the run's lock: a refresh must not write back a copy older than a run that just ended
            lock = acquire_lock(config["lock_file"], 60 if args.lock_timeout is None else args.lock_timeout)
            if lock is None:
                log.error("another run holds %s; the metrics are written by it" % config["lock_file"])
                return EXIT_LOCKED
            try:
                rows = metrics_now(config, args, log)
            finally:
                lock.close()
            return 0 if all(r["ok"] for r in rows) else EXIT_FAILED
        if args.list:
            result = list_snapshots(config, args, log)
            if args.json:
                print(json.dumps(result, indent=2, sort_keys=True))
            else:
                for target in result:
                    for row in target["snapshots"]:
                        print("%s\t%s\t%s\t%s" % (target["target"], row["name"], row["created"], R.human_age(row["age"])))
            return 0
    except R.RetentionError as exc:
        log.error(str(exc))
        return 3 if args.check else EXIT_CONFIG
    except (Failure, OSError) as exc:
        log.error(str(exc))
        return 3 if args.check else EXIT_FAILED
    lock = None
    if not args.dry_run:
        try:
            lock = acquire_lock(config["lock_file"], args.lock_timeout or 0)
        except (Failure, OSError) as exc:
            log.error("cannot lock: %s" % exc)
            return EXIT_FAILED
        if lock is None:
            log.error("another run holds %s; not running" % config["lock_file"])
            return EXIT_LOCKED
    start = time.time()
    try:
        report, failed = run(config, args, log)
        remaining = report.pop("remaining", {})
        if config["metrics_file"] and not args.dry_run:  # still under the lock
            try:
                metrics_now(config, args, log, (now_epoch(args), not failed), remaining)
            except OSError as exc:
                log.error("writing %s: %s" % (config["metrics_file"], exc))
                failed = True
    except R.RetentionError as exc:
        log.error(str(exc))
        return EXIT_CONFIG
    finally:
        if lock is not None:
            lock.close()
    report["seconds"] = round(time.time() - start, 3)
    if args.json:
        print(json.dumps(report, indent=2, sort_keys=True))
    elif args.dry_run:
        for entry in report["targets"]:
            print("%s: take %s; destroy %s; keep %d; others %d%s" % (
                entry["target"], entry["taken"] or "nothing", ", ".join(entry["destroy"]) or "nothing",
                entry["keep"], entry["foreign"], "; ERROR " + entry["error"] if entry["error"] else ""))
    return EXIT_FAILED if failed else 0


if __name__ == "__main__":
    sys.exit(main())
