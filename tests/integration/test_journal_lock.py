"""switch_journal and run_lock on this host: check mode (reports, changes nothing), apply, apply again (no change);
the hold file; a lock held by a live run refused, one of a run that is gone taken over."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time

import realhost

RECORD = {"from": {"driver": "overlay2"}, "to": {"driver": "zfs", "data_root": "/var/lib/docker"},
          "aside": "/var/lib/docker.cowstack-overlay2", "images": ["sha256:a x:1"]}


def test_journal_check_apply_again_and_the_hold(tmp_path):
    path = str(tmp_path / "state" / "switch.json")
    hold = str(tmp_path / "state" / "hold-docker")
    args = {"path": path, "phase": "vacated", "record": RECORD, "hold_docker": True}
    checked = realhost.run_module("switch_journal", args, check_mode=True)
    assert checked["changed"] and not os.path.exists(path) and not os.path.exists(hold), checked
    applied = realhost.run_module("switch_journal", args)
    assert applied["changed"] and json.load(open(path)) == dict(RECORD, phase="vacated")
    assert os.path.exists(hold) and oct(os.stat(path).st_mode)[-3:] == "600"
    again = realhost.run_module("switch_journal", args)
    assert again["changed"] is False, again
    lifted = realhost.run_module("switch_journal", dict(args, phase="restarting", hold_docker=False))
    assert lifted["changed"] and not os.path.exists(hold) and json.load(open(path))["phase"] == "restarting"
    facts = realhost.storage_facts(str(tmp_path / "docker"), journal_path=path)
    assert facts["switch_journal"]["phase"] == "restarting" and facts["switch_journal"]["path"] == path
    assert realhost.run_module("switch_journal", {"path": path, "state": "absent"}, check_mode=True)["changed"]
    assert os.path.exists(path)
    assert realhost.run_module("switch_journal", {"path": path, "state": "absent"})["changed"]
    assert not os.path.exists(path)
    assert realhost.run_module("switch_journal", {"path": path, "state": "absent"})["changed"] is False


def test_each_record_is_a_sync_barrier(tmp_path):
    """What the run wrote before a record (a new drop-in, the moved data-root) is flushed before the record is
    renamed into place: the system calls of a real write show sync() before the journal's rename, and a record that
    is already there (no change) syncs nothing."""
    path = str(tmp_path / "state" / "switch.json")
    args = {"path": path, "phase": "vacated", "record": RECORD, "hold_docker": True}

    def traced():
        trace = str(tmp_path / "trace")
        argv = ["strace", "-f", "-qq", "-e", "trace=sync,rename,renameat,renameat2", "-o", trace,
                os.path.join(realhost.VENV_BIN, "ansible"), "localhost", "-m", "cowstack.docker_storage.switch_journal",
                "-a", json.dumps(args)]
        proc = subprocess.run(argv, capture_output=True, text=True, env=realhost.ansible_env(), cwd=realhost.ROOT,
                              check=False)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        calls = [line.split(None, 1)[1] for line in open(trace) if line.split(None, 1)[1:]]
        return [c for c in calls if c.startswith("sync(") or "switch.json" in c or "hold-docker" in c]

    first = traced()
    renames = [i for i, c in enumerate(first) if c.startswith("rename") and c.rstrip().endswith("= 0")]
    syncs = [i for i, c in enumerate(first) if c.startswith("sync(")]
    assert renames and syncs and syncs[0] < renames[0], first
    assert json.load(open(path))["phase"] == "vacated"
    assert not [c for c in traced() if c.startswith("sync(")], "an unchanged record must not sync"


def test_lock_taken_refused_and_given_back(tmp_path):
    path = str(tmp_path / "run" / "role.lock")
    taken = realhost.run_module("run_lock", {"path": path, "playbook": "site.yml"})
    assert taken["acquired"] and taken["changed"] is False and os.path.exists(path), taken
    holder = json.load(open(path))
    assert holder["controller"].startswith(socket.gethostname() + " (pid namespace ") and holder["playbook"] == "site.yml"
    # the ansible process that took it has exited: a new run of this controller takes it over
    again = realhost.run_module("run_lock", {"path": path})
    assert again["acquired"] and again["took_over"]["token"] == holder["token"], again
    released = realhost.run_module("run_lock", {"path": path, "state": "absent", "token": again["token"]})
    assert released["released"] and not os.path.exists(path)


def test_a_live_holder_is_waited_for_then_refused(tmp_path):
    path = str(tmp_path / "run" / "role.lock")
    os.makedirs(os.path.dirname(path))
    # a live process of this controller holds it: this test's own python
    controller = "%s (pid namespace %s)" % (socket.gethostname(), os.stat("/proc/self/ns/pid").st_ino)
    with open(path, "w") as handle:
        json.dump({"controller": controller, "pid": os.getpid(), "start": None, "token": "live",
                   "started": "2026-12-03T10:00:00Z", "playbook": "other.yml"}, handle)
    before = open(path).read()
    checked = realhost.run_module("run_lock", {"path": path}, check_mode=True)
    assert checked["acquired"] is False and checked["holder"]["token"] == "live"
    start = time.time()
    refused = realhost.run_module("run_lock", {"path": path, "wait": 3})
    assert refused.get("failed") and time.time() - start >= 3, refused
    assert "pid %d on controller %s (playbook other.yml) (waited 3 s)" % (os.getpid(), controller) \
        in refused["msg"], refused["msg"]
    assert open(path).read() == before
    # another controller's holder is never taken over, even with a pid that runs nowhere here; nor one of another
    # pid namespace of this host (a controller in a container)
    for other in ("elsewhere", "%s (pid namespace 1)" % socket.gethostname()):
        with open(path, "w") as handle:
            json.dump({"controller": other, "pid": 999999, "token": "remote"}, handle)
        assert realhost.run_module("run_lock", {"path": path}).get("failed"), other
    # an empty lock file (a run cut short while it wrote it) is taken over
    open(path, "w").close()
    emptied = realhost.run_module("run_lock", {"path": path})
    assert emptied["acquired"], emptied
    realhost.run_module("run_lock", {"path": path, "state": "absent", "token": emptied["token"]})


def test_two_role_runs_at_once_one_is_refused(tmp_path):
    """The real role twice at once on this host (btrfs made on a loop device); the second is refused by the lock
    before it changes anything."""
    lock = "/run/cowstack-docker-storage/role.lock"
    assert not os.path.exists(lock)
    playbook = tmp_path / "play.yml"
    playbook.write_text("- hosts: localhost\n  gather_facts: false\n  roles:\n"
                        "    - role: cowstack.docker_storage.docker_storage\n")
    extra = {"docker_storage_policy": "large_images", "docker_storage_data_root": str(tmp_path / "docker"),
             "docker_storage_devices": ["LOOP"],
             "docker_storage_fstab": str(tmp_path / "fstab"), "docker_storage_docker_unit_dropin": False,
             "docker_storage_manage_daemon": False}
    (tmp_path / "fstab").write_text("")
    env = dict(realhost.ansible_env(), ANSIBLE_STDOUT_CALLBACK="default", ANSIBLE_LOAD_CALLBACK_PLUGINS="0")
    argv = [os.path.join(realhost.VENV_BIN, "ansible-playbook"), str(playbook), "-e", json.dumps(extra)]
    with realhost.loop_devices(1) as (device,):
        extra["docker_storage_devices"] = [device]
        argv[-1] = json.dumps(extra)
        run_twice(argv, env, lock, tmp_path)


def run_twice(argv, env, lock, tmp_path):
    first = subprocess.Popen(argv, cwd=realhost.ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True)
    try:
        deadline = time.time() + 60
        while not os.path.exists(lock) and time.time() < deadline and first.poll() is None:
            time.sleep(0.05)
        second = subprocess.run(argv, cwd=realhost.ROOT, env=env, capture_output=True, text=True, check=False)
        out, _err = first.communicate(timeout=600)
        assert first.returncode == 0, out[-3000:]
        assert second.returncode != 0 and "holds the lock on this host" in second.stdout, second.stdout[-3000:]
        assert "changed=0" in second.stdout
        assert not os.path.exists(lock), "the first run gave the lock back"
    finally:
        if first.poll() is None:
            first.kill()
        realhost.unmount_all(str(tmp_path))
