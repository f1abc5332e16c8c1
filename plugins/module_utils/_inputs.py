# -*- coding: utf-8 -*-
# Copyright: cowstack.docker_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The docker_storage role's inputs, checked before the host is read or anything changes. Pure, no I/O.

Every input is checked on every run, also those of a backend this run will not use, so that a typo in a ZFS
variable does not wait for the day the policy changes. Messages name the role variable, its value and what to
do. The modules check their own options again (their messages name module options)."""

from __future__ import annotations

import posixpath
import re

from ._btrfs import CHECKSUMS as BTRFS_CHECKSUMS, MIN_DEVICES as BTRFS_MIN_DEVICES, PROFILES, validate_mount_options, \
    validate_subvolume
from ._choice import IMAGE_STORES, PolicyError, check_policy, policy_filesystem
from ._containerd import setting_problems
from ._daemon_json import MIGRATIONS, validate_extra
from ._lab import FORBIDDEN_PREFIXES, MIN_SIZE
from ._mountinfo import at_or_below
from ._toml_lines import render, split_key
from ._units import parse_size
from ._version import parse_version
from ._zfs import MIN_DEVICES as ZFS_MIN_DEVICES, VDEV_TYPES, normalize_atime, validate_name, validate_properties

NOTHING = " Nothing was changed."
# The role's booleans and their defaults. Extra vars arrive as strings ("false"): they are read as Ansible reads
# them (the tasks' `| bool`), and anything else is refused, so the plan and the tasks never disagree.
BOOLEANS = {"docker_storage_safe_mode": True, "docker_storage_install_packages": True,
            "docker_storage_manage_daemon": True, "docker_storage_pin_image_store": True,
            "docker_storage_remove_unit_flags": False, "docker_storage_docker_unit_dropin": True}
_TRUE = ("true", "yes", "on", "1", "y", "t")
_FALSE = ("false", "no", "off", "0", "n", "f")


def boolean(value):
    """Ansible's reading of a boolean input; None when it is not one."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
        return value.strip().lower() in _TRUE
    return None


_SERVICE = re.compile(r"^[A-Za-z0-9:_.@-]+\.service$")
_POOL_PROPERTY = re.compile(r"^(feature@)?[a-z_]+$")
# Pool properties settable at create: name -> check of the value (None: any value).
POOL_PROPERTIES = {
    "ashift": lambda v: None if str(v).isdigit() and (int(v) == 0 or 9 <= int(v) <= 16) else
    "use an ashift of 9 to 16 (12 for 4 KiB sectors, the usual choice), or 0 for ZFS to detect it",
    "autoexpand": lambda v: None if v in ("on", "off") else "must be on or off",
    "autoreplace": lambda v: None if v in ("on", "off") else "must be on or off",
    "autotrim": lambda v: None if v in ("on", "off") else "must be on or off",
    "listsnapshots": lambda v: None if v in ("on", "off") else "must be on or off",
    "delegation": lambda v: None if v in ("on", "off") else "must be on or off",
    "multihost": lambda v: None if v in ("on", "off") else "must be on or off",
    "failmode": lambda v: None if v in ("wait", "continue", "panic") else "use wait, continue or panic",
    "comment": None, "cachefile": None, "compatibility": None,
}


def _str(value):
    return value if isinstance(value, str) else None


def path_problem(variable, path, what="a path"):
    """A path input that is not absolute and written plainly -> message, else None."""
    if not isinstance(path, str) or not path:
        return "%s must be %s, such as /var/lib/docker; it is %r" % (variable, what, path)
    if not posixpath.isabs(path):
        return "%s %r must be an absolute path (it starts with /)" % (variable, path)
    if posixpath.normpath(path) != path:
        return "%s %r: write it as %s (it is compared as written)" % (variable, path, posixpath.normpath(path))
    return None


