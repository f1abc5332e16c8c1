# -*- coding: utf-8 -*-
# Copyright: cowstack.docker_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Snapshot names, durations, retention policies and their arithmetic, and the monitoring verdict. Pure, no I/O.

This very file is also installed beside the standalone ``cowstack-snapshot`` tool (which cron or a systemd
timer runs without Ansible) and imported there as the plain module ``_retention``, with the files that build on
it (``_schedule``, ``_snapshot_config``, ``_snapshot_fs``, ``_mountinfo``): keep it standard library only,
without imports of the collection.

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
import re

PERIODS = ("frequently", "hourly", "daily", "weekly", "monthly", "yearly")
DEFAULT_PREFIX = "cowstack"
DEFAULT_FREQUENT_MINUTES = 15
TIMESTAMP_FORMAT = "%Y%m%dT%H%M%SZ"

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
    return {"name": name, "label": label, "time": when, "epoch": int(epoch_seconds(when))}


def epoch_seconds(when):
    """Seconds since the epoch of an aware datetime (a float)."""
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
        return int(epoch_seconds(when)) // (60 * frequent_minutes)
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
    epoch = int(epoch_seconds(to_datetime(now)))
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
    now = int(epoch_seconds(to_datetime(now)))
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
