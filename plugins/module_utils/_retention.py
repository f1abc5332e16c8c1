# -*- coding: utf-8 -*-
# Copyright: cowstack.docker_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Snapshot names, retention arithmetic, schedules and command planning for ZFS and btrfs. Pure, no I/O.

This very file is also installed beside the standalone ``cowstack-snapshot`` tool (which cron or a
systemd timer runs without Ansible) and imported there as the plain module ``_retention``: keep it
standard library only, without relative imports.

Names: ``<prefix>_<label>_<YYYYMMDDTHHMMSSZ>`` (UTC). The label is a period (``frequently`` ...
``yearly``) for scheduled snapshots, or any other lower-case word (``manual``, ``pre-upgrade``) for ad hoc
ones. A snapshot is ours only when its whole name matches that pattern with our prefix; nothing else is
ever planned for deletion.

Retention (sanoid/btrbk style, in UTC): for each period with a count N, the newest snapshot in each of
the N most recent period buckets that hold a snapshot is kept (buckets: ``frequent_minutes`` slots,
hours, days, ISO weeks, months, years). Counting non-empty buckets, not calendar slots, means a host that
was off for a week does not lose its history. A snapshot kept by any period is kept; ``min_age``
protects young snapshots; snapshots dated in the future (clock skew) are kept. Ties (same second) are
resolved by the coarser label, then by name, so the result never depends on listing order.
"""

from __future__ import annotations

import datetime
import os
import re
import stat

PERIODS = ("frequently", "hourly", "daily", "weekly", "monthly", "yearly")
DEFAULT_PREFIX = "cowstack"
DEFAULT_FREQUENT_MINUTES = 15
# A root-only directory: a lock in a world-writable one (/run/lock) could be taken first by any user.
DEFAULT_LOCK_FILE = "/run/cowstack-docker-storage/snapshot.lock"
TIMESTAMP_FORMAT = "%Y%m%dT%H%M%SZ"
CONFIG_VERSION = 1

# Prefixes (and their beginnings) that other snapshot tools use or match on: sanoid (autosnap_),
# syncoid (syncoid_), zfs-auto-snapshot (zfs-auto-snap_), zrepl, pyznap, zfsnap, znapzend, btrbk,
# snapper, timeshift. Refused in both directions ("zfs-auto" as well as "zfs-auto-snap-x").
RESERVED_PREFIXES = ("zfs-auto-snap", "autosnap", "sanoid", "syncoid", "zrepl", "pyznap", "zfsnap",
                     "znapzend", "znap", "btrbk", "snapper", "timeshift")

_PREFIX_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{1,39}$")
_LABEL_RE = re.compile(r"^[a-z][a-z0-9-]{0,31}$")
_STAMP_RE = re.compile(r"^[0-9]{8}T[0-9]{6}Z$")
_DURATION_RE = re.compile(r"([0-9]+)\s*([smhdw])")
_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_ZFS_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:/-]*$")
_DOCKER_LAYER_RE = re.compile(r"^[0-9a-f]{64}(-init)?$")

UTC = datetime.timezone.utc


class RetentionError(ValueError):
    """Bad input: a policy, name, prefix, schedule, target or config the tool refuses."""


# -- names ----------------------------------------------------------------------------------------------

def check_prefix(prefix):
    """Return ``prefix`` if it can only ever match this collection's snapshots, else raise."""
    if not isinstance(prefix, str) or not prefix:
        raise RetentionError("snapshot prefix must be a non-empty string")
    if not _PREFIX_RE.match(prefix):
        raise RetentionError("snapshot prefix %r must be 2-40 characters: a letter, then letters, digits, '_', '.' "
                             "or '-'" % (prefix,))
    low = prefix.lower()
    for reserved in RESERVED_PREFIXES:
        if low.startswith(reserved) or reserved.startswith(low):
            raise RetentionError("snapshot prefix %r could match or be matched by another tool's snapshots (%s)"
                                 % (prefix, reserved))
    return prefix


def check_label(label):
    if not isinstance(label, str) or not _LABEL_RE.match(label):
        raise RetentionError("snapshot label %r must be a lower-case word: a letter, then letters, digits or '-' "
                             "(at most 32)" % (label,))
    return label


def format_timestamp(when):
    """``when`` (aware datetime or epoch seconds) as ``YYYYMMDDTHHMMSSZ`` in UTC."""
    return to_datetime(when).strftime(TIMESTAMP_FORMAT)


def to_datetime(when):
    if isinstance(when, datetime.datetime):
        if when.tzinfo is None:
            raise RetentionError("naive datetime: give an aware (UTC) one")
        return when.astimezone(UTC)
    return datetime.datetime.fromtimestamp(int(when), UTC)