def _devices(inputs, fs, errors):
    devices = inputs.get("docker_storage_devices") or []
    if not isinstance(devices, list):
        errors.append("docker_storage_devices must be a list of block devices, such as ['/dev/vdb']")
        return []
    seen = set()
    for device in devices:
        problem = path_problem("docker_storage_devices entry", device, "a device path")
        if problem is None and not device.startswith("/dev/"):
            problem = ("docker_storage_devices entry %s is not a device path: name a block device under /dev, such as "
                       "/dev/vdb or /dev/disk/by-id/..." % device)
        if problem is None and device in seen:
            problem = "docker_storage_devices lists %s twice: name each device once" % device
        if problem:
            errors.append(problem)
        seen.add(device)
    force = inputs.get("docker_storage_force_devices") or []
    if force and inputs.get("docker_storage_safe_mode", True) is not False:  # normalised by check()
        errors.append("docker_storage_force_devices lists %s, but docker_storage_safe_mode is true. Set "
                      "docker_storage_safe_mode to false as well to let their content be destroyed"
                      % ", ".join(map(str, force)))
    for device in force:
        if device not in devices:
            errors.append("docker_storage_force_devices lists %s, which is not in docker_storage_devices: list only "
                          "devices the role is to use" % device)
    if fs == "zfs" and devices:
        vdev = inputs.get("docker_storage_zfs_vdev_type") or "single"
        need = ZFS_MIN_DEVICES.get(vdev)
        if need and len(devices) < need:
            errors.append("docker_storage_zfs_vdev_type %s needs at least %d devices, docker_storage_devices has %d: "
                          "add devices or choose single" % (vdev, need, len(devices)))
    if fs == "btrfs" and devices:
        for var in ("docker_storage_btrfs_data_profile", "docker_storage_btrfs_metadata_profile"):
            profile = inputs.get(var)
            if profile in BTRFS_MIN_DEVICES and len(devices) < BTRFS_MIN_DEVICES[profile]:
                errors.append("%s %s needs at least %d devices, docker_storage_devices has %d: add devices or choose "
                              "single or dup" % (var, profile, BTRFS_MIN_DEVICES[profile], len(devices)))
    return devices


def _lab_file(inputs, data_root, errors):
    lab = inputs.get("docker_storage_lab_file")
    if lab is None:
        return
    if not isinstance(lab, dict) or set(lab) - {"path", "size"}:
        errors.append("docker_storage_lab_file must be a dict with path and size, such as {path: "
                      "/var/lib/cowstack/docker-lab.img, size: 20G}")
        return
    path = lab.get("path")
    problem = path_problem("docker_storage_lab_file.path", path, "a file path")
    if problem is None:
        bad = [p for p in FORBIDDEN_PREFIXES if at_or_below(path, p.rstrip("/"))]
        if bad:
            problem = ("docker_storage_lab_file.path %s is under %s, which is not a place for a disk image (a device "
                       "node, a pseudo filesystem, or lost at reboot): choose a path such as "
                       "/var/lib/cowstack/docker-lab.img" % (path, bad[0]))
        elif isinstance(data_root, str) and posixpath.isabs(data_root) and at_or_below(path, data_root):
            problem = ("docker_storage_lab_file.path %s is inside docker_storage_data_root %s, which the storage made "
                       "on it is mounted over: choose a path outside it, such as /var/lib/cowstack/docker-lab.img"
                       % (path, data_root))
    if problem:
        errors.append(problem)
    size = parse_size(lab.get("size"))
    if size is None or size < MIN_SIZE:
        errors.append("docker_storage_lab_file.size %r: give a size of at least 128M, such as 20G" % (lab.get("size"),))


def _zfs(inputs, errors, warnings):
    pool, dataset = inputs.get("docker_storage_zfs_pool"), inputs.get("docker_storage_zfs_dataset")
    problem = validate_name(_str(pool), "pool")
    if problem:
        errors.append("docker_storage_zfs_pool: %s" % problem)
    ds_problem = validate_name(_str(dataset), "dataset")
    if ds_problem:
        errors.append("docker_storage_zfs_dataset: %s" % ds_problem)
    elif not problem and not dataset.startswith(pool + "/"):
        errors.append("docker_storage_zfs_dataset %s is not a dataset inside docker_storage_zfs_pool %s: name it "
                      "%s/docker, or leave it at its default" % (dataset, pool, pool))
    vdev = inputs.get("docker_storage_zfs_vdev_type", "single")
    if vdev not in VDEV_TYPES:
        errors.append("docker_storage_zfs_vdev_type %r: use one of %s" % (vdev, ", ".join(VDEV_TYPES)))
    props = inputs.get("docker_storage_zfs_pool_properties") or {}
    if not isinstance(props, dict):
        errors.append("docker_storage_zfs_pool_properties must be a dict, such as {ashift: 12}")
        props = {}
    for key, value in sorted(props.items(), key=lambda kv: str(kv[0])):
        rule = POOL_PROPERTIES.get(key)
        if not isinstance(key, str) or not _POOL_PROPERTY.match(key) or (rule is None and key not in POOL_PROPERTIES
                                                                         and not key.startswith("feature@")):
            errors.append("docker_storage_zfs_pool_properties: %r is not a pool property set at create (known: %s, "
                          "feature@...)" % (key, ", ".join(sorted(POOL_PROPERTIES))))
            continue
        wrong = rule(str(value)) if rule else None
        if wrong:
            errors.append("docker_storage_zfs_pool_properties %s=%s: %s" % (key, value, wrong))
    properties = inputs.get("docker_storage_zfs_properties") or {}
    if not isinstance(properties, dict):
        errors.append("docker_storage_zfs_properties must be a dict, such as {compression: lz4, atime: 'off'}")
        return
    if any(isinstance(v, bool) for v in properties.values()):
        bad = sorted(k for k, v in properties.items() if isinstance(v, bool))
        errors.append("docker_storage_zfs_properties %s: YAML read on/off as a boolean; quote the value ('on', "
                      "'off')" % ", ".join(bad))
    prop_errors, prop_warnings = validate_properties(normalize_atime(dict(
        (k, str(v)) for k, v in properties.items() if not isinstance(v, bool))))
    errors.extend("docker_storage_zfs_properties: %s" % e for e in prop_errors)
    warnings.extend(prop_warnings)


