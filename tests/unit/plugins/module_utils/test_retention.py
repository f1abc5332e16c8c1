"""Retention arithmetic, names, prefixes, schedules and command planning: the pure half of snapshots."""

from __future__ import annotations

import datetime
import os
import shutil
import subprocess
import time

import pytest

from ansible_collections.cowstack.docker_storage.plugins.module_utils import _retention as R
from ansible_collections.cowstack.docker_storage.plugins.module_utils import _schedule as S
from ansible_collections.cowstack.docker_storage.plugins.module_utils import _snapshot_config as C
from ansible_collections.cowstack.docker_storage.plugins.module_utils import _snapshot_fs as F
from ansible_collections.cowstack.docker_storage.plugins.module_utils._mountinfo import parse_mountinfo

UTC = datetime.timezone.utc


def at(text):
    """'2024-02-29 23:00' (UTC) as an aware datetime."""
    return datetime.datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=UTC)


def name(text, label="hourly", prefix="cowstack"):
    return R.snapshot_name(prefix, label, at(text))


def hourly_two_years():
    """One snapshot every hour from 2023-01-01 00:00 to 2024-12-31 23:00 UTC (17,544; 2024 is a leap year)."""
    start = at("2023-01-01 00:00")
    return [R.snapshot_name("cowstack", "hourly", start + datetime.timedelta(hours=h)) for h in range(731 * 24)]


TWO_YEARS = hourly_two_years()
END = at("2025-01-01 00:00")  # one hour after the last snapshot


def kept(policy, names=None, now=END, **kwargs):
    return R.plan_retention(TWO_YEARS if names is None else names, policy, now, **kwargs)["keep"]


# -- the exact survivors over two years of hourly snapshots, one period at a time ------------------------

MONTH_ENDS_2023 = [(1, 31), (2, 28), (3, 31), (4, 30), (5, 31), (6, 30), (7, 31), (8, 31), (9, 30), (10, 31), (11, 30),
                   (12, 31)]
MONTH_ENDS_2024 = [(1, 31), (2, 29)] + MONTH_ENDS_2023[2:]  # leap year


@pytest.mark.parametrize("policy, expected", [
    ({"hourly": 3}, ["2024-12-31 21:00", "2024-12-31 22:00", "2024-12-31 23:00"]),
    ({"daily": 3}, ["2024-12-29 23:00", "2024-12-30 23:00", "2024-12-31 23:00"]),
    # 2024-12-31 is a Tuesday of ISO week 2025-W01 (Mon 2024-12-30 .. Sun 2025-01-05); W52 ends Sunday the 29th.
    ({"weekly": 3}, ["2024-12-22 23:00", "2024-12-29 23:00", "2024-12-31 23:00"]),
    # month ends: 30 November, and 29 February in the leap year
    ({"monthly": 3}, ["2024-10-31 23:00", "2024-11-30 23:00", "2024-12-31 23:00"]),
    ({"monthly": 11}, ["2024-%02d-%02d 23:00" % md for md in MONTH_ENDS_2024[1:]]),
    ({"monthly": 23}, ["2023-%02d-%02d 23:00" % md for md in MONTH_ENDS_2023[1:]]
     + ["2024-%02d-%02d 23:00" % md for md in MONTH_ENDS_2024]),
    # fewer buckets than the policy asks for: every year there is, no error
    ({"yearly": 10}, ["2023-12-31 23:00", "2024-12-31 23:00"]),
    ({"yearly": 1}, ["2024-12-31 23:00"]),
])
def test_one_period_keeps_the_newest_of_each_recent_bucket(policy, expected):
    assert kept(policy) == [name(t) for t in expected]


def test_leap_day_is_its_own_day():
    survivors = kept({"daily": 400})
    assert name("2024-02-29 23:00") in survivors
    assert name("2024-02-28 23:00") in survivors and name("2024-03-01 23:00") in survivors
    assert len(survivors) == 400 and survivors[0] == name("2023-11-28 23:00")


