"""Real kernel objects for the integration tests: loop-device filesystems, the module run through
ansible, and private dockerd daemons. Everything started here is stopped by pid; every mount and loop
device is undone."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# COWSTACK_VENV_BIN: where ansible and its Python are when there is no venv (the containerd scenario runs these
# tests inside a Debian unstable VM with its own ansible-core; molecule/containerd).
VENV_BIN = os.environ.get("COWSTACK_VENV_BIN") or os.path.join(ROOT, ".venv", "bin")
SCRATCH = os.environ.get("COWSTACK_SCRATCH", "/var/tmp")

# kind -> (mkfs argv before the device, mount options)
FILESYSTEMS = {
    "ext4": (["mkfs.ext4", "-q", "-F"], None),
    "ext4-nodtype": (["mkfs.ext4", "-q", "-F", "-O", "^filetype"], None),
    "xfs": (["mkfs.xfs", "-q", "-f", "-n", "ftype=1"], None),
    "xfs-pquota": (["mkfs.xfs", "-q", "-f", "-n", "ftype=1"], "pquota"),
    "btrfs": (["mkfs.btrfs", "-q", "-f"], None),
}


class Unsupported(Exception):
    """The running kernel cannot provide this filesystem (e.g. no CONFIG_XFS_QUOTA for pquota)."""


def run(argv, check=True, **kwargs):
    env = dict(os.environ, LC_ALL="C", LANG="C")
    return subprocess.run(argv, check=check, capture_output=True, text=True, env=env, **kwargs)


def missing_tools():
    needed = ["losetup", "mount", "umount", "mkfs.ext4", "mkfs.xfs", "mkfs.btrfs", "dockerd"]
    return [tool for tool in needed if not shutil.which(tool, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")]


def mounts_under(path):
    """Mount points at or below ``path``, deepest first."""
    path = os.path.realpath(path)
    found = []
    with open("/proc/self/mountinfo") as handle:
        for line in handle:
            point = line.split()[4].replace("\\040", " ")
            if point == path or point.startswith(path.rstrip("/") + "/"):
                found.append(point)
    return sorted(set(found), key=len, reverse=True)


def unmount_all(path):
    for point in mounts_under(path):
        if run(["umount", point], check=False).returncode != 0:
            run(["umount", "-l", point], check=False)


@contextlib.contextmanager
def loop_filesystem(kind, size="1G"):
    """A fresh filesystem of ``kind`` on a loop device, mounted; yields the mount point."""
    if kind == "zfs":
        with loop_zfs(size) as mnt:
            yield mnt
        return
    mkfs, options = FILESYSTEMS[kind]
    work = tempfile.mkdtemp(prefix="cowstack-%s-" % kind, dir=SCRATCH)
    image = os.path.join(work, "disk.img")
    mnt = os.path.join(work, "mnt")
    os.mkdir(mnt)
    device = None
    try:
        run(["truncate", "-s", size, image])
        device = run(["losetup", "--find", "--show", image]).stdout.strip()
        run(mkfs + [device])
        mounted = run(["mount"] + (["-o", options] if options else []) + [device, mnt], check=False)
        if mounted.returncode != 0:
            raise Unsupported("this kernel cannot mount %s%s: %s" % (
                kind, " with -o %s" % options if options else "", mounted.stderr.strip().splitlines()[0]))
        yield mnt
    finally:
        unmount_all(work)
        if device:
            run(["losetup", "-d", device], check=False)
        shutil.rmtree(work, ignore_errors=True)


@contextlib.contextmanager
def loop_zfs(size="1G"):
    """A fresh ZFS pool on a loop device, its root dataset mounted; yields the mount point. Where the zfs tools or
    the kernel module are missing (this host's kernel has no ZFS; the sid VM has) it raises Unsupported."""
    zpool = shutil.which("zpool", path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")
    if not zpool or not (os.path.exists("/dev/zfs") or run(["modprobe", "zfs"], check=False).returncode == 0):
        raise Unsupported("no ZFS here (zpool or the zfs kernel module is missing)")
    work = tempfile.mkdtemp(prefix="cowstack-zfs-", dir=SCRATCH)
    image = os.path.join(work, "disk.img")
    mnt = os.path.join(work, "mnt")
    pool = "cowstack-oracle-%d-%s" % (os.getpid(), os.path.basename(work).rsplit("-", 1)[-1].lower())
    device = None
    created = False
    try:
        run(["truncate", "-s", size, image])
        device = run(["losetup", "--find", "--show", image]).stdout.strip()
        run([zpool, "create", "-f", "-o", "cachefile=none", "-O", "mountpoint=%s" % mnt, "-O", "atime=off",
             pool, device])
        created = True
        yield mnt
    finally:
        if created:
            run([zpool, "destroy", "-f", pool], check=False)
        unmount_all(work)
        if device:
            run(["losetup", "-d", device], check=False)
        shutil.rmtree(work, ignore_errors=True)


@contextlib.contextmanager
def loop_devices(count=1, size="1G"):
    """``count`` blank loop devices backed by sparse files; yields their paths; detaches them after."""
    work = tempfile.mkdtemp(prefix="cowstack-dev-", dir=SCRATCH)
    devices = []
    try:
        for i in range(count):
            image = os.path.join(work, "disk%d.img" % i)
            run(["truncate", "-s", size, image])
            devices.append(run(["losetup", "--find", "--show", image]).stdout.strip())
        yield devices
    finally:
        for device in devices:
            for point in mounts_of(device):
                if run(["umount", point], check=False).returncode != 0:
                    run(["umount", "-l", point], check=False)
            run(["losetup", "-d", device], check=False)
        shutil.rmtree(work, ignore_errors=True)


def mounts_of(device):
    """Mount points whose source is ``device``, deepest first."""
    found = []
    with open("/proc/self/mountinfo") as handle:
        for line in handle:
            parts = line.split()
            sep = parts.index("-")
            if parts[sep + 2] == device:
                found.append(parts[4].replace("\\040", " "))
    return sorted(found, key=len, reverse=True)


def ansible_env():
    return dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_LOAD_CALLBACK_PLUGINS="1",
                ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_NOCOLOR="1",
                PATH=VENV_BIN + os.pathsep + os.environ.get("PATH", ""))


def run_module(name, args, check_mode=False, diff=False):
    """Run ``cowstack.docker_storage.<name>`` on localhost through ansible; return the host's result."""
    argv = [os.path.join(VENV_BIN, "ansible"), "localhost", "-m", "cowstack.docker_storage.%s" % name,
            "-a", json.dumps(args)]
    proc, document = _ansible_json(argv, check_mode, diff)
    if document is None:
        raise AssertionError("ansible printed no JSON (rc %s): %s %s" % (proc.returncode, proc.stdout, proc.stderr))
    return document["plays"][0]["tasks"][0]["hosts"]["localhost"]


def _ansible_json(argv, check=False, diff=False):
    """Run an ansible command with the json callback; (the process, its parsed output or None)."""
    argv = list(argv) + (["--check"] if check else []) + (["--diff"] if diff else [])
    proc = subprocess.run(argv, capture_output=True, text=True, env=ansible_env(), cwd=ROOT, check=False)
    try:
        return proc, json.loads(proc.stdout)
    except ValueError:
        return proc, None


def storage_facts(data_root, **args):
    result = run_module("storage_facts", dict(args, data_root=data_root))
    assert not result.get("failed"), result.get("msg")
    return result["ansible_facts"]["docker_storage"]


# -- a private dockerd ---------------------------------------------------------------------------------

def _alive(pid):
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:
        with open("/proc/%d/stat" % pid) as handle:
            return handle.read().split()[2] != "Z"
    except OSError:
        return False


def _stop(pid, timeout=30):
    if not pid or not _alive(pid):
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.time() + timeout
    while time.time() < deadline and _alive(pid):
        time.sleep(0.2)
    if _alive(pid):
        os.kill(pid, signal.SIGKILL)


def _cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            return handle.read().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return ""


def _api(sock, path, timeout=5):
    conn = http.client.HTTPConnection("localhost", timeout=timeout)
    conn.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.sock.settimeout(timeout)
    conn.sock.connect(sock)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


class DockerdResult(object):
    def __init__(self, started, driver, log, info=None, sock=None):
        self.started, self.driver, self.log, self.info, self.socket = started, driver, log, info or {}, sock

    def error_line(self):
        lines = [ln for ln in self.log.splitlines() if "failed to start daemon" in ln or "level=fatal" in ln]
        return lines[-1] if lines else self.log[-2000:]


# How long a dockerd may take to answer (COWSTACK_DOCKERD_TIMEOUT: the containerd scenario gives an emulated VM more).
DOCKERD_TIMEOUT = int(os.environ.get("COWSTACK_DOCKERD_TIMEOUT") or 90)


@contextlib.contextmanager
def dockerd(data_root, driver=None, storage_opts=(), timeout=None, config=None):
    """Start a private dockerd on ``data_root`` (``config``: more daemon.json keys, e.g. ``features``); yield a
    DockerdResult; stop it and undo its mounts."""
    exec_root = tempfile.mkdtemp(prefix="cs-", dir="/run")
    sock = os.path.join(exec_root, "d.sock")
    pidfile = os.path.join(exec_root, "d.pid")
    config_path = os.path.join(exec_root, "daemon.json")
    with open(config_path, "w") as handle:
        json.dump(dict({"iptables": False, "ip6tables": False, "bridge": "none"}, **(config or {})), handle)
    argv = [shutil.which("dockerd", path="/usr/sbin:/usr/bin:/sbin:/bin:/usr/local/bin"), "--config-file", config_path,
            "--data-root", data_root, "--exec-root", exec_root, "-H", "unix://" + sock, "--pidfile", pidfile]
    if driver:
        argv += ["--storage-driver", driver]
    for opt in storage_opts:
        argv += ["--storage-opt", opt]
    log_path = os.path.join(exec_root, "dockerd.log")
    log = open(log_path, "w")
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ, LC_ALL="C"))
    started, info = False, None
    try:
        deadline = time.time() + (timeout or DOCKERD_TIMEOUT)
        while time.time() < deadline and proc.poll() is None:
            try:
                status, body = _api(sock, "/info")
                if status == 200:
                    info = json.loads(body)
                    started = True
                    break
            except (OSError, http.client.HTTPException, ValueError):
                pass
            time.sleep(0.3)
        cli_driver = None
        if started:
            cli = shutil.which("docker", path="/usr/bin:/usr/local/bin")
            if cli:
                out = run([cli, "-H", "unix://" + sock, "info", "--format", "{{.Driver}}"], check=False)
                cli_driver = out.stdout.strip() if out.returncode == 0 else None
            cli_driver = cli_driver or info.get("Driver")
        log.flush()
        with open(log_path) as handle:
            text = handle.read()
        yield DockerdResult(started, cli_driver, text, info, sock)
    finally:
        containerd_pid = None
        containerd_pidfile = os.path.join(exec_root, "containerd", "containerd.pid")
        if os.path.exists(containerd_pidfile):
            with open(containerd_pidfile) as handle:
                containerd_pid = int(handle.read().strip() or 0)
        _stop(proc.pid)
        proc.wait(timeout=30)
        if containerd_pid and exec_root in _cmdline(containerd_pid):
            _stop(containerd_pid)
        log.close()
        unmount_all(data_root)
        unmount_all(exec_root)
        shutil.rmtree(exec_root, ignore_errors=True)


def run_playbook(playbook, extra_vars=None, check=False, inventory=None):
    """``ansible-playbook <playbook>`` (a path under this checkout) on localhost (or ``inventory``) with the venv's
    Python and the json callback; returns (the process, its parsed output or None)."""
    extra = dict({"ansible_python_interpreter": os.path.join(VENV_BIN, "python")}, **(extra_vars or {}))
    argv = [os.path.join(VENV_BIN, "ansible-playbook"), playbook, "-e", json.dumps(extra)]
    return _ansible_json(argv + (["-i", inventory] if inventory else []), check)


def task_result(document, task_name, host="localhost"):
    """The result of the task named ``task_name`` (its last run; in a role, ``<role> : <name>``) for ``host`` in a
    json-callback document."""
    found = None
    for play in document["plays"]:
        for task in play["tasks"]:
            name = task["task"]["name"]
            if (name == task_name or name.endswith(" : " + task_name)) and host in task["hosts"]:
                found = task["hosts"][host]
    return found
