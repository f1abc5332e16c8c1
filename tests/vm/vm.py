#!/usr/bin/env python
"""Start, stop, reboot and reach the cowstack.docker_storage test VMs (qemu, stdlib only).

    vm.py [--state-dir DIR] up NAME --image debian12 [--disks 2x1G] [--timeout 600]
    vm.py [--state-dir DIR] down NAME | --all
    vm.py [--state-dir DIR] reboot NAME
    vm.py [--state-dir DIR] reset NAME      (a hard reset through QMP: a power cut for the guest)
    vm.py [--state-dir DIR] ssh NAME [-- CMD ...]
    vm.py [--state-dir DIR] status [NAME]
    vm.py [--state-dir DIR] wait NAME

Each VM lives in DIR/NAME/: a qcow2 overlay over the cached base image, its extra disks, the
serial console log, qemu's pid file and state.json (port, pid, key, console log...). `up`
prints state.json on stdout. `down` stops exactly the qemu `up` started (checked by pid and
command line) and removes the directory. Nothing else is ever signalled.

Images come from tests/vm/build-image.sh (cached; a cached image returns in seconds).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BUILD_IMAGE = HERE / "build-image.sh"
DEFAULT_STATE_DIR = os.environ.get("COWSTACK_VM_STATE", "/var/tmp/cowstack-vm/state")
IMAGES = ("debian12", "debian13", "debiansid")
QEMU = "qemu-system-x86_64"
PROG = "vm.py"


class VMError(Exception):
    """An error reported to the user without a traceback."""


class BootPanic(VMError):
    """The guest kernel panicked while booting (seen under TCG: an int3 Oops while the kernel patches its own
    text); a new boot of the same disks usually succeeds."""


PANIC = "Kernel panic - not syncing"
BOOT_ATTEMPTS = 3


def log(msg: str) -> None:
    print(f"[{PROG}] {msg}", file=sys.stderr, flush=True)


def need(cmd: str, package: str) -> None:
    if shutil.which(cmd) is None:
        raise VMError(f"'{cmd}' not found: install the Debian package '{package}' (apt-get install {package})")


def qemu_opt(value: str) -> str:
    """Escape a value for qemu's comma-separated option syntax."""
    return str(value).replace(",", ",,")


def parse_size(text: str) -> str:
    if not re.fullmatch(r"[0-9]+[KMGT]?", text):
        raise VMError(f"bad disk size '{text}' (examples: 512M, 1G)")
    return text


