"""The benchmark report on the controller: safe host file names, records, the Markdown table, the fleet
comparison, stale files of an earlier run, serial batches and the plot (or the warning without matplotlib)."""

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.cowstack.docker_storage.plugins.action import bench_report as A
from ansible_collections.cowstack.docker_storage.plugins.module_utils import _bench as B
from ansible_collections.cowstack.docker_storage.plugins.module_utils import _bench_report as R


def result(driver="overlay2", scale=1.0):
    figures = {}
    for name in B.FIGURE_NAMES:
        raw = [0.5, 0.6, 0.7] if B.UNITS[name] == "s" else None
        figures[name] = B.figure(name, [x * scale for x in (1.0, 2.0, 3.0)], raw)
    return {"changed": False, "run_id": "r1", "driver": driver, "backing_fs": {"fstype": "ext4"},
            "docker_version": "26.1.5", "kernel": "6.1.0", "data_root": "/var/lib/docker",
            "parameters": {"runs": 3}, "figures": figures}


def test_file_names_are_safe_and_distinct():
    names = R.file_names(["web1", "a/b", "a_b", "..", ".hidden", "fleet", "bench"])
    assert names["web1"] == "web1" and names["fleet"] == "fleet" and names["a_b"] == "a_b"
    assert names["a/b"].startswith("a_b-") and names["a/b"] != names["a_b"]
    assert "/" not in names[".."] and not names[".."].startswith(".") and not names[".hidden"].startswith(".")
    assert len(set(names.values())) == len(names)


def test_host_record_outcomes():
    assert R.host_record("h", None, "run") is None
    assert R.host_record("h", {"skipped": True}, "run") is None
    ok = R.host_record("h", result(), "run")
    assert ok["outcome"] == "measured" and ok["schema"] == R.SCHEMA and ok["controller_run"] == "run"
    failed = R.host_record("h", {"failed": True, "msg": "refused before creating anything: ..."}, "run")
    assert failed["outcome"] == "failed" and failed["error"].startswith("refused")
    partial = result()
    del partial["figures"]["copy_up_space"]
    assert R.host_record("h", partial, "run")["error"] == "figures missing: copy_up_space"


def test_markdown_has_a_row_per_figure_and_a_column_per_host():
    records = [R.host_record("b", result("btrfs", 2.0), "x"), R.host_record("a", result(), "x"),
               R.host_record("c", {"failed": True, "msg": "no dockerd"}, "x")]
    text = R.markdown(records, pending=["d"])
    rows = [line for line in text.splitlines() if line.startswith("| ") and line.split(" | ")[0][2:] in B.FIGURE_NAMES]
    assert len(rows) == 2 * len(B.FIGURE_NAMES)  # the figures and the fleet comparison
    assert "| figure | a (overlay2 on ext4) | b (btrfs on ext4) |" in text
    assert "| seq_write_fsync | 2.00 s [1.00 s - 3.00 s]; raw 600.0 ms; ratio 0.30 |" in text
    assert "| seq_write_fsync | 1.00 | 2.00 | a |" in text
    assert "- c: no dockerd" in text and "## Not measured in this run" in text and "- d" in text


def test_fleet_comparison_relative_to_the_smallest():
    records = [R.host_record("a", result(), "x"), R.host_record("b", result(scale=3.0), "x")]
    comparison = R.fleet(records)
    assert comparison["cold_start"]["smallest"] == ["a"]
    assert comparison["cold_start"]["relative"] == {"a": 1.0, "b": 3.0}


def read(path):
    with open(path) as handle:
        return json.load(handle)