def snapshot_name(prefix, label, when):
    return "%s_%s_%s" % (check_prefix(prefix), check_label(label), format_timestamp(when))


def parse_name(name, prefix):
    """``{'name', 'label', 'time' (aware datetime), 'epoch'}`` when ``name`` is one of ours, else None."""
    if not isinstance(name, str):
        return None
    parts = name.rsplit("_", 2)
    if len(parts) != 3 or parts[0] != prefix:
        return None
    label, stamp = parts[1], parts[2]
    if not _LABEL_RE.match(label) or not _STAMP_RE.match(stamp):
        return None
    try:
        when = datetime.datetime(int(stamp[0:4]), int(stamp[4:6]), int(stamp[6:8]), int(stamp[9:11]),
                                 int(stamp[11:13]), int(stamp[13:15]), tzinfo=UTC)
    except ValueError:
        return None
    return {"name": name, "label": label, "time": when, "epoch": int(_epoch(when))}


def _epoch(when):
    return (when - datetime.datetime(1970, 1, 1, tzinfo=UTC)).total_seconds()


# -- durations and policies -----------------------------------------------------------------------------

def parse_duration(value, what="duration"):
    """Seconds from an int or a string like ``90m``, ``36h``, ``1d12h``, ``2w``, ``3600``."""
    if isinstance(value, bool):
        raise RetentionError("%s must be a number of seconds or a string like '36h', not %r" % (what, value))
    if isinstance(value, int):
        if value < 0:
            raise RetentionError("%s must not be negative: %r" % (what, value))
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        if text.isdigit():
            return int(text)
        if text and _DURATION_RE.sub("", text).strip() == "":
            return sum(int(n) * _DURATION_UNITS[u] for n, u in _DURATION_RE.findall(text))
    raise RetentionError("%s must be a number of seconds or a string like '90m', '36h', '7d', '2w', not %r"
                         % (what, value))


def check_policy(policy, what="policy"):
    """Normalised policy: every period with a count (missing ones 0) and ``min_age`` in seconds."""
    if not isinstance(policy, dict):
        raise RetentionError("%s must be a mapping of period to count, not %r" % (what, policy))
    problems = []
    result = dict((period, 0) for period in PERIODS)
    result["min_age"] = 0
    for key in sorted(policy, key=str):
        value = policy[key]
        if value is None:  # an option left unset by an argument spec
            continue
        if key == "min_age":
            try:
                result["min_age"] = parse_duration(value, "%s.min_age" % what)
            except RetentionError as exc:
                problems.append(str(exc))
        elif key in PERIODS:
            if isinstance(value, bool) or not isinstance(value, int):
                problems.append("%s.%s must be a whole number, not %r" % (what, key, value))
            elif value < 0:
                problems.append("%s.%s must not be negative: %r" % (what, key, value))
            else:
                result[key] = value
        else:
            problems.append("%s: unknown period %r (known: %s, and min_age)" % (what, key, ", ".join(PERIODS)))
    if not problems and not any(result[period] for period in PERIODS):
        problems.append("%s keeps nothing: give at least one of %s a count above 0" % (what, ", ".join(PERIODS)))
    if problems:
        raise RetentionError("; ".join(problems))
    return result


def check_frequent_minutes(value):
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 60 or 60 % value:
        raise RetentionError("frequent_minutes must divide an hour (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60), "
                             "not %r" % (value,))
    return value


# -- retention ------------------------------------------------------------------------------------------

def bucket(period, when, frequent_minutes=DEFAULT_FREQUENT_MINUTES):
    """The UTC bucket of ``when`` for ``period``; equal buckets compare equal."""
    if period == "frequently":
        return int(_epoch(when)) // (60 * frequent_minutes)
    if period == "hourly":
        return (when.year, when.month, when.day, when.hour)
    if period == "daily":
        return (when.year, when.month, when.day)
    if period == "weekly":
        iso = when.isocalendar()
        return (iso[0], iso[1])
    if period == "monthly":
        return (when.year, when.month)
    if period == "yearly":
        return when.year
    raise RetentionError("unknown period %r" % (period,))


def _rank(label):
    return PERIODS.index(label) if label in PERIODS else -1


