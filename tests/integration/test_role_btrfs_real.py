"""The docker_storage role on this host: btrfs on a loop device at a private data-root.

Check mode (changes nothing), apply, apply again (changed=0), check again (changed=0); safe mode and bad input
refused before any change."""

from __future__ import annotations

import json
import os
import re
import subprocess

import pytest

import realhost


def play(tmp_path, extra, check=False):
    playbook = tmp_path / "play.yml"
    playbook.write_text("- hosts: localhost\n  gather_facts: false\n  roles:\n"
                        "    - role: cowstack.docker_storage.docker_storage\n")
    argv = [os.path.join(realhost.VENV_BIN, "ansible-playbook"), str(playbook), "-e", json.dumps(extra)]
    if check:
        argv += ["--check", "--diff"]
    env = dict(realhost.ansible_env(), ANSIBLE_STDOUT_CALLBACK="default", ANSIBLE_LOAD_CALLBACK_PLUGINS="0")
    proc = subprocess.run(argv, cwd=realhost.ROOT, env=env, capture_output=True, text=True, check=False)
    match = re.search(r"localhost\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", proc.stdout)
    assert match, proc.stdout[-3000:] + proc.stderr[-2000:]
    return proc, dict(zip(("ok", "changed", "unreachable", "failed"), map(int, match.groups())))


@pytest.fixture
def site(scratch):
    return dict(scratch, data_root=scratch["target"])


def vars_for(site, devices, **extra):
    return dict({"docker_storage_policy": "large_images", "docker_storage_data_root": site["data_root"],
                 "docker_storage_devices": devices, "docker_storage_fstab": site["fstab"],
                 "docker_storage_docker_unit_dropin": False, "docker_storage_manage_daemon": False}, **extra)


def test_role_check_apply_again_check(site, tmp_path):
    with realhost.loop_devices(1) as (device,):
        proc, counts = play(tmp_path, vars_for(site, [device]), check=True)
        assert counts["failed"] == 0 and counts["changed"] >= 1, proc.stdout[-3000:]
        assert realhost.run(["blkid", "-p", device], check=False).returncode == 2, "check mode formatted the device"
        assert "+filesystem: btrfs csum=crc32c" in proc.stdout, proc.stdout[-3000:]

        proc, counts = play(tmp_path, vars_for(site, [device]))
        assert counts["failed"] == 0 and counts["changed"] >= 1, proc.stdout[-3000:]
        assert "btrfs" in realhost.run(["findmnt", "-n", "-o", "FSTYPE", site["data_root"]]).stdout

        proc, counts = play(tmp_path, vars_for(site, [device]))
        assert counts["failed"] == 0 and counts["changed"] == 0, proc.stdout[-3000:]
        proc, counts = play(tmp_path, vars_for(site, [device]), check=True)
        assert counts["failed"] == 0 and counts["changed"] == 0, proc.stdout[-3000:]


def test_whole_stack_with_snapshots_check_on_a_new_host_apply_again_check(site, tmp_path):
    """Storage and the snapshot schedule of the subvolume it makes, in one role run: check mode on the new host
    only warns that the target is not there yet, the real run installs both, a rerun and a check change nothing."""
    name = "cowstack-test-%d" % os.getpid()
    base = str(tmp_path / "snap")
    snapshots = {"docker_storage_snapshots": True,
                 "docker_storage_snapshot_targets": [{"target": site["data_root"]}],
                 "docker_storage_snapshot_lib_dir": base + "/lib", "docker_storage_snapshot_bin": base + "/cowstack-snapshot",
                 "docker_storage_snapshot_config": base + "/etc/snapshot.json",
                 "docker_storage_snapshot_lock_file": base + "/run/lock", "docker_storage_snapshot_cron_file": name,
                 "docker_storage_snapshot_unit": name}
    cron = "/etc/cron.d/" + name
    try:
        with realhost.loop_devices(1) as (device,):
            proc, counts = play(tmp_path, vars_for(site, [device], **snapshots), check=True)
            assert counts["failed"] == 0 and counts["changed"] >= 1, proc.stdout[-3000:]
            assert "check mode: %s" % site["data_root"] in proc.stderr and not os.path.exists(cron)
            proc, counts = play(tmp_path, vars_for(site, [device], **snapshots))
            assert counts["failed"] == 0, proc.stdout[-3000:]
            assert os.path.exists(cron) and site["data_root"] in open(base + "/etc/snapshot.json").read()
            for check in (False, True):
                proc, counts = play(tmp_path, vars_for(site, [device], **snapshots), check=check)
                assert counts["failed"] == 0 and counts["changed"] == 0, proc.stdout[-3000:]
    finally:
        if os.path.exists(cron):
            os.unlink(cron)