def test_a_snapshot_kept_by_any_period_is_kept():
    policy = {"hourly": 24, "daily": 7, "weekly": 4, "monthly": 12, "yearly": 2}
    union = set()
    for period, count in policy.items():
        union.update(kept({period: count}))
    plan = R.plan_retention(TWO_YEARS, policy, END)
    assert set(plan["keep"]) == union
    assert len(plan["keep"]) + len(plan["destroy"]) == len(TWO_YEARS)
    assert not set(plan["keep"]) & set(plan["destroy"])
    assert plan["foreign"] == []
    # hourly 24 (Dec 31 00..23) + daily 6 more + weekly: W52 and W51 are days already kept? W52's Sunday is
    # daily-kept; W51 (Dec 22) and W50 (Dec 15) are new; monthly: 11 month ends before December; yearly: 2023.
    assert len(plan["keep"]) == 24 + 6 + 2 + 11 + 1
    assert plan["reasons"][name("2024-12-31 23:00")] == ["hourly", "daily", "weekly", "monthly", "yearly"]
    assert plan["reasons"][name("2023-12-31 23:00")] == ["yearly"]


def test_result_does_not_depend_on_order_or_local_time_zone(monkeypatch):
    policy = {"hourly": 48, "daily": 10, "weekly": 6, "monthly": 3}
    expected = R.plan_retention(TWO_YEARS, policy, END)
    shuffled = TWO_YEARS[1::2] + TWO_YEARS[::2][::-1]
    monkeypatch.setenv("TZ", "Europe/Berlin")
    time.tzset()
    try:
        again = R.plan_retention(shuffled, policy, END)
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    assert again["keep"] == expected["keep"] and again["destroy"] == expected["destroy"]


def test_dst_weekend_is_48_distinct_hours():
    # Europe switched to summer time at 2024-03-31 01:00 UTC; in UTC nothing repeats and nothing is missing.
    names = [R.snapshot_name("cowstack", "hourly", at("2024-03-30 00:00") + datetime.timedelta(hours=h))
             for h in range(48)]
    assert R.plan_retention(names, {"hourly": 48}, at("2024-04-01 00:00"))["destroy"] == []
    assert len(R.plan_retention(names, {"hourly": 47}, at("2024-04-01 00:00"))["destroy"]) == 1


def test_counts_non_empty_buckets_so_a_week_offline_loses_nothing():
    names = [name("2024-06-%02d 12:00" % d, "daily") for d in (1, 2, 3, 4, 5)]
    assert kept({"daily": 5}, names, now=at("2024-06-20 00:00")) == names


def test_frequently_uses_quarter_hour_buckets():
    names = [name("2024-06-01 10:%02d" % m, "frequently") for m in (0, 5, 14, 15, 29, 31, 44, 46)]
    assert kept({"frequently": 3}, names, now=at("2024-06-01 11:00")) == [
        name("2024-06-01 10:29", "frequently"), name("2024-06-01 10:44", "frequently"),
        name("2024-06-01 10:46", "frequently")]
    assert kept({"frequently": 2}, names, now=at("2024-06-01 11:00"), frequent_minutes=30) == [
        name("2024-06-01 10:29", "frequently"), name("2024-06-01 10:46", "frequently")]


@pytest.mark.parametrize("order", [0, 1])
def test_ties_on_the_same_second_are_resolved_by_label_then_name(order):
    same = [name("2024-12-31 23:00", "hourly"), name("2024-12-31 23:00", "daily")]
    names = same if order else same[::-1]
    plan = R.plan_retention(names, {"hourly": 1}, END)
    assert plan["keep"] == [name("2024-12-31 23:00", "daily")]
    assert plan["destroy"] == [name("2024-12-31 23:00", "hourly")]