def parse_disks(spec: str | None) -> list[dict]:
    """'2x1G' | '1G,2G' | '2x1G:raw' -> [{'size': '1G', 'format': 'qcow2'}, ...]."""
    disks: list[dict] = []
    if not spec:
        return disks
    for part in spec.split(","):
        part = part.strip()
        fmt = "qcow2"
        if ":" in part:
            part, fmt = part.split(":", 1)
            if fmt not in ("qcow2", "raw"):
                raise VMError(f"bad disk format '{fmt}' (qcow2 or raw)")
        count = 1
        m = re.fullmatch(r"([0-9]+)x(.+)", part)
        if m:
            count, part = int(m.group(1)), m.group(2)
        size = parse_size(part)
        disks.extend({"size": size, "format": fmt} for dummy in range(count))
    if len(disks) > 20:
        raise VMError("at most 20 extra disks")
    return disks


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ssh_banner(port: int, timeout: float = 5.0) -> bool:
    """True once sshd in the guest answers (user-mode networking accepts TCP before it does)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.settimeout(timeout)
            return s.recv(64).startswith(b"SSH-")
    except OSError:
        return False


class VM:
    def __init__(self, state_dir: Path, name: str):
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name):
            raise VMError(f"bad VM name '{name}' (letters, digits, '.', '_', '-')")
        self.name = name
        self.dir = state_dir.resolve() / name
        self.state_file = self.dir / "state.json"
        self.pid_file = self.dir / "qemu.pid"
        self.console = self.dir / "console.log"

    # --- state ---------------------------------------------------------------------------------
    def load(self) -> dict | None:
        try:
            return json.loads(self.state_file.read_text())
        except FileNotFoundError:
            return None
        except ValueError as exc:
            raise VMError(f"{self.state_file}: not valid JSON: {exc}") from exc

    def save(self, state: dict) -> None:
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=2) + "\n")
        tmp.replace(self.state_file)

    def our_pid(self, pid: int | None) -> bool:
        """True if pid is alive and is the qemu this VM's `up` started (its pid file is on its command line)."""
        if not pid:
            return False
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            return False
        return str(self.pid_file).encode() in argv

    def recorded_pid(self) -> int | None:
        state = self.load() or {}
        pid = state.get("pid")
        if not pid:
            try:
                pid = int(self.pid_file.read_text().strip())
            except (OSError, ValueError):
                pid = None
        return pid

    def running(self) -> bool:
        return self.our_pid(self.recorded_pid())

    def console_tail(self, lines: int = 40) -> str:
        try:
            text = self.console.read_text(errors="replace")
        except OSError:
            return "(no console log)"
        return "\n".join(text.replace("\r", "").splitlines()[-lines:])

    # --- ssh -----------------------------------------------------------------------------------
    def ssh_argv(self, state: dict, remote: list[str] | None = None, connect_timeout: int = 10) -> list[str]:
        argv = [
            "ssh", "-q", "-i", state["key"], "-p", str(state["port"]), "-l", "root",
            "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
            "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", f"ConnectTimeout={connect_timeout}",
            "-o", "ServerAliveInterval=15", "-o", "ControlMaster=no", "-o", "ControlPath=none",
            "127.0.0.1",
        ]
        if remote:
            # ssh joins its arguments with spaces for the remote shell: one argument is a shell
            # command line, several are an argv and are quoted so they arrive unchanged.
            argv += ["--", remote[0] if len(remote) == 1 else shlex.join(remote)]
        return argv

    def ssh_run(self, state: dict, cmd: str, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run(self.ssh_argv(state, [cmd]), stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=timeout, check=False)

    def console_size(self) -> int:
        try:
            return self.console.stat().st_size
        except OSError:
            return 0

    def panicked_since(self, offset: int) -> bool:
        try:
            with open(self.console, "rb") as handle:
                handle.seek(offset)
                return PANIC.encode() in handle.read()
        except OSError:
            return False

    def wait_banner(self, state: dict, deadline: float, console_from: int = 0) -> None:
        while time.monotonic() < deadline:
            if not self.our_pid(state.get("pid")):
                raise VMError(f"{self.name}: qemu exited during boot")
            if ssh_banner(state["port"]):
                return
            if self.panicked_since(console_from):
                raise BootPanic(f"{self.name}: the guest kernel panicked while booting")
            time.sleep(2)
        raise VMError(f"{self.name}: no SSH banner on 127.0.0.1:{state['port']} in time")

    def wait_ready(self, state: dict, deadline: float) -> str:
        """After the banner: log in, then wait for systemd to finish booting (degraded is fine)."""
        last = ""
        while time.monotonic() < deadline:
            if not self.our_pid(state.get("pid")):
                raise VMError(f"{self.name}: qemu exited during boot")
            left = max(10, int(deadline - time.monotonic()))
            try:
                res = self.ssh_run(state, f"timeout {left} systemctl is-system-running --wait", timeout=left + 20)
            except subprocess.TimeoutExpired:
                break
            last = (res.stdout.strip() or res.stderr.strip())
            if last in ("running", "degraded"):
                return last
            if res.returncode == 255:  # ssh itself failed (sshd not ready yet): retry
                time.sleep(2)
                continue
            if last in ("maintenance", "stopping", "offline"):
                break
            time.sleep(2)
        raise VMError(f"{self.name}: systemd did not finish booting in time (state: {last or 'unknown'})")

    def boot_id(self, state: dict) -> str | None:
        try:
            res = self.ssh_run(state, "cat /proc/sys/kernel/random/boot_id", timeout=30)
        except subprocess.TimeoutExpired:
            return None
        return res.stdout.strip() if res.returncode == 0 else None

    # --- lifecycle -----------------------------------------------------------------------------
    def stop(self, quiet: bool = False) -> bool:
        """Stop the qemu this VM started (if it still runs). True if something was stopped."""
        pid = self.recorded_pid()
        if not self.our_pid(pid):
            return False
        assert pid is not None
        if not quiet:
            log(f"{self.name}: stopping qemu pid {pid}")
        os.kill(pid, signal.SIGTERM)
        for dummy in range(100):
            if not self.our_pid(pid):
                return True
            time.sleep(0.1)
        log(f"{self.name}: qemu pid {pid} ignored SIGTERM; sending SIGKILL")
        os.kill(pid, signal.SIGKILL)
        for dummy in range(50):
            if not self.our_pid(pid):
                return True
            time.sleep(0.1)
        raise VMError(f"{self.name}: qemu pid {pid} did not exit")

    def remove(self) -> None:
        if self.running():
            raise VMError(f"{self.name}: still running; not removing {self.dir}")
        shutil.rmtree(self.dir, ignore_errors=True)


def resolve_image(image: str, image_dir: str | None) -> dict:
    if image_dir:
        d = Path(image_dir)
    else:
        if image not in IMAGES:
            raise VMError(f"unknown image '{image}' (expected one of {', '.join(IMAGES)})")
        log(f"resolving image {image} (builds it when not cached)")
        res = subprocess.run(["bash", str(BUILD_IMAGE), "--quiet", image], stdout=subprocess.PIPE, check=False)
        if res.returncode != 0:
            raise VMError(f"building image {image} failed (exit {res.returncode}); see the messages above")
        d = Path(res.stdout.decode().strip().splitlines()[-1])
    try:
        manifest = json.loads((d / "manifest.json").read_text())
    except (OSError, ValueError) as exc:
        raise VMError(f"{d}: no usable manifest.json ({exc})") from exc
    manifest["dir"] = str(d)
    return manifest


def cmd_up(args: argparse.Namespace) -> int:
    for cmd, pkg in ((QEMU, "qemu-system-x86"), ("qemu-img", "qemu-utils"), ("ssh", "openssh-client")):
        need(cmd, pkg)
    vm = VM(args.state_dir, args.name)
    existing = vm.load()
    if existing and vm.running():
        if existing.get("image") != args.image:
            raise VMError(f"{vm.name} is already running with image {existing.get('image')}")
        log(f"{vm.name}: already running (pid {existing['pid']}, port {existing['port']})")
        print(json.dumps(existing, indent=2))
        return 0
    if vm.dir.exists():
        shutil.rmtree(vm.dir)  # leftovers of a VM that is no longer running
    disks = parse_disks(args.disks)
    image = resolve_image(args.image, args.image_dir)
    vm.dir.mkdir(parents=True)
    started = time.monotonic()
    try:
        key = vm.dir / "id_ed25519"
        shutil.copyfile(image["ssh_key"], key)
        key.chmod(0o600)
        overlay = vm.dir / "root.qcow2"
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", image["base"], str(overlay)],
                       check=True)
        drives = [
            "-drive", f"file={qemu_opt(overlay)},if=none,id=root,format=qcow2,cache=unsafe,discard=unmap",
            "-device", "virtio-blk-pci,drive=root,serial=cowstack-root",
        ]
        disk_state = []
        for i, d in enumerate(disks, start=1):
            path = vm.dir / f"disk{i}.{d['format']}"
            subprocess.run(["qemu-img", "create", "-q", "-f", d["format"], str(path), d["size"]], check=True)
            serial = f"cowstack-disk{i}"
            drives += [
                "-drive", f"file={qemu_opt(path)},if=none,id=disk{i},format={d['format']},cache=unsafe,discard=unmap",
                "-device", f"virtio-blk-pci,drive=disk{i},serial={serial}",
            ]
            # Guest device: /dev/vd{b,c,...} in attachment order, or /dev/disk/by-id/virtio-<serial>.
            disk_state.append({"path": str(path), "size": d["size"], "format": d["format"], "serial": serial,
                               "guest_device": "/dev/vd" + chr(ord("a") + i),
                               "guest_by_id": f"/dev/disk/by-id/virtio-{serial}"})
        for boot in range(1, BOOT_ATTEMPTS + 1):
            try:
                return boot_once(vm, args, image, drives, disk_state, overlay, key, started)
            except BootPanic as exc:
                if boot == BOOT_ATTEMPTS:
                    raise
                kept = vm.dir / f"console.panic-{boot}.log"
                shutil.copyfile(vm.console, kept)
                log(f"{exc} (boot {boot} of {BOOT_ATTEMPTS}, console kept in {kept}); booting again")
                vm.stop(quiet=True)
        return 1
    except BaseException as exc:
        if isinstance(exc, VMError):
            log(f"{exc}; last lines of the serial console ({vm.console}):")
            print(vm.console_tail(), file=sys.stderr)
        try:
            vm.stop()
        finally:
            shutil.rmtree(vm.dir, ignore_errors=True)
        raise