def _btrfs(inputs, errors, warnings):
    checksum = inputs.get("docker_storage_btrfs_checksum", "crc32c")
    if checksum not in BTRFS_CHECKSUMS:
        errors.append("docker_storage_btrfs_checksum %r: use one of %s" % (checksum, ", ".join(BTRFS_CHECKSUMS)))
    label = inputs.get("docker_storage_btrfs_label", "docker")
    if not isinstance(label, str) or not label or len(label.encode("utf-8")) > 255 or re.search(r"[\x00-\x1f]", label):
        errors.append("docker_storage_btrfs_label %r: give a label of 1 to 255 bytes without control characters"
                      % (label,))
    problem = validate_subvolume(inputs.get("docker_storage_btrfs_subvolume", "@docker"))
    if problem:
        errors.append("docker_storage_btrfs_subvolume: %s" % problem)
    for var in ("docker_storage_btrfs_data_profile", "docker_storage_btrfs_metadata_profile"):
        profile = inputs.get(var)
        if profile is not None and profile not in PROFILES:
            errors.append("%s %r: use one of %s" % (var, profile, ", ".join(PROFILES)))
    options = inputs.get("docker_storage_btrfs_mount_options") or []
    if not isinstance(options, list) or not all(isinstance(o, str) for o in options):
        errors.append("docker_storage_btrfs_mount_options must be a list of strings, such as [noatime, compress=zstd:3]")
        return
    opt_errors, opt_warnings = validate_mount_options(options, "the role from docker_storage_btrfs_subvolume")
    errors.extend("docker_storage_btrfs_mount_options: %s" % e for e in opt_errors)
    warnings.extend(opt_warnings)


def _migration(inputs, data_root, errors):
    migration = inputs.get("docker_storage_migration", "none")
    if migration not in MIGRATIONS:
        errors.append("docker_storage_migration %r: use one of %s" % (migration, ", ".join(MIGRATIONS)))
    spool = inputs.get("docker_storage_migration_spool")
    problem = path_problem("docker_storage_migration_spool", spool, "a directory")
    if problem is None and isinstance(data_root, str) and posixpath.isabs(data_root) and (
            at_or_below(spool, data_root) or at_or_below(data_root, spool)):
        problem = ("docker_storage_migration_spool %s and docker_storage_data_root %s are nested: the switch moves the "
                   "data-root aside or mounts over it. Choose a directory outside it, such as "
                   "/var/tmp/cowstack-docker-migration" % (spool, data_root))
    if problem:
        errors.append(problem)
    numbers = {}
    for var in ("docker_storage_migration_timeout", "docker_storage_migration_poll"):
        value = inputs.get(var)
        number = int(value) if isinstance(value, int) and not isinstance(value, bool) else (
            int(value) if isinstance(value, str) and value.isdigit() else None)
        if number is None or number < 1:
            errors.append("%s %r must be a whole number of seconds, at least 1" % (var, value))
        numbers[var] = number
    timeout, poll = numbers["docker_storage_migration_timeout"], numbers["docker_storage_migration_poll"]
    if timeout and poll and poll > timeout:
        errors.append("docker_storage_migration_poll %d is longer than docker_storage_migration_timeout %d: set it "
                      "below the timeout" % (poll, timeout))


def _containerd_settings(inputs, errors):
    settings = inputs.get("docker_storage_containerd_settings") or {}
    if not isinstance(settings, dict):
        errors.append("docker_storage_containerd_settings must be a mapping of dotted TOML keys to values, such as "
                      "{'plugins.\"io.containerd.gc.v1.scheduler\".pause_threshold': 0.03}")
        return
    for key in sorted(settings, key=str):
        try:
            parts = split_key(str(key))
            render(settings[key])
        except ValueError as exc:
            errors.append("docker_storage_containerd_settings %s: %s" % (key, exc))
            continue
        problem = setting_problems(parts, "docker_storage_containerd_settings")
        if problem:
            errors.append(problem)


# The role's inputs that are unset by default (vars/main.yml passes them as `default(none)`).
UNSET_WHEN_EMPTY = ("docker_storage_lab_file", "docker_storage_btrfs_data_profile",
                    "docker_storage_btrfs_metadata_profile", "docker_storage_docker_version")


