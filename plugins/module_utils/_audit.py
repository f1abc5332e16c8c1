# -*- coding: utf-8 -*-
# Copyright: cowstack.docker_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The audit's per-host summary and the fleet report. Pure, no I/O."""

from __future__ import annotations

from ._choice import choose
from ._retention import human_age


def _yes_no(value):
    return {True: "yes", False: "no"}.get(value, "unknown")


def _backing_line(backing):
    text = "%s on %s at %s (d_type %s" % (backing.get("fstype") or "unknown", backing.get("source") or "?",
                                          backing.get("mount_point") or "?", _yes_no(backing.get("d_type")))
    if backing.get("fstype") == "xfs":
        text += ", ftype=%s, pquota %s" % (backing.get("xfs_ftype"), _yes_no(backing.get("pquota")))
    return text + ")"


def _docker_line(docker):
    if not docker.get("installed"):
        return "not installed"
    if not docker.get("running"):
        return "%s, not running" % (docker.get("version") or "unknown version")
    return "%s, running %s (%s store), %s images, %s containers" % (
        docker.get("version"), docker.get("driver"), docker.get("image_store"), docker.get("images"),
        docker.get("containers"))


def human_bytes(value):
    """``12.3 GiB``; None for an unknown size."""
    if value is None:
        return None
    size, unit = float(value), "B"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(size) < 1024 or unit == "PiB":
            break
        size /= 1024
    return "%d %s" % (size, unit) if unit == "B" else "%.1f %s" % (size, unit)


def _space_line(backing, pool):
    text = "%s free of %s under data-root" % (human_bytes(backing.get("free_bytes")) or "unknown",
                                              human_bytes(backing.get("size_bytes")) or "unknown")
    if pool:
        text += "; %s %s: %s free of %s%s" % (pool.get("kind"), pool.get("name"),
                                              human_bytes(pool.get("free_bytes")) or "unknown",
                                              human_bytes(pool.get("size_bytes")) or "unknown",
                                              " (%s)" % pool["health"] if pool.get("health") else "")
    return text


def _snapshot_findings(snapshots):
    """``(lines, warnings)`` for the snapshot tool's targets (``storage_facts``' ``snapshots``)."""
    lines, warnings = [], []
    if not snapshots:
        return lines, warnings
    if snapshots.get("error"):
        warnings.append("snapshots: %s" % snapshots["error"])
        return lines, warnings
    for item in snapshots.get("targets") or []:
        if item.get("error"):
            text = "%s: %s" % (item["target"], item["error"])
        elif item.get("age_seconds") is None:
            text = "%s: no snapshot" % item["target"]
        else:
            text = "%s: newest %s old, %d kept" % (item["target"], human_age(item["age_seconds"]), item.get("count") or 0)
        state = item.get("state") or "UNKNOWN"
        lines.append("snapshots:   %s (%s)" % (text, state))
        if state != "OK":
            warnings.append("snapshots of %s (%s; warn at %s, critical at %s)" % (
                text, state, human_age(snapshots.get("warn") or 0), human_age(snapshots.get("critical") or 0)))
    return lines, warnings