@pytest.mark.parametrize("extra, fragment", [
    ({"docker_storage_policy": "fastest"}, "unknown policy or driver 'fastest'"),
    ({"docker_storage_force_devices": ["/dev/loop9"]}, "docker_storage_safe_mode is true"),
    ({"docker_storage_policy": "zfs", "docker_storage_install_packages": False}, "install zfsutils-linux"),
    ({"docker_storage_zfs_vdev_type": "raid7"}, "docker_storage_zfs_vdev_type"),
    ({"docker_storage_btrfs_checksum": "md5"}, "docker_storage_btrfs_checksum"),
])
def test_role_bad_input(site, tmp_path, extra, fragment):
    with realhost.loop_devices(1) as (device,):
        proc, counts = play(tmp_path, vars_for(site, [device], **extra))
        assert counts["failed"] == 1 and counts["changed"] == 0
        assert fragment in proc.stdout + proc.stderr, proc.stdout[-3000:]
        assert realhost.run(["blkid", "-p", device], check=False).returncode == 2


def test_role_needs_devices_for_a_filesystem_to_prepare(site, tmp_path):
    proc, counts = play(tmp_path, vars_for(site, []))
    assert counts["failed"] == 1 and "give docker_storage_devices or docker_storage_lab_file" in proc.stdout


def test_role_checks_the_storage_options_before_a_lab_file_is_made(site, tmp_path):
    """A typo in a mount option fails before anything changes, though the lab device is not there to plan on."""
    lab = tmp_path / "lab.img"
    extra = vars_for(site, [], docker_storage_lab_file={"path": str(lab), "size": "1G"},
                     docker_storage_btrfs_mount_options=["noatme", "compress=zstd:3"])
    proc, counts = play(tmp_path, extra)
    assert counts["failed"] == 1 and counts["changed"] == 0, proc.stdout[-3000:]
    assert "unknown btrfs mount option 'noatme'" in proc.stdout, proc.stdout[-3000:]
    assert not lab.exists()


def test_role_safe_mode_names_the_device(site, tmp_path):
    with realhost.loop_devices(1) as (device,):
        realhost.run(["mkfs.ext4", "-q", "-F", device])
        proc, counts = play(tmp_path, vars_for(site, [device]))
        assert counts["failed"] == 1 and "refusing to use %s" % device in proc.stdout
        assert realhost.run(["blkid", "-p", "-o", "value", "-s", "TYPE", device]).stdout.strip() == "ext4"


def test_warnings_are_shown_at_default_verbosity(tmp_path, loopfs):
    """An explicit overlay2 on a btrfs data-root, gzip-9 and dedup: shown as Ansible warnings in a plain run, where
    they used to be a debug task at verbosity 1."""
    with loopfs("btrfs") as mnt:
        extra = {"docker_storage_policy": "overlay2", "docker_storage_data_root": mnt + "/docker",
                 "docker_storage_manage_daemon": False,
                 "docker_storage_zfs_properties": {"compression": "gzip-9", "dedup": "on"}}
        for check in (True, False):
            proc, counts = play(tmp_path, extra, check=check)
            assert counts["failed"] == 0 and counts["changed"] == 0, proc.stdout[-3000:]
            shown = proc.stdout + proc.stderr
            assert "[WARNING]: overlay2 on a btrfs backing filesystem is an anti-pattern" in shown, shown[-3000:]
            assert "[WARNING]: compression=gzip-9 is CPU bound" in shown
            assert "[WARNING]: dedup=on keeps a table of every block in RAM" in shown


def test_the_role_runs_on_the_oldest_supported_core(site, tmp_path):
    """meta/runtime.yml says ansible-core 2.17: its templating gives '' for `default(none)` (2.19 gives None), which
    the role used to refuse as a bad docker_storage_lab_file. Check mode with the sanity venv's 2.17, when it is
    there (make sanity builds it before make integration)."""
    oldest = os.path.join(realhost.ROOT, ".venv-min", "bin", "ansible-playbook")
    if not os.path.exists(oldest):
        pytest.skip("no .venv-min (make sanity builds it)")
    version = subprocess.run([oldest, "--version"], capture_output=True, text=True, check=True).stdout
    playbook = tmp_path / "play.yml"
    playbook.write_text("- hosts: localhost\n  gather_facts: false\n  roles:\n"
                        "    - role: cowstack.docker_storage.docker_storage\n")
    extra = vars_for(site, [], docker_storage_policy="auto")
    env = dict(realhost.ansible_env(), ANSIBLE_STDOUT_CALLBACK="default", ANSIBLE_LOAD_CALLBACK_PLUGINS="0")
    proc = subprocess.run([oldest, str(playbook), "--check", "-e", json.dumps(extra)], cwd=realhost.ROOT, env=env,
                          capture_output=True, text=True, check=False)
    assert "core 2.1" in version.splitlines()[0], version
    assert proc.returncode == 0 and re.search(r"localhost\s+: ok=\d+\s+changed=0\s+unreachable=0\s+failed=0",
                                              proc.stdout), proc.stdout[-3000:]
