"""The benchmark playbook (cowstack.docker_storage.bench) end to end on this machine, against a private dockerd
on a loop btrfs (the btrfs driver): complete, well-formed output (every figure with min <= median <= max, the
JSON, a Markdown row per figure, the PNG), nothing the benchmark labelled left behind and its scratch directory
gone; check mode creating nothing; a run that does not fit refused before anything is created; a given image
used and kept; a run failing midway removing what it made. Small sizes, so the file takes about two minutes;
the figures themselves are not checked (this is not a timed test)."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

import realhost

BENCH_TASK = "Benchmark the storage driver against the raw filesystem"
SMALL = {"docker_storage_bench_runs": 2, "docker_storage_bench_warm_starts": 2, "docker_storage_bench_small_files": 50,
         "docker_storage_bench_write_mib": 8, "docker_storage_bench_big_mib": 8, "docker_storage_bench_become": False}
FIGURES = ("cold_start", "warm_start", "small_file_write", "small_file_read", "seq_write_fsync", "copy_up_append",
           "copy_up_size_rw", "copy_up_space", "layer_shared_size")
RAW = {"small_file_write", "small_file_read", "seq_write_fsync", "copy_up_append", "copy_up_space",
       "layer_shared_size"}


@pytest.fixture(scope="module")
def daemon():
    try:
        with realhost.loop_filesystem("btrfs", "2G") as mnt:
            data_root = os.path.join(mnt, "docker")
            with realhost.dockerd(data_root, driver="btrfs") as started:
                assert started.started, started.error_line()
                yield started, data_root
    except realhost.Unsupported as exc:
        pytest.skip(str(exc))


def docker(daemon_, *args):
    return realhost.run(["docker", "-H", "unix://" + daemon_.socket] + list(args)).stdout.split()


def state(daemon_, data_root):
    """Everything the benchmark could leave: containers, images (all, and those carrying its label), the
    data-root's hidden scratch directories."""
    return {"containers": sorted(docker(daemon_, "ps", "-aq")),
            "images": sorted(docker(daemon_, "images", "-aq")),
            "labelled": sorted(docker(daemon_, "ps", "-aq", "--filter", "label=cowstack.bench") +
                               docker(daemon_, "images", "-q", "--filter", "label=cowstack.bench")),
            "scratch": sorted(n for n in os.listdir(data_root) if n.startswith(".cowstack-bench"))}


def bench(daemon_, tmp_path, check=False, **extra):
    extra_vars = dict(SMALL, docker_storage_bench_docker_host="unix://" + daemon_.socket,
                      docker_storage_bench_report_dir=str(tmp_path / "report"), **extra)
    proc, document = realhost.run_playbook("playbooks/bench.yml", extra_vars, check=check)
    assert document is not None, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc, document, realhost.task_result(document, BENCH_TASK)


def matplotlib_in_venv():
    probe = [os.path.join(realhost.VENV_BIN, "python"), "-c", "import matplotlib"]
    return subprocess.run(probe, capture_output=True, env=realhost.ansible_env(), check=False).returncode == 0