def check(inputs):
    """The role's variables (by name) -> ``{"errors": [...], "warnings": [...], "filesystem": fs or None,
    "inputs": the inputs with their booleans read as booleans}``."""
    inputs = dict(inputs or {})
    errors, warnings = [], []
    for var in UNSET_WHEN_EMPTY:
        if inputs.get(var) == "":
            inputs[var] = None  # ansible-core < 2.19 renders "{{ x | default(none) }}" as ''
    for var, default in sorted(BOOLEANS.items()):
        value = boolean(inputs.get(var, default))
        if value is None:
            errors.append("%s %r is not a boolean: use true or false" % (var, inputs.get(var)))
        else:
            inputs[var] = value
    policy = inputs.get("docker_storage_policy", "auto")
    try:
        check_policy(policy)
        fs = policy_filesystem(policy)
    except PolicyError as exc:
        errors.append("docker_storage_policy: %s" % exc)
        fs = None
    data_root = inputs.get("docker_storage_data_root")
    problem = path_problem("docker_storage_data_root", data_root, "a directory")
    if problem is None and data_root == "/":
        problem = "docker_storage_data_root / would put Docker's state over the whole system: use /var/lib/docker"
    if problem:
        errors.append(problem)
    devices = _devices(inputs, fs, errors)
    lab = inputs.get("docker_storage_lab_file")
    if devices and lab is not None:
        errors.append("Give either docker_storage_devices or docker_storage_lab_file, not both")
    if (devices or lab is not None) and fs is None and not any("docker_storage_policy:" in e for e in errors):
        errors.append("docker_storage_%s is given, but docker_storage_policy %s prepares no filesystem (only enterprise "
                      "or zfs, and large_images or btrfs, do): choose one of those policies, or remove it"
                      % ("devices" if devices else "lab_file", policy))
    _lab_file(inputs, data_root, errors)
    _zfs(inputs, errors, warnings)
    _btrfs(inputs, errors, warnings)
    _migration(inputs, data_root, errors)
    _containerd_settings(inputs, errors)
    store = inputs.get("docker_storage_image_store", "auto")
    if store not in IMAGE_STORES:
        errors.append("docker_storage_image_store %r: use auto (what dockerd does with daemon.json as it is), "
                      "graphdriver or containerd" % (store,))
    errors.extend(validate_extra(inputs.get("docker_storage_daemon_options") or {}))
    for var in ("docker_storage_daemon_json_path", "docker_storage_fstab"):
        problem = path_problem(var, inputs.get(var), "a file path")
        if problem:
            errors.append(problem)
    service = inputs.get("docker_storage_docker_service", "docker.service")
    if not isinstance(service, str) or not _SERVICE.match(service):
        errors.append("docker_storage_docker_service %r is not a systemd service name such as docker.service"
                      % (service,))
    opts = inputs.get("docker_storage_storage_opts")
    if opts is not None and (not isinstance(opts, list) or not all(isinstance(o, str) and "=" in o for o in opts)):
        errors.append("docker_storage_storage_opts %r must be a list of key=value strings, such as "
                      "['overlay2.size=10G']" % (opts,))
    journal = inputs.get("docker_storage_journal", "/var/lib/cowstack-docker-storage/switch.json")
    problem = path_problem("docker_storage_journal", journal, "a file path")
    if problem is None and isinstance(data_root, str) and posixpath.isabs(data_root) and at_or_below(journal, data_root):
        problem = ("docker_storage_journal %s is inside docker_storage_data_root %s, which a switch moves aside: keep "
                   "it outside, such as /var/lib/cowstack-docker-storage/switch.json" % (journal, data_root))
    if problem:
        errors.append(problem)
    wait = inputs.get("docker_storage_lock_wait", 0)
    if isinstance(wait, bool) or not (isinstance(wait, int) or (isinstance(wait, str) and wait.isdigit())):
        errors.append("docker_storage_lock_wait %r must be a whole number of seconds (0: fail at once)" % (wait,))
    version = inputs.get("docker_storage_docker_version")
    if version is not None:
        parsed = parse_version(str(version)) if re.match(r"^\d+(\.\d+){0,2}$", str(version)) else None
        if parsed is None:
            errors.append("docker_storage_docker_version %r is not a version such as 26.1 or 28.5.2" % (version,))
        elif parsed[:2] < (20, 10):
            errors.append("docker_storage_docker_version %s is older than 20.10, the oldest this collection supports: "
                          "install Docker 20.10 or later and name that version" % version)
    return {"errors": [e.rstrip(".") + "." for e in errors], "warnings": warnings, "filesystem": fs, "inputs": inputs}