def boot_once(vm: VM, args: argparse.Namespace, image: dict, drives: list, disk_state: list, overlay: Path,
              key: Path, started: float) -> int:
    """Start qemu on the prepared disks and wait for SSH and systemd; prints the state and returns 0."""
    vm.console.write_text("")
    last_err = ""
    for _attempt in range(5):
        port = free_port()
        argv = [
            QEMU, "-name", f"cowstack-{vm.name}",
            "-accel", "tcg,thread=multi", "-cpu", "max", "-smp", str(args.smp), "-m", str(args.memory),
            "-kernel", image["kernel"], "-initrd", image["initrd"], "-append", image["cmdline"],
            *drives,
            "-netdev", f"user,id=n0,hostfwd=tcp:127.0.0.1:{port}-:22",
            "-device", "virtio-net-pci,netdev=n0",
            "-device", "virtio-rng-pci",
            "-display", "none", "-monitor", "none",
            "-qmp", f"unix:{qemu_opt(vm.dir / 'qmp.sock')},server=on,wait=off",
            "-serial", f"file:{qemu_opt(vm.console)}",
            "-pidfile", str(vm.pid_file), "-daemonize",
        ]
        res = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False)
        if res.returncode == 0:
            break
        last_err = res.stderr.strip()
        if "hostfwd" not in last_err and "Could not set up host forwarding" not in last_err:
            raise VMError(f"{vm.name}: qemu failed to start: {last_err}")
    else:
        raise VMError(f"{vm.name}: qemu failed to start (no free port?): {last_err}")
    pid = int(vm.pid_file.read_text().strip())
    state = {
        "name": vm.name, "image": args.image, "image_dir": image["dir"], "kernel_release": image["kernel_release"],
        "pid": pid, "pid_file": str(vm.pid_file), "address": "127.0.0.1", "port": port, "user": "root",
        "key": str(key), "console_log": str(vm.console), "overlay": str(overlay), "disks": disk_state,
        "dir": str(vm.dir), "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        # The entry Molecule's default (delegated) driver expects in its instance_config.yml.
        "instance_config": {"instance": vm.name, "address": "127.0.0.1", "user": "root", "port": port,
                            "identity_file": str(key)},
    }
    vm.save(state)
    log(f"{vm.name}: qemu pid {pid}, ssh on 127.0.0.1:{port}; waiting for the SSH banner (timeout {args.timeout}s)")
    deadline = started + args.timeout
    vm.wait_banner(state, deadline, 0)
    log(f"{vm.name}: SSH banner after {time.monotonic() - started:.0f}s; waiting for systemd")
    sysstate = vm.wait_ready(state, deadline)
    state["boot_seconds"] = round(time.monotonic() - started)
    vm.save(state)
    log(f"{vm.name}: up in {state['boot_seconds']}s (system {sysstate})")
    print(json.dumps(state, indent=2))
    return 0


