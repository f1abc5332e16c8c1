# -*- coding: utf-8 -*-
# Copyright: cowstack.docker_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write the storage benchmark's report on the controller; the managed hosts are not contacted."""

from __future__ import annotations

import io
import json
import os

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.action import ActionBase

from ansible_collections.cowstack.docker_storage.plugins.module_utils import _bench_report as R
from ansible_collections.cowstack.docker_storage.plugins.module_utils._atomic import write_atomic
from ansible_collections.cowstack.docker_storage.plugins.module_utils._bench import FIGURE_NAMES
from ansible_collections.cowstack.docker_storage.plugins.plugin_utils._controller import run_id

HOSTS_DIR = "hosts"
MARKDOWN = "bench.md"
FLEET = "fleet.json"
PNG = "bench.png"


def _write_json(path, data):
    write_atomic(path, json.dumps(data, indent=2, sort_keys=True) + "\n", 0o644)


def read_records(directory):
    """``{file name: record}`` of the benchmark's host files in ``directory``; other files are not ours."""
    records = {}
    for name in sorted(os.listdir(directory)) if os.path.isdir(directory) else []:
        if not name.endswith(".json"):
            continue
        try:
            with open(os.path.join(directory, name)) as handle:
                data = json.load(handle)
        except (IOError, OSError, ValueError):
            continue
        if isinstance(data, dict) and data.get("schema") == R.SCHEMA:
            records[name] = data
    return records


