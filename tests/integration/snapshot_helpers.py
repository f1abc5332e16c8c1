"""Shared by the snapshot integration tests: btrfs subvolumes with pre-made snapshots on a loop filesystem
(realhost.loop_filesystem), the tool installed in a directory of its own, playbooks run through ansible."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile

import realhost
from ansible_collections.cowstack.docker_storage.plugins.modules import snapshot_install

ROOT = realhost.ROOT
TOOL = os.path.join(ROOT, "roles", "docker_storage_snapshot", "files", "cowstack-snapshot.py")
RETENTION = os.path.join(ROOT, "plugins", "module_utils", "_retention.py")
# the other module_utils files snapshot_install puts beside the tool: file name -> the collection's file
LIBRARY = dict((name, os.path.join(ROOT, "plugins", "module_utils", name)) for name in snapshot_install.LIBRARY_NAMES)
FAKE_ZFS = os.path.join(ROOT, "tests", "unit", "roles", "fake_zfs.py")


def subvolume(path):
    realhost.run(["btrfs", "subvolume", "create", path])
    return path


def snapshot(source, dest, readonly=True):
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    realhost.run(["btrfs", "subvolume", "snapshot"] + (["-r"] if readonly else []) + [source, dest])


def subvolumes_in(directory):
    """Names of the subvolumes directly in ``directory`` (inode 256), sorted."""
    if not os.path.isdir(directory):
        return []
    return sorted(e.name for e in os.scandir(directory)
                  if e.is_dir(follow_symlinks=False) and e.stat(follow_symlinks=False).st_ino == 256)


def install_tool(directory):
    """The tool, _retention.py and the files it imports, alone in ``directory``, as the role installs them."""
    os.makedirs(directory, exist_ok=True)
    shutil.copy(TOOL, os.path.join(directory, "cowstack-snapshot.py"))
    shutil.copy(RETENTION, os.path.join(directory, "_retention.py"))
    for name, path in LIBRARY.items():
        shutil.copy(path, os.path.join(directory, name))
    return os.path.join(directory, "cowstack-snapshot.py")


def run_tool(tool, config, *args, **kwargs):
    argv = ["/usr/bin/python3", "-I", tool, "--config", config] + [str(a) for a in args]
    env = kwargs.pop("env", None) or dict(os.environ, LC_ALL="C")
    return subprocess.run(argv, capture_output=True, text=True, env=env, check=False, **kwargs)


def write_json(path, doc):
    with open(path, "w") as handle:
        json.dump(doc, handle)
    return path


def run_playbook(tasks_or_play, check=False, diff=False, extra_vars=None, env=None):
    """Run one play on localhost; return (rc, {task name: [results]}, stats, raw output)."""
    play = tasks_or_play if isinstance(tasks_or_play, dict) else {
        "hosts": "localhost", "gather_facts": False, "tasks": tasks_or_play}
    play.setdefault("hosts", "localhost")
    play.setdefault("gather_facts", False)
    handle, path = tempfile.mkstemp(prefix="cowstack-play-", suffix=".json")
    with os.fdopen(handle, "w") as out:
        json.dump([play], out)
    argv = [os.path.join(realhost.VENV_BIN, "ansible-playbook"), path]
    if check:
        argv.append("--check")
    if diff:
        argv.append("--diff")
    if extra_vars:
        argv += ["-e", json.dumps(extra_vars)]
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, env=env or realhost.ansible_env(), cwd=ROOT,
                              check=False)
    finally:
        os.unlink(path)
    try:
        document = json.loads(proc.stdout)
    except ValueError:
        raise AssertionError("ansible-playbook printed no JSON (rc %s): %s %s"
                             % (proc.returncode, proc.stdout[-3000:], proc.stderr[-3000:]))
    tasks = {}
    for play_doc in document["plays"]:
        for task in play_doc["tasks"]:
            tasks.setdefault(task["task"]["name"], []).append(task["hosts"].get("localhost", {}))
    return proc.returncode, tasks, document["stats"].get("localhost", {}), proc.stdout


def failures(tasks):
    return ["%s: %s" % (name, r.get("msg")) for name, results in tasks.items() for r in results if r.get("failed")]