def test_a_run_writes_complete_well_formed_output_and_leaves_nothing(daemon, tmp_path):
    daemon_, data_root = daemon
    before = state(daemon_, data_root)
    proc, document, result = bench(daemon_, tmp_path)
    assert proc.returncode == 0, result
    assert not result.get("changed") and result["driver"] == "btrfs" and result["backing_fs"]["fstype"] == "btrfs"
    assert result["data_root"] == data_root and result["docker_version"] and result["kernel"]
    assert set(result["figures"]) == set(FIGURES)
    for name, fig in result["figures"].items():
        sides = ("container", "raw") if name in RAW else ("container",)
        assert (fig["raw"] is None) == (name not in RAW), name
        for side in sides:
            stats = fig[side]
            assert stats["min"] <= stats["median"] <= stats["max"], (name, side, stats)
            assert stats["runs"] and all(v >= 0 for v in stats["runs"]), (name, side)
        assert fig["unit"] in ("s", "B")
    assert len(result["figures"]["cold_start"]["container"]["runs"]) == 2
    assert len(result["figures"]["warm_start"]["container"]["runs"]) == 4
    assert result["figures"]["copy_up_size_rw"]["container"]["min"] >= 8 << 20  # the whole file copied up
    assert result["cleaned"]["scratch_removed"] and len(result["cleaned"]["images"]) == 5
    # nothing the benchmark made is left, and nothing else was touched
    assert state(daemon_, data_root) == before and before["labelled"] == [] and before["scratch"] == []

    report = tmp_path / "report"
    host = json.loads((report / "hosts" / "localhost.json").read_text())
    assert host["outcome"] == "measured" and host["figures"] == result["figures"] and host["host"] == "localhost"
    fleet = json.loads((report / "fleet.json").read_text())
    assert fleet["measured"] == ["localhost"] and fleet["failed"] == {} and fleet["not_measured"] == []
    assert set(fleet["comparison"]) == set(FIGURES)
    lines = (report / "bench.md").read_text().splitlines()
    assert "| figure | localhost (btrfs on btrfs) |" in lines
    for name in FIGURES:
        assert len([line for line in lines if line.startswith("| %s | " % name)]) == 1, name
    if matplotlib_in_venv():
        assert (report / "bench.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    else:
        assert "pip install matplotlib" in proc.stdout + proc.stderr and not (report / "bench.png").exists()


def test_check_mode_creates_nothing(daemon, tmp_path):
    daemon_, data_root = daemon
    before = state(daemon_, data_root)
    proc, _document, result = bench(daemon_, tmp_path, check=True)
    assert proc.returncode == 0, result
    assert result["figures"] == {} and result["room"]["ok"] and result["plan"]["figures"] == list(FIGURES)
    assert state(daemon_, data_root) == before
    assert not (tmp_path / "report").exists()


def test_a_run_that_does_not_fit_is_refused_before_anything_is_created(daemon, tmp_path):
    daemon_, data_root = daemon
    before = state(daemon_, data_root)
    proc, _document, result = bench(daemon_, tmp_path, docker_storage_bench_big_mib=4096)
    assert proc.returncode != 0 and result["failed"]
    assert result["msg"].startswith("refused before creating anything"), result["msg"]
    assert "MiB available" in result["msg"] and not result["room"]["ok"]
    assert state(daemon_, data_root) == before
    fleet = json.loads((tmp_path / "report" / "fleet.json").read_text())
    assert list(fleet["failed"]) == ["localhost"] and fleet["measured"] == []
    assert "refused before creating anything" in (tmp_path / "report" / "bench.md").read_text()


def import_image(daemon_, tmp_path, ref, applets):
    """An image of /bin/busybox with ``applets`` linked, imported as ``ref`` (not labelled by the benchmark)."""
    tar = tmp_path / "mine.tar"
    work = tmp_path / "root"
    (work / "bin").mkdir(parents=True)
    realhost.run(["cp", "/bin/busybox", str(work / "bin" / "busybox")])
    for applet in applets:
        os.symlink("busybox", str(work / "bin" / applet))
    realhost.run(["tar", "-C", str(work), "-cf", str(tar), "bin"])
    docker(daemon_, "import", str(tar), ref)


def test_a_given_image_is_used_and_kept(daemon, tmp_path):
    """With docker_storage_bench_image, an image that was there before (here: imported by the test) is the base
    of the run and is still there after it; only what the run made is removed."""
    daemon_, data_root = daemon
    import_image(daemon_, tmp_path, "mine/busybox:1", ("sh", "true", "sleep", "dd", "cat", "mkdir", "rm", "echo"))
    try:
        before = state(daemon_, data_root)
        proc, _document, result = bench(daemon_, tmp_path, docker_storage_bench_image="mine/busybox:1")
        assert proc.returncode == 0, result
        assert result["plan"]["image"] == "mine/busybox:1" and len(result["cleaned"]["images"]) == 4
        assert set(result["figures"]) == set(FIGURES)
        assert state(daemon_, data_root) == before and docker(daemon_, "images", "-q", "mine/busybox:1")
    finally:
        docker(daemon_, "rmi", "mine/busybox:1")


def test_a_run_failing_midway_removes_what_it_made(daemon, tmp_path):
    """An image without sleep (busybox's shell runs its applets without links, but docker run needs the file):
    the run fails when it starts its long-running container, after it built its images and the raw side's
    files; what it made is removed all the same, the scratch directory too, and the host is reported failed."""
    daemon_, data_root = daemon
    import_image(daemon_, tmp_path, "mine/nosleep:1", ("sh", "true"))
    try:
        before = state(daemon_, data_root)
        proc, _document, result = bench(daemon_, tmp_path, docker_storage_bench_image="mine/nosleep:1")
        assert proc.returncode != 0 and result["failed"]
        assert "docker run failed" in result["msg"] and "cleanup" not in result["msg"], result["msg"]
        assert result["cleaned"]["scratch_removed"] and len(result["cleaned"]["images"]) == 4
        assert state(daemon_, data_root) == before
        fleet = json.loads((tmp_path / "report" / "fleet.json").read_text())
        assert list(fleet["failed"]) == ["localhost"]
    finally:
        docker(daemon_, "rmi", "mine/nosleep:1")


def test_the_facts_count_untagged_images(daemon, tmp_path):
    """storage_facts counts the images without a tag (the preflight refuses a switch of image store with them)."""
    daemon_, data_root = daemon
    import_image(daemon_, tmp_path, "mine/tagged:1", ("sh",))
    tar = tmp_path / "mine.tar"
    untagged = docker(daemon_, "import", "--change", "LABEL n=2", str(tar))[0]
    try:
        facts = realhost.storage_facts(data_root, docker_host="unix://" + daemon_.socket)
        assert facts["docker"]["images"] == 2 and facts["docker"]["untagged_images"] == 1, facts["docker"]
    finally:
        docker(daemon_, "rmi", "mine/tagged:1", untagged)