def cmd_down(args: argparse.Namespace) -> int:
    names = [args.name] if args.name else []
    if args.all:
        names = sorted(p.name for p in args.state_dir.iterdir() if (p / "state.json").exists() or
                       (p / "qemu.pid").exists()) if args.state_dir.is_dir() else []
    if not names:
        if not args.all:
            raise VMError("down: give a VM name or --all")
        return 0
    rc = 0
    for name in names:
        vm = VM(args.state_dir, name)
        if not vm.dir.exists():
            log(f"{name}: not found in {args.state_dir} (nothing to do)")
            continue
        pid = vm.recorded_pid()
        if pid and not vm.our_pid(pid):
            log(f"{name}: recorded pid {pid} is not running (or is not this VM's qemu); nothing to stop")
        try:
            vm.stop()
            vm.remove()
            log(f"{name}: down")
        except VMError as exc:
            log(str(exc))
            rc = 1
    return rc


def running_state(args: argparse.Namespace) -> tuple[VM, dict]:
    vm = VM(args.state_dir, args.name)
    state = vm.load()
    if not state:
        raise VMError(f"{args.name}: no such VM in {args.state_dir}")
    if not vm.our_pid(state.get("pid")):
        raise VMError(f"{args.name}: not running (qemu pid {state.get('pid')} is gone)")
    return vm, state