def summarize(facts, policy="auto", storage_opts=None, host=None):
    """One host's audit: the choice for ``policy``, the drift from what runs now, and readable lines."""
    facts = facts or {}
    choice = choose(facts, policy, storage_opts=storage_opts)
    docker = facts.get("docker") or {}
    backing = facts.get("backing_fs") or {}
    kernel = (facts.get("kernel") or {}).get("release")
    configured = ((facts.get("daemon_json") or {}).get("content") or {}).get("storage-driver")
    current = docker.get("driver") if docker.get("running") else configured
    drift = []
    if choice["driver"] and current and current != choice["driver"]:
        drift.append("driver: %s now, policy %s recommends %s" % (current, policy, choice["driver"]))
    if choice["driver"] and docker.get("running") and docker.get("image_store") \
            and docker.get("image_store") != choice["image_store"]:
        drift.append("image store: %s now, %s recommended" % (docker.get("image_store"), choice["image_store"]))
    summary = {
        "host": host,
        "kernel": kernel,
        "data_root": facts.get("data_root"),
        "backing_fs": _backing_line(backing),
        "docker": _docker_line(docker),
        "current_driver": current,
        "default_driver": facts.get("default_driver", choice["default_driver"]),
        "default_driver_reason": facts.get("default_driver_reason"),
        "policy": policy,
        "recommended": choice["driver"],
        "image_store": choice["image_store"],
        "storage_opts": choice["storage_opts"],
        "prepare": choice["prepare"],
        "rules": choice["rules"],
        "reasons": choice["reasons"],
        "warnings": choice["warnings"],
        "errors": choice["errors"],
        "drift": drift,
        "prior_drivers": facts.get("prior_drivers") or [],
        "prepared": None,
        "data_root_free_bytes": backing.get("free_bytes"),
        "data_root_size_bytes": backing.get("size_bytes"),
        "pool": facts.get("pool"),
        "snapshots": facts.get("snapshots"),
    }
    lines = [
        "kernel:      %s" % kernel,
        "data-root:   %s" % summary["data_root"],
        "backing fs:  %s" % summary["backing_fs"],
        "docker:      %s" % summary["docker"],
        "driver now:  %s" % (current or "none configured"),
        "dockerd:     would pick %s" % (summary["default_driver"] or "nothing (it would refuse to start)"),
        "policy %s: %s (%s store)%s" % (policy, choice["driver"] or "no usable driver", choice["image_store"],
                                        ", prepare %s first" % choice["prepare"] if choice["prepare"] else ""),
    ]
    lines += ["  because %s" % r for r in choice["reasons"]]
    lines.append("space:       %s" % _space_line(backing, facts.get("pool")))
    snapshot_lines, snapshot_warnings = _snapshot_findings(facts.get("snapshots"))
    lines += snapshot_lines
    # the choice's own list is not changed: the role reads it; the report's warnings add the snapshots'
    summary["warnings"] = list(choice["warnings"]) + snapshot_warnings
    pool = facts.get("pool") or {}
    if pool.get("health") and pool["health"] != "ONLINE":
        summary["warnings"].append("pool %s is %s" % (pool.get("name"), pool["health"]))
    if not docker.get("installed") and configured:
        summary["prepared"] = "daemon.json sets storage-driver %s; Docker is not installed yet" % configured
        lines.append("prepared:    %s (data-root %s on %s)" % (summary["prepared"], summary["data_root"],
                                                               backing.get("fstype") or "unknown"))
    lines += ["drift:       %s" % d for d in drift]
    lines += ["WARNING:     %s" % w for w in summary["warnings"]]
    lines += ["ERROR:       %s" % e for e in choice["errors"]]
    summary["lines"] = lines
    return summary


def add_drift(summary, items, plan=None):
    """Add the role's drift (``_drift.drift``) and its plan's refusals to a summary, and to its lines."""
    summary["drift_items"] = list(items)
    summary["drift"] = list(summary.get("drift") or []) + ["%s: %s" % (i["area"], i["what"]) for i in items]
    # what the role would refuse (Docker not installed yet, a device in use...) is reported, not a failure of the
    # audit: the host fails only where the policy itself cannot be applied, as without the role's variables
    refusals = ["the role would refuse: %s" % e for e in (plan or {}).get("errors") or [] if e not in summary["errors"]]
    summary["role_refusals"] = refusals
    summary["warnings"] = list(summary["warnings"]) + refusals
    at = next((i for i, line in enumerate(summary["lines"]) if line.startswith(("WARNING:", "ERROR:"))),
              len(summary["lines"]))
    summary["lines"][at:at] = ["drift:       %s: %s" % (i["area"], i["what"]) for i in items]
    at = next((i for i, line in enumerate(summary["lines"]) if line.startswith("ERROR:")), len(summary["lines"]))
    summary["lines"][at:at] = ["WARNING:     %s" % r for r in refusals]
    return summary


def fleet_report(summaries):
    """``{host: summary}`` -> the fleet's counts and the hosts that need attention."""
    hosts = sorted(summaries)
    by_driver, by_recommended = {}, {}
    for name in hosts:
        summary = summaries[name] or {}
        now = summary.get("current_driver") or "none"
        by_driver[now] = by_driver.get(now, 0) + 1
        rec = summary.get("recommended") or "none"
        by_recommended[rec] = by_recommended.get(rec, 0) + 1
    return {
        "hosts": len(hosts),
        "drivers_now": by_driver,
        "recommended": by_recommended,
        "with_drift": [h for h in hosts if (summaries[h] or {}).get("drift")],
        "with_warnings": [h for h in hosts if (summaries[h] or {}).get("warnings")],
        "with_errors": [h for h in hosts if (summaries[h] or {}).get("errors")],
    }