def plan_retention(names, policy, now, prefix=DEFAULT_PREFIX, frequent_minutes=DEFAULT_FREQUENT_MINUTES,
                   labels=PERIODS):
    """Which of ``names`` to keep and which to destroy.

    Only names that are ours (``prefix``) and carry one of ``labels`` take part; all others are returned
    as ``foreign`` and are never destroyed. Returns ``keep`` and ``destroy`` (oldest first), ``reasons``
    (name -> the periods or ``min_age``/``future`` that keep it) and ``foreign``.
    """
    policy = check_policy(policy)
    check_frequent_minutes(frequent_minutes)
    now = to_datetime(now)
    own, foreign = [], []
    for name in names:
        parsed = parse_name(name, prefix)
        if parsed is None or parsed["label"] not in labels:
            foreign.append(name)
        else:
            own.append(parsed)
    # newest first; on the same second the coarser label, then the greater name wins
    own.sort(key=lambda s: (s["epoch"], _rank(s["label"]), s["name"]), reverse=True)
    reasons = dict((s["name"], []) for s in own)
    for period in PERIODS:
        count = policy[period]
        if not count:
            continue
        seen = set()
        for snap in own:
            key = bucket(period, snap["time"], frequent_minutes)
            if key in seen:
                continue
            if len(seen) >= count:
                break
            seen.add(key)
            reasons[snap["name"]].append(period)
    for snap in own:
        age = (now - snap["time"]).total_seconds()
        if age < 0:
            reasons[snap["name"]].append("future")
        elif age < policy["min_age"]:
            reasons[snap["name"]].append("min_age")
    oldest_first = list(reversed(own))
    return {
        "keep": [s["name"] for s in oldest_first if reasons[s["name"]]],
        "destroy": [s["name"] for s in oldest_first if not reasons[s["name"]]],
        "reasons": dict((name, why) for name, why in reasons.items() if why),
        "foreign": foreign,
    }


def label_for_new(names, policy, now, prefix=DEFAULT_PREFIX, frequent_minutes=DEFAULT_FREQUENT_MINUTES):
    """Label of a scheduled snapshot taken at ``now``: the coarsest period with a count whose bucket holds
    none of our periodic snapshots yet (the first snapshot of a new day is ``daily``), else the finest
    period with a count."""
    policy = check_policy(policy)
    now = to_datetime(now)
    enabled = [p for p in PERIODS if policy[p]]
    mine = [s for s in (parse_name(n, prefix) for n in names) if s and s["label"] in PERIODS]
    for period in reversed(enabled):
        key = bucket(period, now, frequent_minutes)
        if not any(bucket(period, s["time"], frequent_minutes) == key for s in mine):
            return period
    return enabled[0]


def taken_at(names, now, prefix=DEFAULT_PREFIX):
    """The name of our periodic snapshot taken in the same second as ``now``, whatever its label, or None. A run
    repeated within that second finds it: the labels of the two runs can differ (the first run of a day takes
    ``daily``, which fills the day's bucket, so a second run would pick ``hourly``), and a second snapshot of the
    same second would only be pruned again."""
    epoch = int(_epoch(to_datetime(now)))
    for name in names:
        parsed = parse_name(name, prefix)
        if parsed and parsed["label"] in PERIODS and parsed["epoch"] == epoch:
            return name
    return None


def newest(names, prefix=DEFAULT_PREFIX):
    """Our newest snapshot (any label) as returned by parse_name, or None."""
    mine = [s for s in (parse_name(n, prefix) for n in names) if s]
    return max(mine, key=lambda s: (s["epoch"], s["name"])) if mine else None


def monitor(newest_by_target, now, warn, critical):
    """Nagios verdict over ``{target: newest epoch or None}``: ``(exit code, one line)``.

    0 OK, 1 WARNING, 2 CRITICAL; no snapshot at all is CRITICAL."""
    warn = parse_duration(warn, "warn")
    critical = parse_duration(critical, "critical")
    now = int(_epoch(to_datetime(now)))
    worst, parts = 0, []
    for target in sorted(newest_by_target):
        epoch = newest_by_target[target]
        if epoch is None:
            code, text = 2, "%s: no snapshot" % target
        else:
            age = now - int(epoch)
            code = 2 if age >= critical else 1 if age >= warn else 0
            text = "%s: newest %s old" % (target, human_age(age))
        worst = max(worst, code)
        parts.append(text)
    state = ("OK", "WARNING", "CRITICAL")[worst]
    return worst, "SNAPSHOTS %s - %s" % (state, "; ".join(parts) if parts else "no targets")