def test_foreign_snapshots_interleaved_are_never_destroyed():
    foreign = [
        "zfs-auto-snap_daily-2024-12-30-0000", "autosnap_2024-12-30_00:00:00_daily", "syncoid_host_2024-12-30:00:00:00",
        "before-upgrade", "cowstack_daily_garbage", "cowstack_daily_20241301T000000Z", "cowstackx_daily_20241230T000000Z",
        "other_daily_20241230T000000Z", "cowstack_Daily_20241230T000000Z", "cowstack__20241230T000000Z",
        "cowstack_manual_20230101T000000Z", "cowstack_pre-upgrade_20230101T000000Z",
    ]
    names = []
    for index, own in enumerate(TWO_YEARS[-200:]):
        names.append(own)
        if index % 17 == 0 and foreign:
            names.append(foreign.pop())
    names.extend(foreign)
    plan = R.plan_retention(names, {"hourly": 5}, END)
    assert len(plan["foreign"]) == 12
    assert not set(plan["foreign"]) & set(plan["destroy"])
    assert plan["keep"] == TWO_YEARS[-5:]
    assert plan["destroy"] == TWO_YEARS[-200:-5]
    # ad hoc labels take part only when asked for
    asked = R.plan_retention(names, {"hourly": 5}, END, labels=R.PERIODS + ("manual",))
    assert "cowstack_manual_20230101T000000Z" in asked["destroy"]


def test_min_age_protects_young_snapshots_and_future_ones_are_kept():
    names = TWO_YEARS[-10:] + [name("2025-01-01 05:00")]
    plan = R.plan_retention(names, {"daily": 1, "min_age": "6h"}, END)
    # ages 1h..10h: those younger than 6h (1h..5h) are protected; the newest is kept by daily anyway
    assert plan["destroy"] == TWO_YEARS[-10:-5]
    assert plan["reasons"][name("2025-01-01 05:00")] == ["daily", "future"]
    assert plan["reasons"][TWO_YEARS[-2]] == ["min_age"]


def test_empty_and_single():
    assert R.plan_retention([], {"daily": 1}, END) == {"keep": [], "destroy": [], "reasons": {}, "foreign": []}
    assert kept({"hourly": 1}, TWO_YEARS[:1]) == TWO_YEARS[:1]


def test_label_for_new_marks_the_first_of_each_bucket():
    policy = {"hourly": 24, "daily": 7, "monthly": 12}
    assert R.label_for_new([], policy, END) == "monthly"
    assert R.label_for_new(TWO_YEARS, policy, END) == "monthly"          # a new month starts
    assert R.label_for_new(TWO_YEARS, policy, at("2024-12-31 23:30")) == "hourly"
    assert R.label_for_new(TWO_YEARS[:-1], policy, at("2024-12-31 23:30")) == "hourly"
    assert R.label_for_new(TWO_YEARS[:10], policy, at("2023-01-02 00:00")) == "daily"


def test_a_run_repeated_in_the_same_second_finds_the_first_runs_snapshot():
    """The first run after midnight takes ``daily``; repeated in that second it would pick ``hourly`` (the day's
    bucket is now full) and take a second snapshot that retention then prunes. It must find the first one."""
    policy = {"hourly": 4, "daily": 2}
    now = at("2026-11-24 00:30")
    history = [R.snapshot_name("cowstack", "hourly", now - datetime.timedelta(hours=h)) for h in range(30, 0, -1)]
    assert R.label_for_new(history, policy, now) == "daily"
    first = R.snapshot_name("cowstack", "daily", now)
    names = history + [first, "cowstack_manual_20261124T003000Z", "other@" + first]
    assert R.label_for_new(names, policy, now) == "hourly"
    assert R.taken_at(names, now) == first
    assert R.taken_at(names, now + datetime.timedelta(seconds=1)) is None
    assert R.taken_at(["cowstack_manual_20261124T003000Z"], now) is None      # not a periodic label
    assert first in R.plan_retention(names, policy, now)["keep"]