def test_report_files_stale_runs_and_serial_batches(tmp_path, monkeypatch):
    monkeypatch.setattr(A, "plot", lambda records: b"\x89PNG\r\n\x1a\nfake")
    dest = str(tmp_path / "report")
    # an earlier run measured "old" and "a"; and a file that is not ours
    A.write_report(dest, ["old", "a"], {"old": result(), "a": result()}, "run-1")
    with open(os.path.join(dest, "hosts", "notes.json"), "w") as handle:
        handle.write('{"mine": true}')
    # this run, batch 1 of 2 (serial): only "a" has a result yet; a host is named like a report file
    hosts = ["a", "fleet", "b"]
    first = A.write_report(dest, hosts, {"a": result(), "fleet": result("btrfs")}, "run-2")
    assert sorted(first["stale_removed"]) == ["a.json", "old.json"]
    assert sorted(os.listdir(os.path.join(dest, "hosts"))) == ["a.json", "fleet.json", "notes.json"]
    fleet = read(os.path.join(dest, "fleet.json"))
    assert fleet["measured"] == ["a", "fleet"] and fleet["not_measured"] == ["b"]
    assert fleet["schema"] == R.SCHEMA  # the host named fleet did not overwrite the fleet file
    # batch 2: "b" fails; batch 1's hosts are still in the report
    second = A.write_report(dest, hosts, {"b": {"failed": True, "msg": "no room"}}, "run-2")
    assert second["stale_removed"] == ["a.json", "old.json"]  # what batch 1 removed stays in the report
    fleet = read(os.path.join(dest, "fleet.json"))
    assert fleet["measured"] == ["a", "fleet"] and fleet["failed"] == {"b": "no room"} and fleet["not_measured"] == []
    text = open(os.path.join(dest, "bench.md")).read()
    assert "a (overlay2 on ext4)" in text and "fleet (btrfs on ext4)" in text and "- b: no room" in text
    with open(os.path.join(dest, "bench.png"), "rb") as handle:
        assert handle.read(8) == b"\x89PNG\r\n\x1a\n"


def test_without_matplotlib_a_warning_and_no_stale_plot(tmp_path, monkeypatch):
    dest = str(tmp_path / "report")
    os.makedirs(dest)
    with open(os.path.join(dest, "bench.png"), "wb") as handle:
        handle.write(b"an earlier run's plot")

    def no_matplotlib(records):
        raise ImportError("No module named 'matplotlib'")
    monkeypatch.setattr(A, "plot", no_matplotlib)
    report = A.write_report(dest, ["a"], {"a": result()}, "run")
    assert report["warnings"] and "pip install matplotlib" in report["warnings"][0]
    assert not os.path.exists(os.path.join(dest, "bench.png"))
    assert read(os.path.join(dest, "fleet.json"))["measured"] == ["a"]


def test_the_real_plot_is_a_png():
    pytest.importorskip("matplotlib")
    records = [R.host_record("a", result(), "x"), R.host_record("b", result("zfs", 2.0), "x")]
    assert A.plot(records)[:8] == b"\x89PNG\r\n\x1a\n"


def test_tick_labels_wrap_long_host_names():
    record = R.host_record("debiansid-containerd-overlayfs-ext4", result("overlayfs"), "x")
    assert R.tick_label(record) == "debiansid-\ncontainerd-\noverlayfs-ext4\n(overlayfs on ext4)"
    assert R.tick_label(R.host_record("web1", result(), "x")) == "web1\n(overlay2 on ext4)"
    # a part longer than the width stays whole, on a line of its own
    long = R.tick_label(R.host_record("a-averyveryverylongname-b", result(), "x"), width=8)
    assert long.split("\n")[:3] == ["a-", "averyveryverylongname-", "b"]


def test_plot_labels_do_not_overlap():
    """Rendered with the host names of the Debian unstable run, where they overlapped: on every panel the
    tick labels' boxes are apart."""
    pytest.importorskip("matplotlib")
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib import pyplot

    hosts = ["debiansid-containerd-btrfs", "debiansid-containerd-overlayfs-ext4", "debiansid-overlay2-ext4",
             "a-host-with-an-even-longer-name-than-those.example.org"]
    records = [R.host_record(h, result("overlay2", 1.0 + i), "x") for i, h in enumerate(hosts)]
    figures = []
    real_close = pyplot.close
    pyplot.close = figures.append  # keep the figure the plot draws to measure it
    try:
        png = A.plot(records)
    finally:
        pyplot.close = real_close
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(figures) == 1
    fig = figures[0]
    renderer = fig.canvas.get_renderer()
    panels = [ax for ax in fig.axes if ax.get_xticklabels() and ax.axison]
    assert len(panels) == len(B.FIGURE_NAMES)
    for ax in panels:
        boxes = sorted((t.get_window_extent(renderer) for t in ax.get_xticklabels()), key=lambda b: b.x0)
        assert len(boxes) == len(hosts)
        for left, right in zip(boxes, boxes[1:]):
            assert left.x1 < right.x0, (ax.get_title(), left, right)
    real_close(fig)