def human_age(seconds):
    """``2d3h``, ``5h12m``, ``7m``, ``40s``."""
    seconds = int(seconds)
    if seconds < 0:
        return "-" + human_age(-seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return "%dd%dh" % (days, hours) if hours else "%dd" % days
    if hours:
        return "%dh%dm" % (hours, minutes) if minutes else "%dh" % hours
    if minutes:
        return "%dm" % minutes
    return "%ds" % secs


# -- schedules ------------------------------------------------------------------------------------------

_CRON_FIELDS = (("minute", 0, 59, None), ("hour", 0, 23, None), ("day", 1, 31, None),
                ("month", 1, 12, ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")),
                ("weekday", 0, 7, ("sun", "mon", "tue", "wed", "thu", "fri", "sat")))
_CRON_SPECIAL = {"@hourly": "0 * * * *", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@weekly": "0 0 * * 0",
                 "@monthly": "0 0 1 * *", "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *"}
_SYSTEMD_DAYS = ("Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat")


def _cron_number(text, low, names, field):
    if names and text.lower() in names:
        return names.index(text.lower()) + (1 if field == "month" else 0)
    if not text.isdigit():
        raise RetentionError("cron %s: %r is not a number%s" % (field, text, " or a name" if names else ""))
    return int(text)


def _cron_field(text, field, low, high, names):
    """The set of values cron's own parser would accept for one field, or raise."""
    values = set()
    for element in text.split(","):
        if not element:
            raise RetentionError("cron %s %r: empty list element" % (field, text))
        step = 1
        if "/" in element:
            element, step_text = element.split("/", 1)
            if not step_text.isdigit() or int(step_text) < 1:
                raise RetentionError("cron %s %r: step must be a whole number above 0" % (field, text))
            step = int(step_text)
            if element != "*" and "-" not in element:
                raise RetentionError("cron %s %r: a step needs '*' or a range before it" % (field, text))
        if element == "*":
            first, last = low, high
        elif "-" in element:
            start, end = element.split("-", 1)
            first, last = _cron_number(start, low, names, field), _cron_number(end, low, names, field)
            if first > last:
                raise RetentionError("cron %s %r: range runs backwards" % (field, text))
        else:
            first = last = _cron_number(element, low, names, field)
        if first < low or last > high:
            raise RetentionError("cron %s %r: values must be within %d-%d" % (field, text, low, high))
        values.update(range(first, last + 1, step))
    return values


def parse_cron(expression):
    """Validate a cron schedule (5 fields or @hourly/@daily/@weekly/@monthly/@yearly) as cron would.

    Returns ``{'minute', 'hour', 'day', 'month', 'weekday'}`` (the fields as written, for
    ansible.builtin.cron) plus ``special_time`` when an @ form was given, and ``on_calendar`` (the same
    schedule for a systemd timer, or None when systemd cannot express it)."""
    if not isinstance(expression, str) or not expression.strip():
        raise RetentionError("schedule must be a cron expression like '0 * * * *', not %r" % (expression,))
    text = expression.strip()
    special = None
    if text.startswith("@"):
        if text.lower() == "@reboot":
            raise RetentionError("schedule @reboot is not a period; use a time-based cron expression")
        if text.lower() not in _CRON_SPECIAL:
            raise RetentionError("schedule %r: unknown @ form (known: %s)" % (text, ", ".join(sorted(_CRON_SPECIAL))))
        special = text.lower()[1:]
        if special == "midnight":
            special = "daily"
        elif special == "yearly":
            special = "annually"
        text = _CRON_SPECIAL[text.lower()]
    fields = text.split()
    if len(fields) != 5:
        raise RetentionError("schedule %r must have 5 fields (minute hour day month weekday), it has %d"
                             % (expression, len(fields)))
    sets = {}
    result = {}
    for (name, low, high, names), value in zip(_CRON_FIELDS, fields):
        sets[name] = _cron_field(value, name, low, high, names)
        result[name] = value
    result["special_time"] = special
    result["on_calendar"] = _on_calendar(fields, sets)
    return result


def _calendar_list(values, full, width=2):
    if values == set(full):
        return "*"
    return ",".join("%0*d" % (width, v) for v in sorted(values))


def _on_calendar(fields, sets):
    """systemd OnCalendar= for a validated cron expression; None when cron's day-of-month OR
    day-of-week rule (both restricted) cannot be expressed."""
    dom_restricted = not fields[2].startswith("*")
    dow_restricted = not fields[4].startswith("*")
    if dom_restricted and dow_restricted:
        return None
    days = set(7 if d == 0 else d for d in sets["weekday"])
    if days != set(range(1, 8)):  # "*/2" starts with "*" (cron ANDs it with the day) but is still a restriction
        weekday = ",".join(_SYSTEMD_DAYS[d % 7] for d in sorted(days)) + " "
    else:
        weekday = ""
    return "%s*-%s-%s %s:%s:00" % (weekday, _calendar_list(sets["month"], range(1, 13)),
                                   _calendar_list(sets["day"], range(1, 32)),
                                   _calendar_list(sets["hour"], range(0, 24)),
                                   _calendar_list(sets["minute"], range(0, 60)))


# -- targets and Docker awareness -----------------------------------------------------------------------

def target_kind(target):
    """``btrfs`` for an absolute path, ``zfs`` for a dataset name; raise for anything else."""
    if not isinstance(target, str) or not target:
        raise RetentionError("target must be a ZFS dataset name or an absolute btrfs subvolume path, not %r"
                             % (target,))
    if target.startswith("/"):
        if "\n" in target or "/../" in target + "/" or "/./" in target + "/":
            raise RetentionError("btrfs target %r must be a plain absolute path" % (target,))
        return "btrfs"
    if "@" in target or "//" in target or target.endswith("/") or not _ZFS_NAME_RE.match(target):
        raise RetentionError("ZFS target %r is not a dataset name (pool/dataset, no '@')" % (target,))
    return "zfs"


def normpath(path):
    parts = [p for p in path.split("/") if p and p != "."]
    return "/" + "/".join(parts)


def _under(path, parent, inclusive=True):
    path, parent = normpath(path), normpath(parent)
    if path == parent:
        return inclusive
    return path.startswith(parent.rstrip("/") + "/")


def _unescape(field):
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def parse_mounts(mountinfo_text):
    """``(mount_point, fstype, source)`` per line of /proc/self/mountinfo, in the kernel's order."""
    mounts = []
    for line in (mountinfo_text or "").splitlines():
        parts = line.split()
        if "-" not in parts:
            continue
        sep = parts.index("-")
        if len(parts) < sep + 3 or len(parts) < 5:
            continue
        mounts.append((_unescape(parts[4]), parts[sep + 1], _unescape(parts[sep + 2])))
    return mounts


def mount_of(mounts, path):
    """The mount (last one wins, as the kernel shows it) holding ``path``, or None."""
    best = None
    for mount in mounts:
        if _under(path, mount[0]) and (best is None or len(normpath(mount[0])) >= len(normpath(best[0]))):
            best = mount
    return best


def docker_storage(mounts, data_roots=("/var/lib/docker",), containerd_roots=("/var/lib/containerd",),
                   zfs_fsnames=()):
    """What Docker and containerd own, from the mount table: ``zfs_parents`` (datasets whose children are
    Docker layers), ``zfs_excluded`` (datasets excluded with all their descendants), ``paths_excluded``
    (btrfs paths excluded with everything below) and ``zfs_dedicated`` (parents mounted exactly at a
    data-root or its ``zfs`` directory: Docker's own datasets, safe to mark ``com.sun:auto-snapshot=false``;
    a data-root that is a plain directory of, say, the root dataset is not listed)."""
    parents, excluded, paths, dedicated = list(zfs_fsnames), [], [], []
    for root in data_roots:
        root = normpath(root)
        held = mount_of(mounts, root + "/zfs")
        if held and held[1] == "zfs" and held[2] not in parents:
            parents.append(held[2])
        if held and held[1] == "zfs" and normpath(held[0]) in (root, root + "/zfs") and held[2] not in dedicated:
            dedicated.append(held[2])
        paths.extend([root + "/btrfs", root + "/zfs", root + "/overlay2", root + "/containerd"])
    for root in containerd_roots:
        root = normpath(root)
        for kind in ("zfs", "btrfs", "overlayfs", "native"):
            snap_root = "%s/io.containerd.snapshotter.v1.%s" % (root, kind)
            paths.append(snap_root)
            held = mount_of(mounts, snap_root)
            if kind == "zfs" and held and held[1] == "zfs" and normpath(held[0]) == snap_root:
                excluded.append(held[2])
    return {"zfs_parents": parents, "zfs_excluded": excluded, "paths_excluded": paths, "zfs_dedicated": dedicated}


def docker_refusal(target, docker):
    """Why ``target`` must not be snapshotted (Docker's or containerd's own layers), or None.

    The data-root dataset or subvolume itself is fine: snapshots here are never recursive, and a btrfs
    snapshot does not descend into nested subvolumes."""
    kind = target_kind(target)
    if kind == "zfs":
        for parent in docker["zfs_parents"]:
            if target.startswith(parent + "/"):
                return ("%s is a layer dataset Docker created under %s; snapshots of it keep Docker from "
                        "removing layers (moby#40132, #41055)" % (target, parent))
        for root in docker["zfs_excluded"]:
            if target == root or target.startswith(root + "/"):
                return "%s belongs to containerd's zfs snapshotter (%s)" % (target, root)
        if _DOCKER_LAYER_RE.match(target.rsplit("/", 1)[-1]):
            return "%s is named like a Docker layer dataset" % target
        return None
    for path in docker["paths_excluded"]:
        if _under(target, path):
            return ("%s is under %s, which Docker or containerd manage as layers; snapshots there keep them "
                    "from removing layers" % (target, path))
    return None


def default_snapshot_dir(target):
    """Where btrfs snapshots of ``target`` live unless configured: ``<target>/.snapshots`` (same filesystem;
    the snapshots, being nested subvolumes, are not part of later snapshots of the target)."""
    return normpath(target) + "/.snapshots"


# -- commands -------------------------------------------------------------------------------------------

ZFS_ARG_MAX = 100000        # one argv string; the kernel limit is 128 KiB (MAX_ARG_STRLEN)
BTRFS_ARGV_MAX = 1000000    # the whole argv; the kernel limit is a quarter of the stack (2 MiB by default)


def unsafe_directory(path, lstat=os.lstat, uid=None, realpath=os.path.realpath):
    """Why root should not delete subvolumes in, or lock a file in, ``path``: it or a directory above it (on
    the path as written and as resolved) is not owned by root or is writable by others, so another user could
    swap a snapshot for a link to something else between listing and deleting. None when it is safe. Parts that
    do not exist yet are skipped (the tool creates them root-only); a sticky directory (like /tmp) above a
    root-owned one is fine; a root-owned symlink is fine when where it leads is. Run by another user (tests),
    that user's own directories count as safe too."""
    uid = os.geteuid() if uid is None else uid
    owner = "root" if uid == 0 else "uid %d (who runs this)" % uid
    for start in dict.fromkeys((normpath(path), normpath(realpath(path)))):
        current, below_is_root = start, False
        while True:
            try:
                info = lstat(current)
            except FileNotFoundError:
                info = None
            if info is not None:
                if info.st_uid not in (0, uid):
                    return "%s is owned by uid %d, not by %s" % (current, info.st_uid, owner)
                sticky_ok = below_is_root and info.st_mode & stat.S_ISVTX
                if not stat.S_ISLNK(info.st_mode) and info.st_mode & 0o022 and not sticky_ok:
                    return "%s is writable by group or others (mode %04o)" % (current, stat.S_IMODE(info.st_mode))
                below_is_root = True
            if current == "/":
                break
            current = os.path.dirname(current)
    return None


BTRFS_SUBVOLUME_INODE = 256  # BTRFS_FIRST_FREE_OBJECTID: the root directory of every subvolume


def list_btrfs_snapshots(snapshot_dir):
    """Snapshots in ``snapshot_dir``: every directory entry that is the root of a subvolume (inode 256), as dicts
    shaped like :func:`parse_zfs_list`'s rows (btrfs keeps no creation time or sizes there: None). A missing
    directory has none; an entry that vanishes while it is read is skipped."""
    found = []
    try:
        entries = list(os.scandir(snapshot_dir))
    except (FileNotFoundError, NotADirectoryError):
        return found
    for entry in entries:
        try:
            if entry.is_dir(follow_symlinks=False) and entry.stat(follow_symlinks=False).st_ino == BTRFS_SUBVOLUME_INODE:
                found.append({"name": entry.name, "creation": None, "used": None, "referenced": None})
        except OSError:
            continue
    return found


def btrfs_target_problem(mounts, path, snapshot_dir):
    """Why ``path`` cannot be snapshotted into ``snapshot_dir`` on this host, or None. The tool and the module
    both ask this before they take or delete anything."""
    if not os.path.isdir(path):
        return "%s does not exist or is not a directory" % path
    mount = mount_of(mounts, path)
    if not mount or mount[1] != "btrfs":
        return "%s is not on btrfs (%s)" % (path, mount[1] if mount else "no mount")
    if os.stat(path).st_ino != BTRFS_SUBVOLUME_INODE:
        return "%s is a directory on btrfs, not a subvolume" % path
    dir_mount = mount_of(mounts, snapshot_dir)
    if not dir_mount or dir_mount[1] != "btrfs" or dir_mount[2] != mount[2]:
        return "snapshot directory %s is not on the same btrfs filesystem as %s" % (snapshot_dir, path)
    unsafe = unsafe_directory(snapshot_dir)
    if unsafe:
        return "snapshot directory %s: %s; set a snapshot_dir only root can write" % (snapshot_dir, unsafe)
    return None


def zfs_list_argv(dataset, zfs="zfs"):
    """One listing of every snapshot of ``dataset`` itself (not of its children), machine readable."""
    return [zfs, "list", "-H", "-p", "-o", "name,creation,used,referenced", "-t", "snapshot", "-d", "1", dataset]


def parse_zfs_list(text, dataset):
    """Snapshots of ``dataset`` from ``zfs list -H -p -o name,creation[,used,referenced]``: dicts with
    ``name`` (after the @), ``creation`` (epoch) and ``used``/``referenced`` (bytes) when listed."""
    found = []
    for line in (text or "").splitlines():
        cols = line.split("\t")
        if len(cols) < 2 or "@" not in cols[0]:
            continue
        ds, snap = cols[0].split("@", 1)
        if ds != dataset:
            continue
        row = {"name": snap, "creation": _int_or_none(cols[1]), "used": None, "referenced": None}
        if len(cols) >= 4:
            row["used"], row["referenced"] = _int_or_none(cols[2]), _int_or_none(cols[3])
        found.append(row)
    return found


def _int_or_none(text):
    try:
        return int(text)
    except (TypeError, ValueError):
        return None


def zfs_snapshot_argv(dataset, name, zfs="zfs"):
    """Never recursive: Docker's layer datasets below a data-root dataset stay out."""
    return [zfs, "snapshot", "%s@%s" % (dataset, name)]


def zfs_destroy_argvs(dataset, names, zfs="zfs", arg_max=ZFS_ARG_MAX):
    """``zfs destroy pool/ds@a,b,c`` commands covering exactly ``names`` (never a % range, never -r), each
    argument below ``arg_max`` characters. A batch is destroyed atomically by ZFS."""
    argvs, batch, size = [], [], len(dataset) + 1
    for name in names:
        if not name or "@" in name or "," in name or "%" in name or "/" in name:
            raise RetentionError("refusing to destroy snapshot with unsafe name %r" % (name,))
        if batch and size + len(name) + 1 > arg_max:
            argvs.append([zfs, "destroy", "%s@%s" % (dataset, ",".join(batch))])
            batch, size = [], len(dataset) + 1
        batch.append(name)
        size += len(name) + 1
    if batch:
        argvs.append([zfs, "destroy", "%s@%s" % (dataset, ",".join(batch))])
    return argvs


def btrfs_snapshot_argv(source, dest, btrfs="btrfs"):
    return [btrfs, "subvolume", "snapshot", "-r", source, dest]


def btrfs_delete_argvs(paths, btrfs="btrfs", argv_max=BTRFS_ARGV_MAX):
    """``btrfs subvolume delete p1 p2 ...`` commands covering exactly ``paths``."""
    argvs, batch, size = [], [], 0
    for path in paths:
        if batch and size + len(path) + 1 > argv_max:
            argvs.append([btrfs, "subvolume", "delete"] + batch)
            batch, size = [], 0
        batch.append(path)
        size += len(path) + 1
    if batch:
        argvs.append([btrfs, "subvolume", "delete"] + batch)
    return argvs


# -- the tool's configuration ---------------------------------------------------------------------------

def check_config(doc):
    """Validate the tool's JSON configuration; return it normalised or raise with every problem.

    ``{"version": 1, "prefix": str, "policy": {...}, "frequent_minutes": int, "schedule": cron,
    "targets": [{"target": str, "policy": {...}?, "snapshot_dir": path?}], "docker": {"data_roots": [...],
    "containerd_roots": [...], "zfs_fsnames": [...]}, "monitor": {"warn": dur, "critical": dur},
    "lock_file": path, "metrics_file": path or ""}``"""
    if not isinstance(doc, dict):
        raise RetentionError("configuration must be a JSON object")
    problems = []
    known = ("version", "prefix", "policy", "frequent_minutes", "schedule", "targets", "docker", "monitor", "lock_file",
             "metrics_file")
    for key in sorted(set(doc) - set(known), key=str):
        problems.append("unknown setting %r" % (key,))
    if doc.get("version", CONFIG_VERSION) != CONFIG_VERSION:
        problems.append("version must be %d" % CONFIG_VERSION)
    out = {"version": CONFIG_VERSION}

    def attempt(key, func, *args):
        try:
            out[key] = func(*args)
        except RetentionError as exc:
            problems.append(str(exc))

    attempt("prefix", check_prefix, doc.get("prefix", DEFAULT_PREFIX))
    attempt("policy", check_policy, doc.get("policy"))
    attempt("frequent_minutes", check_frequent_minutes, doc.get("frequent_minutes", DEFAULT_FREQUENT_MINUTES))
    if doc.get("schedule") is not None:
        attempt("schedule", parse_cron, doc.get("schedule"))
    monitor_doc = doc.get("monitor") or {}
    if not isinstance(monitor_doc, dict):
        problems.append("monitor must be a mapping with warn and critical")
        monitor_doc = {}
    mon = {}
    for key, default in (("warn", "2h"), ("critical", "6h")):
        try:
            mon[key] = parse_duration(monitor_doc.get(key, default), "monitor.%s" % key)
        except RetentionError as exc:
            problems.append(str(exc))
    if len(mon) == 2 and mon["warn"] > mon["critical"]:
        problems.append("monitor.warn must not be above monitor.critical")
    out["monitor"] = mon
    lock = doc.get("lock_file", DEFAULT_LOCK_FILE)
    if not isinstance(lock, str) or not lock.startswith("/"):
        problems.append("lock_file must be an absolute path")
    out["lock_file"] = lock
    metrics = doc.get("metrics_file") or ""
    if metrics and (not isinstance(metrics, str) or not metrics.startswith("/") or not metrics.endswith(".prom")):
        problems.append("metrics_file %r must be an absolute path ending in .prom (node_exporter's textfile "
                        "collector reads *.prom), or empty" % (metrics,))
    out["metrics_file"] = metrics if isinstance(metrics, str) else ""
    docker = doc.get("docker") or {}
    out["docker"] = {}
    for key, default in (("data_roots", ["/var/lib/docker"]), ("containerd_roots", ["/var/lib/containerd"]),
                         ("zfs_fsnames", [])):
        value = docker.get(key, default) if isinstance(docker, dict) else default
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            problems.append("docker.%s must be a list of strings" % key)
            value = default
        out["docker"][key] = value
    targets = doc.get("targets")
    out["targets"] = []
    if not isinstance(targets, list):
        problems.append("targets must be a list")
        targets = []
    seen = set()
    for index, entry in enumerate(targets):
        where = "targets[%d]" % index
        if isinstance(entry, str):
            entry = {"target": entry}
        if not isinstance(entry, dict):
            problems.append("%s must be a mapping with 'target'" % where)
            continue
        for key in sorted(set(entry) - {"target", "policy", "snapshot_dir"}, key=str):
            problems.append("%s: unknown setting %r" % (where, key))
        target = entry.get("target")
        try:
            kind = target_kind(target)
        except RetentionError as exc:
            problems.append("%s: %s" % (where, exc))
            continue
        if kind == "btrfs":
            target = normpath(target)
        if target in seen:
            problems.append("%s: %s is listed twice" % (where, target))
        seen.add(target)
        item = {"target": target, "kind": kind}
        if entry.get("policy") is not None:
            try:
                item["policy"] = check_policy(entry["policy"], "%s.policy" % where)
            except RetentionError as exc:
                problems.append(str(exc))
        snap_dir = entry.get("snapshot_dir")
        if kind == "btrfs":
            if snap_dir is not None and (not isinstance(snap_dir, str) or not snap_dir.startswith("/")):
                problems.append("%s.snapshot_dir must be an absolute path" % where)
            item["snapshot_dir"] = normpath(snap_dir) if isinstance(snap_dir, str) and snap_dir.startswith("/") \
                else default_snapshot_dir(target)
        elif snap_dir is not None:
            problems.append("%s.snapshot_dir is for btrfs targets only" % where)
        out["targets"].append(item)
    problems.extend(_overlaps([i for i in out["targets"] if i["kind"] == "btrfs"]))
    if problems:
        raise RetentionError("; ".join(problems))
    return out


def _overlaps(items):
    """btrfs targets whose snapshot directories would mix: snapshot names do not name the target, so each
    target's prune would count (and delete) the other's snapshots."""
    problems = []
    for index, item in enumerate(items):
        for other in items[index + 1:]:
            if _under(item["snapshot_dir"], other["snapshot_dir"]) or _under(other["snapshot_dir"], item["snapshot_dir"]):
                problems.append("%s and %s: snapshot directories %s and %s overlap; give each its own snapshot_dir" % (
                    item["target"], other["target"], item["snapshot_dir"], other["snapshot_dir"]))
        for other in items:
            if other is not item and _under(item["target"], other["snapshot_dir"]):
                problems.append("%s is inside the snapshot directory of %s" % (item["target"], other["target"]))
    return problems


def target_policy(config, item):
    return item.get("policy") or config["policy"]


def age_report(config, listed, now):
    """The audit's view of the snapshot tool: per target of ``config`` (checked), the newest of our snapshots,
    its age and ``--check``'s verdict with the configured ages. ``listed``: ``{target: [names]}``, or an error
    string for a target that could not be listed. Pure."""
    warn, critical = config["monitor"]["warn"], config["monitor"]["critical"]
    targets = []
    for item in config["targets"]:
        names = listed.get(item["target"])
        row = {"target": item["target"], "kind": item["kind"], "count": None, "newest": None, "age_seconds": None,
               "state": "UNKNOWN", "error": None}
        if isinstance(names, list):
            snap = newest(names, config["prefix"])
            row["count"] = len([n for n in names if parse_name(n, config["prefix"])])
            code = monitor({item["target"]: snap["epoch"] if snap else None}, now, warn, critical)[0]
            row["state"] = ("OK", "WARNING", "CRITICAL")[code]
            if snap:
                row["newest"], row["age_seconds"] = snap["name"], int(_epoch(to_datetime(now))) - int(snap["epoch"])
        else:
            row["error"] = names or "not listed"
        targets.append(row)
    return {"warn": warn, "critical": critical, "targets": targets, "error": None}