# -- bad input ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("policy, message", [
    ({"daily": -1}, "must not be negative"),
    ({"daily": "7"}, "whole number"),
    ({"daily": 2.5}, "whole number"),
    ({"daily": True}, "whole number"),
    ({"daly": 7}, "unknown period 'daly'"),
    ({"daily": 0, "hourly": 0}, "keeps nothing"),
    ({}, "keeps nothing"),
    ({"daily": 1, "min_age": "soon"}, "min_age"),
    ({"daily": 1, "min_age": -5}, "must not be negative"),
    ("daily=7", "must be a mapping"),
])
def test_bad_policies_are_refused_clearly(policy, message):
    with pytest.raises(R.RetentionError, match=message):
        R.check_policy(policy)


def test_policy_normalised():
    assert R.check_policy({"daily": 7, "min_age": "1d12h"}) == {
        "frequently": 0, "hourly": 0, "daily": 7, "weekly": 0, "monthly": 0, "yearly": 0, "min_age": 129600}


@pytest.mark.parametrize("prefix", ["", "a", "zfs-auto-snap", "ZFS-Auto-Snap", "zfs-auto-snap-docker", "zfs", "zfs-auto",
                                    "autosnap", "auto", "syncoid", "zrepl", "cow stack", "cow@stack", "cow/stack",
                                    "1cow", "_cow", None, "x" * 41])
def test_prefixes_that_could_match_other_snapshots_are_refused(prefix):
    with pytest.raises(R.RetentionError):
        R.check_prefix(prefix)


@pytest.mark.parametrize("prefix", ["cowstack", "cs", "docker_prod", "cowstack.v1", "Nightly-backup"])
def test_good_prefixes(prefix):
    assert R.check_prefix(prefix) == prefix
    snap = R.snapshot_name(prefix, "daily", at("2024-02-29 12:34"))
    assert snap == "%s_daily_20240229T123400Z" % prefix
    assert R.parse_name(snap, prefix)["time"] == at("2024-02-29 12:34")
    assert R.parse_name(snap, prefix + "x") is None


@pytest.mark.parametrize("label", ["", "Daily", "pre_upgrade", "9am", "a" * 33, None])
def test_bad_labels(label):
    with pytest.raises(R.RetentionError):
        R.check_label(label)


@pytest.mark.parametrize("value, seconds", [(0, 0), (3600, 3600), ("3600", 3600), ("90m", 5400), ("36h", 129600),
                                            ("1d12h", 129600), ("2w", 1209600), ("1h 30m", 5400)])
def test_durations(value, seconds):
    assert R.parse_duration(value) == seconds


@pytest.mark.parametrize("value", ["", "h", "1y", "-1h", -1, 1.5, True, None, "1h-"])
def test_bad_durations(value):
    with pytest.raises(R.RetentionError):
        R.parse_duration(value)


# -- schedules ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("expression, on_calendar", [
    ("0 * * * *", "*-*-* *:00:00"),
    ("*/15 * * * *", "*-*-* *:00,15,30,45:00"),
    ("5 3 * * *", "*-*-* 03:05:00"),
    ("0 3 * * 1-5", "Mon,Tue,Wed,Thu,Fri *-*-* 03:00:00"),
    ("0 3 * * 0", "Sun *-*-* 03:00:00"),
    ("0 3 * * 7", "Sun *-*-* 03:00:00"),
    ("0 3 * * sun,sat", "Sat,Sun *-*-* 03:00:00"),
    ("30 2 1 * *", "*-*-01 02:30:00"),
    ("0 0 1 jan *", "*-01-01 00:00:00"),
    ("0 */6 * * *", "*-*-* 00,06,12,18:00:00"),
    ("0 8-18/2 * * *", "*-*-* 08,10,12,14,16,18:00:00"),
    ("@hourly", "*-*-* *:00:00"),
    ("@daily", "*-*-* 00:00:00"),
    ("@weekly", "Sun *-*-* 00:00:00"),
    ("0 0 1 * 1", None),  # cron's day-of-month OR day-of-week has no systemd equivalent
    # a weekday field that starts with "*" makes cron AND the two day fields, but still restricts the weekday
    ("0 0 * * */2", "Tue,Thu,Sat,Sun *-*-* 00:00:00"),
    ("0 0 1 * */2", "Tue,Thu,Sat,Sun *-*-01 00:00:00"),
    ("0 0 */10 * 1", "Mon *-*-01,11,21,31 00:00:00"),
])
def test_cron_expressions_cron_accepts(expression, on_calendar):
    parsed = S.parse_cron(expression)
    assert parsed["on_calendar"] == on_calendar
    if not expression.startswith("@"):
        assert [parsed[k] for k in ("minute", "hour", "day", "month", "weekday")] == expression.split()
        assert parsed["special_time"] is None


