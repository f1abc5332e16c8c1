"""The snapshot tool's metrics file on real btrfs, parsed with prometheus_client's parser as Prometheus'
node_exporter textfile collector reads it: after a run (counts, the newest snapshot's time and age, space, the
run's outcome, the --check verdict), after --metrics alone (the last run's lines kept), and with a target that
cannot be read (0, UNKNOWN)."""

from __future__ import annotations

import os
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

import snapshot_helpers as H
from ansible_collections.cowstack.docker_storage.plugins.module_utils import _retention as R

pytestmark = pytest.mark.root
NOW = int(time.time())
HOUR = 3600


def samples(path):
    """{(metric, target or None): value} from the file, through Prometheus' own parser."""
    with open(path) as handle:
        text = handle.read()
    found = {}
    for family in text_string_to_metric_families(text):
        assert family.type == "gauge" and family.documentation, family
        for sample in family.samples:
            found[(sample.name, sample.labels.get("target"))] = sample.value
    return found


@pytest.fixture
def tool(loopfs, tmp_path):
    with loopfs("btrfs") as mnt:
        data = H.subvolume(os.path.join(mnt, "data"))
        other = H.subvolume(os.path.join(mnt, "other"))
        for hours in (5, 3, 1):
            H.snapshot(data, os.path.join(data, ".snapshots", R.snapshot_name("cowstack", "hourly", NOW - hours * HOUR)))
        H.snapshot(data, os.path.join(data, ".snapshots", "before-upgrade"))  # not ours: not counted
        metrics = str(tmp_path / "textfile" / "cowstack.prom")
        config = H.write_json(str(tmp_path / "snapshot.json"), {
            "policy": {"hourly": 10}, "targets": [data, other], "lock_file": str(tmp_path / "lock"),
            "metrics_file": metrics})
        yield {"tool": H.install_tool(str(tmp_path / "lib")), "config": config, "metrics": metrics, "data": data,
               "other": other, "mnt": mnt, "tmp": tmp_path}


def test_a_run_writes_the_metrics(tool):
    proc = H.run_tool(tool["tool"], tool["config"], "--now", NOW)
    assert proc.returncode == 0, proc.stderr
    found = samples(tool["metrics"])
    assert found[("cowstack_snapshot_count", tool["data"])] == 4            # 3 + the one this run took
    assert found[("cowstack_snapshot_count", tool["other"])] == 1
    assert found[("cowstack_snapshot_newest_timestamp_seconds", tool["data"])] == NOW
    assert found[("cowstack_snapshot_newest_age_seconds", tool["data"])] == 0
    st = os.statvfs(tool["mnt"])
    assert found[("cowstack_storage_available_bytes", tool["data"])] == pytest.approx(
        st.f_bavail * st.f_frsize, rel=0.05)
    assert found[("cowstack_storage_used_bytes", tool["data"])] > 0
    assert found[("cowstack_snapshot_target_ok", tool["other"])] == 1
    assert found[("cowstack_snapshot_last_run_success", None)] == 1
    assert found[("cowstack_snapshot_last_run_timestamp_seconds", None)] == NOW
    assert found[("cowstack_snapshot_check_status", None)] == 0
    assert sorted(os.listdir(os.path.dirname(tool["metrics"]))) == ["cowstack.prom"]   # no temporary file left


def test_metrics_alone_keep_the_last_run_and_age_the_newest(tool):
    assert H.run_tool(tool["tool"], tool["config"], "--now", NOW).returncode == 0
    later = NOW + 3 * HOUR
    proc = H.run_tool(tool["tool"], tool["config"], "--metrics", "--now", later)
    assert proc.returncode == 0, proc.stderr
    found = samples(tool["metrics"])
    assert found[("cowstack_snapshot_newest_age_seconds", tool["data"])] == 3 * HOUR
    assert found[("cowstack_snapshot_last_run_timestamp_seconds", None)] == NOW       # carried from the run
    assert found[("cowstack_snapshot_check_status", None)] == 1                      # 3h old: WARNING (2h/6h)
    assert found[("cowstack_snapshot_count", tool["data"])] == 4                     # nothing taken


def test_a_target_that_cannot_be_read(tool):
    assert H.run_tool(tool["tool"], tool["config"], "--now", NOW).returncode == 0
    os.rename(tool["other"], tool["other"] + ".moved")                               # gone
    proc = H.run_tool(tool["tool"], tool["config"], "--metrics", "--now", NOW + 60)
    assert proc.returncode == 1 and "metrics: %s" % tool["other"] in proc.stderr, proc.stderr
    found = samples(tool["metrics"])
    assert found[("cowstack_snapshot_target_ok", tool["other"])] == 0
    assert ("cowstack_snapshot_count", tool["other"]) not in found                   # unknown is left out
    assert found[("cowstack_snapshot_check_status", None)] == 3
    assert found[("cowstack_snapshot_count", tool["data"])] == 4


def test_no_metrics_file_configured(tool):
    doc = {"policy": {"hourly": 10}, "targets": [tool["data"]], "lock_file": str(tool["tmp"] / "lock")}
    config = H.write_json(str(tool["tmp"] / "plain.json"), doc)
    assert H.run_tool(tool["tool"], config, "--now", NOW).returncode == 0
    assert not os.path.exists(tool["metrics"])
    proc = H.run_tool(tool["tool"], config, "--metrics")
    assert proc.returncode == 2 and "sets no metrics_file" in proc.stderr


def test_metrics_wait_for_a_running_run(tool):
    """--metrics takes the run's lock: while a run holds it, the refresh does not write (a copy older than the
    run's own would hide its outcome)."""
    import fcntl
    assert H.run_tool(tool["tool"], tool["config"], "--now", NOW).returncode == 0
    before = open(tool["metrics"]).read()
    with open(str(tool["tmp"] / "lock"), "a") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        proc = H.run_tool(tool["tool"], tool["config"], "--metrics", "--lock-timeout", "1", "--now", NOW + 60)
    assert proc.returncode == 75 and "another run holds" in proc.stderr, proc.stderr
    assert open(tool["metrics"]).read() == before