def cmd_reboot(args: argparse.Namespace) -> int:
    vm, state = running_state(args)
    started = time.monotonic()
    before = vm.boot_id(state)
    if not before:
        raise VMError(f"{vm.name}: cannot log in to read the boot id before rebooting")
    log(f"{vm.name}: rebooting (boot id {before})")
    console_from = vm.console_size()
    try:
        vm.ssh_run(state, "nohup systemctl reboot >/dev/null 2>&1 &", timeout=30)
    except subprocess.TimeoutExpired:
        pass  # the connection may hang while the guest goes down
    return wait_new_boot(vm, state, before, started, started + args.timeout, "reboot", console_from)


def qmp(sock_path: str, command: str, timeout: float = 10) -> dict:
    """One QMP command on qemu's monitor socket (capabilities negotiated first); returns its answer."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(sock_path)
        stream = s.makefile("rwb")
        json.loads(stream.readline())  # the greeting
        answer = {}
        for execute in ("qmp_capabilities", command):
            stream.write(json.dumps({"execute": execute}).encode() + b"\n")
            stream.flush()
            while True:
                answer = json.loads(stream.readline())
                if "return" in answer or "error" in answer:
                    break  # skip asynchronous events
            if "error" in answer:
                raise VMError(f"QMP {execute}: {answer['error']}")
        return answer


def wait_new_boot(vm: VM, state: dict, before: str, started: float, deadline: float, what: str,
                  console_from: int = 0) -> int:
    resets = 0
    while time.monotonic() < deadline:
        if not vm.our_pid(state["pid"]):
            raise VMError(f"{vm.name}: qemu exited during the {what}")
        time.sleep(3)
        if vm.panicked_since(console_from) and resets < BOOT_ATTEMPTS - 1:
            resets += 1
            console_from = vm.console_size()
            log(f"{vm.name}: the guest kernel panicked while coming back; hard reset {resets}")
            qmp(str(vm.dir / "qmp.sock"), "system_reset")
            continue
        if not ssh_banner(state["port"]):
            continue
        after = vm.boot_id(state)
        if after and after != before:
            sysstate = vm.wait_ready(state, deadline)
            log(f"{vm.name}: back after {time.monotonic() - started:.0f}s (boot id {after}, system {sysstate})")
            return 0
    log(f"{vm.name}: did not come back within the timeout; last lines of the serial console:")
    print(vm.console_tail(), file=sys.stderr)
    return 1


def cmd_reset(args: argparse.Namespace) -> int:
    """A hard reset, as a power cut: the guest's unwritten page cache is lost, nothing is shut down."""
    vm, state = running_state(args)
    started = time.monotonic()
    before = vm.boot_id(state) or "unknown"
    log(f"{vm.name}: hard reset through QMP (boot id {before})")
    console_from = vm.console_size()
    qmp(str(vm.dir / "qmp.sock"), "system_reset")
    if args.no_wait:
        return 0
    return wait_new_boot(vm, state, before, started, started + args.timeout, "reset", console_from)