@pytest.mark.parametrize("expression", ["", "* * * *", "* * * * * *", "60 * * * *", "* 24 * * *", "* * 0 * *",
                                        "* * 32 * *", "* * * 13 *", "* * * * 8", "*/0 * * * *", "5/10 * * * *",
                                        "10-5 * * * *", "1,,2 * * * *", "a * * * *", "* * * foo *", "@reboot",
                                        "@often", None, "0 * * * mon-"])
def test_cron_expressions_cron_rejects(expression):
    with pytest.raises(R.RetentionError):
        S.parse_cron(expression)


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="no systemd-analyze")
@pytest.mark.parametrize("expression", ["0 * * * *", "*/15 * * * *", "0 3 * * 1-5", "0 3 * * sun,sat", "30 2 1 * *",
                                        "0 8-18/2 * * *", "@weekly", "@yearly", "0 0 1 * */2"])
def test_on_calendar_is_accepted_by_systemd(expression):
    on_calendar = S.parse_cron(expression)["on_calendar"]
    proc = subprocess.run(["systemd-analyze", "calendar", on_calendar], capture_output=True, text=True,
                          env=dict(os.environ, LC_ALL="C"), check=False)
    assert proc.returncode == 0, proc.stderr


# -- targets, Docker awareness --------------------------------------------------------------------------

MOUNTINFO = """\
22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw
40 22 0:40 / /var/lib/docker rw shared:20 - zfs tank/docker rw,xattr
41 40 0:41 / /var/lib/docker/zfs/graph/0123 rw shared:21 - zfs tank/docker/0123 rw
45 22 0:45 / /var/lib/containerd/io.containerd.snapshotter.v1.zfs rw shared:25 - zfs tank/ctrd rw
50 22 0:50 / /srv rw shared:30 - btrfs /dev/vdb rw,subvol=/
"""


def test_docker_layers_and_snapshotter_roots_are_refused():
    docker = C.docker_storage(parse_mountinfo(MOUNTINFO))
    assert docker["zfs_parents"] == ["tank/docker"]
    assert docker["zfs_excluded"] == ["tank/ctrd"]
    assert docker["zfs_dedicated"] == ["tank/docker"]
    # a data-root that is a plain directory of the root dataset: its layers are still refused, but the root
    # dataset is not Docker's to opt out of other tools' snapshots
    on_root = C.docker_storage(parse_mountinfo("22 1 0:20 / / rw - zfs rpool/ROOT/debian rw\n"))
    assert on_root["zfs_parents"] == ["rpool/ROOT/debian"] and on_root["zfs_dedicated"] == []
    assert C.docker_refusal("rpool/ROOT/debian/" + "ab" * 32, on_root)
    layer = "tank/docker/" + "ab" * 32
    assert "layer dataset" in C.docker_refusal(layer, docker)
    assert C.docker_refusal(layer + "-init", docker)
    assert C.docker_refusal("tank/docker", docker) is None          # non-recursive snapshots of data-root: fine
    assert C.docker_refusal("tank/ctrd", docker) and C.docker_refusal("tank/ctrd/12", docker)
    assert C.docker_refusal("tank/home", docker) is None
    assert C.docker_refusal("other/" + "cd" * 32, docker)           # named like a layer anywhere
    assert C.docker_refusal("/var/lib/docker/btrfs/subvolumes/abc", docker)
    assert C.docker_refusal("/var/lib/docker/btrfs", docker)
    assert C.docker_refusal("/var/lib/containerd/io.containerd.snapshotter.v1.btrfs/snapshots/3", docker)
    assert C.docker_refusal("/var/lib/docker", docker) is None
    assert C.docker_refusal("/var/lib/docker/volumes/data", docker) is None
    assert C.docker_refusal("/srv/data", docker) is None


