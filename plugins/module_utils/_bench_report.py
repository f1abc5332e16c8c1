# -*- coding: utf-8 -*-
# Copyright: cowstack.docker_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The storage benchmark's report on the controller, pure: each host's record, the file name it gets, the
fleet comparison and the Markdown. The plot is drawn by the bench_report action (matplotlib)."""

from __future__ import annotations

import hashlib
import re

from ansible_collections.cowstack.docker_storage.plugins.module_utils._bench import DESCRIPTIONS, FIGURE_NAMES

SCHEMA = "cowstack.docker_storage.bench/1"
KEPT = ("run_id", "hostname", "driver", "backing_fs", "data_root", "docker_version", "kernel", "parameters",
        "room", "figures", "baselines", "cleaned", "warnings_list")
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


def file_names(hosts):
    """``{host: file name without extension}``, distinct for distinct hosts and safe as a file name: a name
    that had to be changed (or that starts with a dot) gets a hash of the real name, so ``a/b`` and ``a_b``,
    or ``..``, cannot meet or escape the directory."""
    names = {}
    for host in hosts:
        safe = _UNSAFE.sub("_", host)
        if safe != host or safe.startswith(".") or not safe:
            safe = "%s-%s" % (safe.lstrip(".") or "host", hashlib.sha1(host.encode("utf-8")).hexdigest()[:8])
        names[host] = safe
    return names


def host_record(host, registered, controller_run):
    """What is kept of a host's registered storage_bench result, with its outcome: ``measured`` (every figure
    there), ``failed`` (the module failed or figures are missing) or None when there is no result at all."""
    if not isinstance(registered, dict) or not any(k in registered for k in ("figures", "failed", "msg")):
        return None
    record = dict((k, registered.get(k)) for k in KEPT if k in registered)
    record.update(schema=SCHEMA, host=host, controller_run=controller_run)
    figures = registered.get("figures") or {}
    missing = [name for name in FIGURE_NAMES if name not in figures]
    if registered.get("failed") or missing:
        record["outcome"] = "failed"
        record["error"] = registered.get("msg") or "figures missing: %s" % ", ".join(missing)
    else:
        record["outcome"] = "measured"
    return record


def column(record):
    fs = (record.get("backing_fs") or {}).get("fstype") or "?"
    return "%s (%s on %s)" % (record["host"], record.get("driver") or "?", fs)


def tick_label(record, width=18):
    """The plot's label of a host's bars: the host name broken after ``-``/``.``/``_`` into lines of at most
    ``width`` characters where it can be (a part longer than that stays whole), then ``(driver on fs)``."""
    fs = (record.get("backing_fs") or {}).get("fstype") or "?"
    lines, line = [], ""
    for part in re.findall(r"[^-._]+[-._]?|[-._]", record["host"]):
        if line and len(line) + len(part) > width:
            lines.append(line)
            line = ""
        line += part
    lines.append(line)
    lines.append("(%s on %s)" % (record.get("driver") or "?", fs))
    return "\n".join(lines)


def fmt(value, unit):
    if value is None:
        return "-"
    if unit == "B":
        return "%.2f MiB" % (value / 1048576.0)
    if value < 1:
        return "%.1f ms" % (value * 1000)
    return "%.2f s" % value


def cell(fig):
    unit = fig["unit"]
    cont = fig["container"]
    text = "%s [%s - %s]" % (fmt(cont["median"], unit), fmt(cont["min"], unit), fmt(cont["max"], unit))
    if fig.get("raw"):
        text += "; raw %s" % fmt(fig["raw"]["median"], unit)
    if fig.get("ratio") is not None:
        text += "; ratio %.2f" % fig["ratio"]
    return text


def fleet(records):
    """Per figure, each measured host's container median, the smallest, and each median relative to it."""
    measured = [r for r in records if r.get("outcome") == "measured"]
    comparison = {}
    for name in FIGURE_NAMES:
        medians = dict((r["host"], r["figures"][name]["container"]["median"]) for r in measured)
        if not medians:
            continue
        low = min(medians.values())
        comparison[name] = {
            "unit": measured[0]["figures"][name]["unit"],
            "medians": medians,
            "smallest": sorted(h for h, m in medians.items() if m == low),
            "relative": dict((h, (m / low) if low > 0 else None) for h, m in medians.items()),
        }
    return comparison


def markdown(records, pending=()):
    """The report: one table of the figures (a row per figure, a column per measured host), the fleet
    comparison when there are two hosts or more, the hosts that failed and the ones not measured."""
    measured = sorted((r for r in records if r.get("outcome") == "measured"), key=lambda r: r["host"])
    failed = sorted((r for r in records if r.get("outcome") == "failed"), key=lambda r: r["host"])
    out = ["# Docker storage benchmark", ""]
    if measured:
        out += ["Container figures: median [min - max] of the runs; raw: the same work on the data-root's "
                "filesystem itself (the physical limit); ratio: raw median / container median.", ""]
        for r in measured:
            par = r.get("parameters") or {}
            out.append("- %s: Docker %s, kernel %s, data-root %s, run %s; %s runs, %s warm starts, %s small files, "
                       "%s MiB written, %s MiB copied up" % (
                           column(r), r.get("docker_version"), r.get("kernel"), r.get("data_root"), r.get("run_id"),
                           par.get("runs"), par.get("warm_starts"), par.get("small_files"), par.get("write_mib"),
                           par.get("big_mib")))
        out += ["", "| figure | %s |" % " | ".join(column(r) for r in measured),
                "|---|%s" % ("---|" * len(measured))]
        for name in FIGURE_NAMES:
            out.append("| %s | %s |" % (name, " | ".join(cell(r["figures"][name]) for r in measured)))
        out += ["", "What each figure is:", ""]
        out += ["- `%s`: %s" % (name, DESCRIPTIONS[name]) for name in FIGURE_NAMES]
    if len(measured) > 1:
        comparison = fleet(measured)
        out += ["", "## Fleet comparison", "",
                "Each host's container median relative to the smallest of the fleet (1.00 = the smallest).", "",
                "| figure | %s | smallest |" % " | ".join(column(r) for r in measured),
                "|---|%s---|" % ("---|" * len(measured))]
        for name in FIGURE_NAMES:
            rel = comparison[name]["relative"]
            out.append("| %s | %s | %s |" % (name, " | ".join(
                "-" if rel[r["host"]] is None else "%.2f" % rel[r["host"]] for r in measured),
                ", ".join(comparison[name]["smallest"])))
    if failed:
        out += ["", "## Not measured: failed", ""]
        out += ["- %s: %s" % (r["host"], (r.get("error") or "").replace("\n", " ")) for r in failed]
    if pending:
        out += ["", "## Not measured in this run", "", "- " + ", ".join(sorted(pending))]
    return "\n".join(out) + "\n"