def plot(records):
    """PNG bytes: one panel per figure, a bar per host (container median, min-max whiskers) and the raw
    median beside it. ImportError without matplotlib."""
    import matplotlib  # pylint: disable=import-outside-toplevel
    matplotlib.use("Agg")
    from matplotlib import pyplot  # pylint: disable=import-outside-toplevel

    measured = sorted(records, key=lambda r: r["host"])
    cols = 3
    rows = (len(FIGURE_NAMES) + cols - 1) // cols
    labels = [R.tick_label(r) for r in measured]
    # Each bar pair gets room for its widest label line (7 pt text is about 0.06 in a character).
    slot = max(1.2, 0.06 * max(len(line) for label in labels for line in label.split("\n")) + 0.2)
    lines = max(label.count("\n") + 1 for label in labels)
    width = max(4.0, slot * len(measured) + 1.0)
    fig, axes = pyplot.subplots(rows, cols, figsize=(cols * width, rows * (3.0 + 0.12 * lines)), squeeze=False)
    for index, name in enumerate(FIGURE_NAMES):
        ax = axes[index // cols][index % cols]
        unit = measured[0]["figures"][name]["unit"]
        scale, shown = (1.0 / 1048576, "MiB") if unit == "B" else (1000.0, "ms")
        xs = list(range(len(measured)))
        conts = [r["figures"][name]["container"] for r in measured]
        med = [c["median"] * scale for c in conts]
        err = [[(c["median"] - c["min"]) * scale for c in conts], [(c["max"] - c["median"]) * scale for c in conts]]
        raws = [r["figures"][name].get("raw") for r in measured]
        shift = 0.2 if any(raws) else 0.0
        ax.bar([x - shift for x in xs], med, 0.4, yerr=err, capsize=3, label="container", color="#4477aa")
        if any(raws):
            ax.bar([x + 0.2 for x in xs], [(raw["median"] * scale) if raw else 0 for raw in raws], 0.4,
                   yerr=[[((raw["median"] - raw["min"]) * scale) if raw else 0 for raw in raws],
                         [((raw["max"] - raw["median"]) * scale) if raw else 0 for raw in raws]],
                   capsize=3, label="raw filesystem", color="#bbbbbb", hatch="//")
        ax.set_title(name, fontsize=10)
        ax.set_ylabel(shown)
        ax.set_xticks(xs)
        ax.set_xticklabels(labels, fontsize=7)
        ax.legend(fontsize=7)
    for index in range(len(FIGURE_NAMES), rows * cols):
        axes[index // cols][index % cols].axis("off")
    fig.suptitle("Docker storage benchmark: container median [min-max] beside the raw filesystem")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    pyplot.close(fig)
    return buf.getvalue()


def write_report(dest, hosts, results, run, draw=True):
    """Write this batch's host files, drop the host files an earlier run left, and rewrite the Markdown, the
    fleet JSON and the plot from every host file of this run (earlier ``serial`` batches included)."""
    hosts_dir = os.path.join(dest, HOSTS_DIR)
    if not os.path.isdir(hosts_dir):
        os.makedirs(hosts_dir)
    stale = []
    for name, record in read_records(hosts_dir).items():
        if record.get("controller_run") != run:
            os.unlink(os.path.join(hosts_dir, name))
            stale.append(name)
    try:  # an earlier batch of this run already removed some
        with open(os.path.join(dest, FLEET)) as handle:
            earlier = json.load(handle)
        if earlier.get("controller_run") == run:
            stale = sorted(set(stale) | set(earlier.get("stale_removed") or []))
    except (IOError, OSError, ValueError, AttributeError):
        pass
    names = R.file_names(hosts)
    written, no_result = [], []
    for host in hosts:
        record = R.host_record(host, results.get(host), run)
        if record is None:
            no_result.append(host)
            continue
        path = os.path.join(hosts_dir, names[host] + ".json")
        _write_json(path, record)
        written.append(path)
    records = list(read_records(hosts_dir).values())
    seen = set(r["host"] for r in records)
    measured = [r for r in records if r.get("outcome") == "measured"]
    pending = sorted(set(hosts) - seen)
    fleet = {"schema": R.SCHEMA, "controller_run": run,
             "measured": sorted(r["host"] for r in measured),
             "failed": dict((r["host"], r.get("error")) for r in records if r.get("outcome") == "failed"),
             "not_measured": pending, "stale_removed": sorted(stale),
             "comparison": R.fleet(measured),
             "files": dict((r["host"], os.path.join(HOSTS_DIR, names.get(r["host"]) or "") + ".json")
                           for r in records if r["host"] in names)}
    _write_json(os.path.join(dest, FLEET), fleet)
    write_atomic(os.path.join(dest, MARKDOWN), R.markdown(records, pending), 0o644)
    warnings = []
    png = os.path.join(dest, PNG)
    if draw and measured:
        try:
            write_atomic(png, plot(measured), 0o644)
            written.append(png)
        except ImportError:
            warnings.append("matplotlib is not installed on the controller, so %s was not drawn (the JSON and "
                            "Markdown are written): pip install matplotlib" % png)
    if png not in written and os.path.exists(png):
        os.unlink(png)  # an earlier run's plot would not match this report
    return dict(files=written + [os.path.join(dest, FLEET), os.path.join(dest, MARKDOWN)], fleet=fleet,
                stale_removed=stale, warnings=warnings)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("dest", "hosts", "result_var", "plot"))
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(ActionModule, self).run(tmp, task_vars)
        args = self.validate_argument_spec(argument_spec=dict(
            dest=dict(type="path", required=True),
            hosts=dict(type="list", elements="str", required=True),
            result_var=dict(type="str", default="docker_storage_bench_result"),
            plot=dict(type="bool", default=True),
        ))[1]
        hostvars = task_vars.get("hostvars") or {}
        results = {}
        for host in args["hosts"]:
            try:
                results[host] = hostvars[host].get(args["result_var"])
            except KeyError:
                results[host] = None
        try:
            report = write_report(args["dest"], args["hosts"], results, run_id(), args["plot"])
        except (IOError, OSError) as exc:
            raise AnsibleActionFail("cannot write the benchmark report under %s: %s (choose another "
                                    "docker_storage_bench_report_dir)" % (args["dest"], to_native(exc)))
        for warning in report.pop("warnings"):
            self._display.warning(warning)
        with open(os.path.join(args["dest"], MARKDOWN)) as handle:
            lines = handle.read().splitlines()
        result.update(changed=False, _ansible_verbose_always=True, lines=lines, **report)
        return result