def test_zfs_fsname_from_the_daemon_counts_too():
    docker = C.docker_storage([], zfs_fsnames=["pool/dockerzfs"])
    assert C.docker_refusal("pool/dockerzfs/abc", docker)


@pytest.mark.parametrize("target, kind", [("tank/docker", "zfs"), ("tank", "zfs"), ("/srv/data", "btrfs"),
                                          ("/", "btrfs"), ("rpool/ROOT/debian:1", "zfs")])
def test_target_kinds(target, kind):
    assert C.target_kind(target) == kind


@pytest.mark.parametrize("target", ["", None, "tank/docker@snap", "tank//x", "tank/", "-tank", "/srv/../etc",
                                    "tank docker", "/srv/./x"])
def test_bad_targets(target):
    with pytest.raises(R.RetentionError):
        C.target_kind(target)


# -- commands -------------------------------------------------------------------------------------------

ZFS_LIST = (
    "tank/docker@cowstack_hourly_20241231T220000Z\t1735682400\t12288\t98304\n"
    "tank/docker@zfs-auto-snap_daily-2024-12-31-0000\t1735603200\t0\t98304\n"
    "tank/docker/abc@cowstack_hourly_20241231T220000Z\t1735682400\t0\t4096\n"
    "tank/docker@cowstack_hourly_20241231T230000Z\t1735686000\t0\t98304\n"
)


def test_zfs_list_is_one_command_and_children_are_ignored():
    assert F.zfs_list_argv("tank/docker") == ["zfs", "list", "-H", "-p", "-o", "name,creation,used,referenced",
                                              "-t", "snapshot", "-d", "1", "tank/docker"]
    rows = F.parse_zfs_list(ZFS_LIST, "tank/docker")
    assert [r["name"] for r in rows] == ["cowstack_hourly_20241231T220000Z", "zfs-auto-snap_daily-2024-12-31-0000",
                                         "cowstack_hourly_20241231T230000Z"]
    assert rows[0] == {"name": "cowstack_hourly_20241231T220000Z", "creation": 1735682400, "used": 12288,
                       "referenced": 98304}
    plan = R.plan_retention([r["name"] for r in rows], {"hourly": 1}, END)
    assert plan["destroy"] == ["cowstack_hourly_20241231T220000Z"]
    assert F.zfs_destroy_argvs("tank/docker", plan["destroy"]) == [
        ["zfs", "destroy", "tank/docker@cowstack_hourly_20241231T220000Z"]]
    assert F.zfs_snapshot_argv("tank/docker", "n") == ["zfs", "snapshot", "tank/docker@n"]


def test_ten_thousand_destroys_are_a_handful_of_commands():
    names = TWO_YEARS[:10000]
    argvs = F.zfs_destroy_argvs("tank/docker", names)
    assert len(argvs) == 4
    assert all(len(a) == 3 and a[:2] == ["zfs", "destroy"] and len(a[2]) <= F.ZFS_ARG_MAX for a in argvs)
    covered = []
    for argv in argvs:
        dataset, snaps = argv[2].split("@", 1)
        assert dataset == "tank/docker"
        covered.extend(snaps.split(","))
    assert covered == names
    paths = ["/srv/.snapshots/" + n for n in names]
    btrfs = F.btrfs_delete_argvs(paths)
    assert len(btrfs) == 1 and btrfs[0][3:] == paths
    assert len(F.btrfs_delete_argvs(paths, argv_max=100000)) == 5