def cmd_wait(args: argparse.Namespace) -> int:
    vm, state = running_state(args)
    deadline = time.monotonic() + args.timeout
    vm.wait_banner(state, deadline)
    log(f"{vm.name}: system {vm.wait_ready(state, deadline)}")
    return 0


def cmd_ssh(args: argparse.Namespace) -> int:
    vm, state = running_state(args)
    remote = list(args.cmd)
    if remote and remote[0] == "--":
        remote = remote[1:]
    argv = vm.ssh_argv(state, remote or None)
    if not remote:
        argv.insert(1, "-t")
    os.execvp(argv[0], argv)
    return 127  # not reached


def cmd_status(args: argparse.Namespace) -> int:
    names = [args.name] if args.name else (
        sorted(p.name for p in args.state_dir.iterdir() if (p / "state.json").exists())
        if args.state_dir.is_dir() else [])
    out = []
    for name in names:
        vm = VM(args.state_dir, name)
        state = vm.load()
        if state is None:
            raise VMError(f"{name}: no such VM in {args.state_dir}")
        state["running"] = vm.our_pid(state.get("pid"))
        out.append(state)
    print(json.dumps(out[0] if args.name else out, indent=2))
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--state-dir", type=Path, default=Path(DEFAULT_STATE_DIR),
                    help=f"where VM state lives (default $COWSTACK_VM_STATE or {DEFAULT_STATE_DIR})")
    sub = ap.add_subparsers(dest="command", required=True)

    p = sub.add_parser("up", help="boot a VM and wait for SSH")
    p.add_argument("name")
    p.add_argument("--image", required=True, help="debian12, debian13 or debiansid")
    p.add_argument("--image-dir", help="use this built image directory instead of asking build-image.sh")
    p.add_argument("--disks", help="extra virtio disks: 2x1G, 1G,2G or 1G:raw (default none)")
    p.add_argument("--memory", type=int, default=2048, help="MiB (default 2048)")
    p.add_argument("--smp", type=int, default=2)
    p.add_argument("--timeout", type=int, default=600, help="seconds to wait for SSH and systemd (default 600)")
    p.set_defaults(func=cmd_up)

    p = sub.add_parser("down", help="stop a VM started by up and remove its overlays")
    p.add_argument("name", nargs="?")
    p.add_argument("--all", action="store_true", help="every VM in the state directory")
    p.set_defaults(func=cmd_down)

    p = sub.add_parser("reboot", help="reboot through SSH and wait until the guest is back")
    p.add_argument("name")
    p.add_argument("--timeout", type=int, default=600)
    p.set_defaults(func=cmd_reboot)

    p = sub.add_parser("reset", help="hard reset through QMP (a power cut) and wait until the guest is back")
    p.add_argument("name")
    p.add_argument("--timeout", type=int, default=600)
    p.add_argument("--no-wait", action="store_true", help="return once the reset is sent")
    p.set_defaults(func=cmd_reset)

    p = sub.add_parser("wait", help="wait for SSH and a booted systemd")
    p.add_argument("name")
    p.add_argument("--timeout", type=int, default=600)
    p.set_defaults(func=cmd_wait)

    p = sub.add_parser("ssh", help="ssh into a VM (vm.py ssh NAME -- cmd args...)")
    p.add_argument("name")
    p.add_argument("cmd", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_ssh)

    p = sub.add_parser("status", help="print state JSON (all VMs without NAME)")
    p.add_argument("name", nargs="?")
    p.set_defaults(func=cmd_status)

    args = ap.parse_args(argv)
    try:
        return args.func(args)
    except VMError as exc:
        log(f"error: {exc}")
        return 1
    except subprocess.CalledProcessError as exc:
        log(f"error: command failed (exit {exc.returncode}): {shlex.join(map(str, exc.cmd))}")
        return 1
    except KeyboardInterrupt:
        log("interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
