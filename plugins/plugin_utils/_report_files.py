# -*- coding: utf-8 -*-
# Copyright: cowstack.docker_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The audit report's directory on the controller: which files it holds, and what a new write keeps of the old.

Layout under ``dest``: ``fleet.json``, ``fleet.md``, ``fleet.html`` (the fleet) and ``hosts/<host>.json`` (one per
host). Host files live in a directory of their own, so no host name (``fleet`` included) can collide with the
fleet's files; a name is encoded one to one (``%XX`` for every byte outside ``[A-Za-z0-9_.-]`` and for a leading
dot), so two hosts never share a file either.

The report describes one run. ``fleet.json`` names the run that wrote it (:func:`_controller.run_id`); a later
write of the same run (the next batch under ``serial``, another play) adds to it, a write of another run
replaces it. A host file of an earlier run whose host is not audited in this one is removed, and named in
``stale_removed``: kept, it would be read as current by anything that reads ``hosts/*.json``, and the fleet
files, which describe this run only, would disagree with the directory."""

from __future__ import annotations

import json
import os
import re

_KEEP = re.compile(r"[A-Za-z0-9_.-]")
HOSTS_DIR = "hosts"
FLEET_FILES = ("fleet.json", "fleet.md", "fleet.html", "fleet.prom")


def host_file_name(host):
    """``web-1.example`` -> ``web-1.example.json``; ``a/b`` -> ``a%2Fb.json``; ``.x`` -> ``%2Ex.json``."""
    out = []
    for index, char in enumerate(host):
        if _KEEP.match(char) and not (index == 0 and char == "."):
            out.append(char)
        else:
            out.extend("%%%02X" % byte for byte in char.encode("utf-8"))
    return "".join(out) + ".json"


def read_json(path):
    """A JSON object from ``path``, or None when it is missing, unreadable or not an object."""
    try:
        with open(path) as handle:
            data = json.load(handle)
    except (IOError, OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _is_host_summary(data):
    return isinstance(data, dict) and isinstance(data.get("lines"), list) and "host" in data


def merge(previous, run, summaries, missing):
    """What this write reports: ``(summaries, not_audited, stale hosts carried over)``.

    ``previous`` is the fleet.json found (or None). Of the same ``run`` its hosts are kept where this write has
    no newer result for them (an earlier ``serial`` batch); of another run nothing is kept."""
    summaries, missing, carried = dict(summaries), set(missing), []
    same_run = isinstance(previous, dict) and isinstance(previous.get("run"), dict) and previous["run"].get("id") == run
    if same_run and isinstance(previous.get("summaries"), dict):
        for host, summary in previous["summaries"].items():
            summaries.setdefault(host, summary)
        missing.update(previous.get("not_audited") or [])
        carried = list(previous.get("stale_removed") or [])
    missing.difference_update(summaries)
    return summaries, sorted(missing), carried


def stale_files(dest, summaries):
    """Files under ``dest`` that describe hosts this report does not hold: ``[(host or None, path)]``.

    Every ``hosts/*.json`` not of a host in ``summaries``, and host files of the layout before ``hosts/``
    (``<host>.json`` beside ``fleet.json``, recognised by their content)."""
    current = set(host_file_name(h) for h in summaries)
    found = []
    hosts_dir = os.path.join(dest, HOSTS_DIR)
    for directory, legacy in ((hosts_dir, False), (dest, True)):
        try:
            names = sorted(os.listdir(directory))
        except OSError:
            continue
        for name in names:
            path = os.path.join(directory, name)
            if not name.endswith(".json") or name in FLEET_FILES or not os.path.isfile(path):
                continue
            data = read_json(path)
            host = data.get("host") if isinstance(data, dict) else None
            # beside fleet.json only the layout before hosts/ put host files; this one never does
            if (legacy and _is_host_summary(data)) or (not legacy and name not in current):
                found.append((host, path))
    return found