@pytest.mark.parametrize("bad", ["a@b", "a,b", "a%b", "", "a/b"])
def test_unsafe_destroy_names_are_refused(bad):
    with pytest.raises(R.RetentionError):
        F.zfs_destroy_argvs("tank/docker", ["cowstack_hourly_20241231T220000Z", bad])


def test_monitor_verdicts():
    now = at("2025-01-01 00:00")
    epoch = int(now.timestamp())
    assert R.monitor({"tank/a": epoch - 600}, now, "2h", "6h") == (0, "SNAPSHOTS OK - tank/a: newest 10m old")
    assert R.monitor({"tank/a": epoch - 600, "/srv": epoch - 3 * 3600}, now, "2h", "6h")[0] == 1
    code, line = R.monitor({"tank/a": epoch - 600, "/srv": None}, now, "2h", "6h")
    assert code == 2 and "/srv: no snapshot" in line and line.startswith("SNAPSHOTS CRITICAL")
    assert R.monitor({"tank/a": epoch - 7 * 3600}, now, "2h", "6h")[0] == 2


# -- the tool's configuration ---------------------------------------------------------------------------

def test_config_is_normalised():
    config = C.check_config({"prefix": "cowstack", "policy": {"hourly": 24, "daily": 7}, "schedule": "0 * * * *",
                             "targets": ["tank/docker", {"target": "/srv/data/", "policy": {"daily": 3}}]})
    assert config["targets"] == [
        {"target": "tank/docker", "kind": "zfs"},
        {"target": "/srv/data", "kind": "btrfs", "snapshot_dir": "/srv/data/.snapshots",
         "policy": dict(R.check_policy({"daily": 3}))},
    ]
    assert config["monitor"] == {"warn": 7200, "critical": 21600}
    assert config["schedule"]["on_calendar"] == "*-*-* *:00:00"
    assert C.target_policy(config, config["targets"][0])["hourly"] == 24


def test_config_lists_every_problem_at_once():
    with pytest.raises(R.RetentionError) as err:
        C.check_config({"prefix": "zfs-auto-snap", "policy": {"daily": -1, "fortnightly": 2}, "schedule": "61 * * * *",
                        "targets": ["tank/docker", "tank/docker", {"target": "tank/x", "snapshot_dir": "/x"}, 5],
                        "monitor": {"warn": "7h", "critical": "6h"}, "colour": "blue"})
    text = str(err.value)
    for part in ("zfs-auto-snap", "policy.daily must not be negative", "unknown period 'fortnightly'",
                 "cron minute", "listed twice", "snapshot_dir is for btrfs", "targets[3]", "monitor.warn",
                 "unknown setting 'colour'"):
        assert part in text, part


def test_btrfs_targets_whose_snapshot_directories_mix_are_refused():
    """Names do not carry the target: two targets sharing a directory would prune each other's snapshots."""
    with pytest.raises(R.RetentionError) as err:
        C.check_config({"policy": {"daily": 7}, "targets": [
            {"target": "/srv/a", "snapshot_dir": "/srv/snaps"}, {"target": "/srv/b", "snapshot_dir": "/srv/snaps/"}]})
    assert "overlap" in str(err.value) and "/srv/a and /srv/b" in str(err.value)
    with pytest.raises(R.RetentionError) as err:
        C.check_config({"policy": {"daily": 7}, "targets": ["/srv/a", "/srv/a/.snapshots/keep"]})
    assert "/srv/a/.snapshots/keep is inside the snapshot directory of /srv/a" in str(err.value)
    # nested subvolumes with their own default directories are fine
    config = C.check_config({"policy": {"daily": 7}, "targets": ["/srv/a", "/srv/a/b", "tank/a"]})
    assert [t["snapshot_dir"] for t in config["targets"][:2]] == ["/srv/a/.snapshots", "/srv/a/b/.snapshots"]


class FakeStat(object):
    def __init__(self, mode, uid=0):
        self.st_mode, self.st_uid = mode, uid


def lstat_of(tree):
    def lstat(path):
        if path not in tree:
            raise FileNotFoundError(path)
        return tree[path]
    return lstat


DIR, LINK = 0o040000, 0o120000
SAFE = {"/": FakeStat(DIR | 0o755), "/srv": FakeStat(DIR | 0o755), "/srv/data": FakeStat(DIR | 0o755)}


@pytest.mark.parametrize("extra, path, reason", [
    ({}, "/srv/data/.snapshots", None),                                       # missing part: created root-only
    ({"/srv/data/.snapshots": FakeStat(DIR | 0o700)}, "/srv/data/.snapshots", None),
    ({"/srv/data": FakeStat(DIR | 0o755, uid=1000)}, "/srv/data/.snapshots", "/srv/data is owned by uid 1000"),
    ({"/srv/data/.snapshots": FakeStat(DIR | 0o777)}, "/srv/data/.snapshots", "writable by group or others"),
    ({"/srv": FakeStat(DIR | 0o775)}, "/srv/data/.snapshots", "/srv is writable"),
    ({"/srv": FakeStat(DIR | 0o1777)}, "/srv/data/.snapshots", None),         # sticky above a root-owned one
    ({"/srv/data/.snapshots": FakeStat(DIR | 0o1777)}, "/srv/data/.snapshots", "writable"),  # not the dir itself
    ({"/srv/data/.snapshots": FakeStat(LINK | 0o777, uid=1000)}, "/srv/data/.snapshots", "owned by uid 1000"),
    ({"/srv/data/.snapshots": FakeStat(LINK | 0o777)}, "/srv/data/.snapshots", None),  # root's link: checked below
])
def test_unsafe_directory(extra, path, reason):
    tree = dict(SAFE, **extra)
    found = F.unsafe_directory(path, lstat=lstat_of(tree), uid=0, realpath=lambda p: p)
    if reason is None:
        assert found is None
    else:
        assert reason in found


def test_unsafe_directory_follows_a_link_to_where_it_leads():
    tree = dict(SAFE, **{"/srv/data/.snapshots": FakeStat(LINK | 0o777), "/home": FakeStat(DIR | 0o755),
                         "/home/alice": FakeStat(DIR | 0o700, uid=1000)})
    found = F.unsafe_directory("/srv/data/.snapshots", lstat=lstat_of(tree), uid=0,
                               realpath=lambda p: "/home/alice/snaps")
    assert found == "/home/alice is owned by uid 1000, not by root"


def test_btrfs_listing_takes_only_subvolume_roots(tmp_path, monkeypatch):
    """Which entries count is decided by inode 256 (a subvolume's root); plain directories, files and links do
    not count, and a missing directory has no snapshots. The inode is faked here; the host test reads real ones."""
    (tmp_path / "cowstack_daily_1").mkdir()
    (tmp_path / "plain").mkdir()
    (tmp_path / "file").write_text("x")
    (tmp_path / "link").symlink_to(tmp_path / "cowstack_daily_1")
    subvolumes = {"cowstack_daily_1"}

    class Entry(object):
        def __init__(self, entry):
            self.name, self._entry = entry.name, entry

        def is_dir(self, follow_symlinks=True):
            return self._entry.is_dir(follow_symlinks=follow_symlinks)

        def stat(self, follow_symlinks=True):
            info = self._entry.stat(follow_symlinks=follow_symlinks)
            ino = F.BTRFS_SUBVOLUME_INODE if self.name in subvolumes else info.st_ino
            return os.stat_result((info.st_mode, ino) + tuple(info)[2:])

    scandir = os.scandir
    monkeypatch.setattr(F.os, "scandir", lambda path: [Entry(e) for e in scandir(path)])
    rows = F.list_btrfs_snapshots(str(tmp_path))
    assert rows == [{"name": "cowstack_daily_1", "creation": None, "used": None, "referenced": None}]
    assert F.list_btrfs_snapshots(str(tmp_path / "missing")) == []
