# -*- coding: utf-8 -*-
# Copyright: cowstack.docker_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ZFS: name and property rules, parsers of ``zpool``/``zfs`` output, and the plan of changes. Pure, no I/O."""

from __future__ import annotations

import re

from ._units import parse_size

from ._version import parse_version

MAX_NAME = 255  # ZFS_MAX_DATASET_NAME_LEN - 1
_COMPONENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")
RESERVED_POOL_NAMES = ("mirror", "raidz", "raidz1", "raidz2", "raidz3", "draid", "spare", "log", "cache",
                       "special", "dedup", "replacing")
VDEV_TYPES = ("single", "mirror", "raidz", "raidz1", "raidz2", "raidz3")
MIN_DEVICES = {"single": 1, "mirror": 2, "raidz": 2, "raidz1": 2, "raidz2": 3, "raidz3": 4}

# Property -> accepted values (a callable gets (value, zfs_version) and returns an error or None).
CHECKSUMS = ("on", "fletcher2", "fletcher4", "sha256", "sha512", "skein", "edonr", "blake3", "noparity")


def _compression(value, version):
    base = ("on", "off", "lzjb", "gzip", "zle", "lz4")
    if value in base:
        return None
    match = re.match(r"^gzip-([1-9])$", value)
    if match:
        return None
    zstd = re.match(r"^zstd(-fast)?(?:-(\d+))?$", value)
    if zstd:
        if version is not None and version < (2, 0, 0):
            return "zstd needs OpenZFS >= 2.0 (this host has %s)" % ".".join(map(str, version))
        level = zstd.group(2)
        if level is None:
            return None
        level = int(level)
        if zstd.group(1):
            if level in range(1, 11) or level in (20, 30, 40, 50, 60, 70, 80, 90, 100, 500, 1000):
                return None
            return "use a zstd-fast level of 1-10, 20-100 in tens, 500 or 1000"
        if 1 <= level <= 19:
            return None
        return "use a zstd level of 1 to 19"
    return "unknown compression; use lz4 (default), zstd, zstd-1..19, gzip-1..9, zle or off"


def compression_warning(value):
    if re.match(r"^gzip(-[6-9])?$", value or ""):
        return ("compression=%s is CPU bound (gzip is several times slower than lz4 for a little more saving): "
                "prefer lz4 or zstd levels 1-3" % value)
    if re.match(r"^zstd-(1[0-9]|[4-9])$", value or ""):
        return "compression=%s costs much CPU on writes: zstd-1..3 are the usual choice" % value
    return None


def _onoff(value, version):
    return None if value in ("on", "off") else "must be on or off"


def _checksum(value, version):
    if value == "off":
        return "checksum=off removes ZFS's integrity checking: use sha256 (default here) or fletcher4"
    if value not in CHECKSUMS:
        return "unknown checksum; use sha256, sha512, skein, edonr, blake3, fletcher4 or on"
    if value == "blake3" and version is not None and version < (2, 2, 0):
        return "blake3 needs OpenZFS >= 2.2"
    return None


def _dedup(value, version):
    if value in ("on", "off", "verify") or re.match(r"^(sha256|sha512|skein|edonr|blake3)(,verify)?$", value):
        return None
    return "dedup must be off, on, verify or <checksum>[,verify]"


def _any(value, version):
    return None


PROPERTY_RULES = {
    "compression": _compression,
    "atime": _onoff,
    "relatime": _onoff,
    "checksum": _checksum,
    "dedup": _dedup,
    "xattr": lambda v, ver: None if v in ("on", "off", "sa", "dir") else "xattr must be on, off, sa or dir",
    "recordsize": lambda v, ver: None if re.match(r"^\d+[KM]?$", v) else "recordsize is a size such as 128K",
    "quota": _any, "reservation": _any, "refquota": _any, "refreservation": _any,
    "com.sun:auto-snapshot": lambda v, ver: None if v in ("true", "false") else "must be true or false",
    "sync": lambda v, ver: None if v in ("standard", "always", "disabled") else "sync: standard, always or disabled",
    "logbias": lambda v, ver: None if v in ("latency", "throughput") else "logbias: latency or throughput",
    "primarycache": lambda v, ver: None if v in ("all", "none", "metadata") else "primarycache: all, none or metadata",
    "acltype": _any, "canmount": lambda v, ver: None if v in ("on", "off", "noauto") else "canmount: on, off or noauto",
}


def validate_name(name, kind="dataset"):
    """None when ``name`` is a valid pool (``kind='pool'``) or dataset name, else what is wrong."""
    if not isinstance(name, str) or not name:
        return "%s name is empty" % kind
    if len(name) > MAX_NAME:
        return "%s name %r is longer than ZFS's %d characters" % (kind, name[:40] + "...", MAX_NAME)
    parts = name.split("/")
    if kind == "pool" and len(parts) != 1:
        return "pool name %r must not contain '/'" % name
    for part in parts:
        if not _COMPONENT.match(part):
            return ("%s name %r: each component starts with a letter or digit and holds only letters, digits, "
                    "'_', '-', ':' and '.' (no spaces, '@', ';', '$' or a leading '-')" % (kind, name))
    pool = parts[0]
    if not pool[0].isalpha():
        return "pool name %r must start with a letter" % pool
    if pool in RESERVED_POOL_NAMES or re.match(r"^(c[0-9]|raidz[0-9]|draid[0-9]|mirror|spare)", pool):
        return "pool name %r is reserved by ZFS" % pool
    return None


def validate_properties(properties, zfs_version=None):
    """-> (errors, warnings) for a dict of dataset properties."""
    errors, warnings = [], []
    version = parse_version(zfs_version)
    for prop, value in (properties or {}).items():
        value = str(value)
        rule = PROPERTY_RULES.get(prop)
        if rule is None and ":" not in prop:
            errors.append("unknown or unmanaged ZFS property %r: use one of %s (user properties contain ':')"
                          % (prop, ", ".join(sorted(PROPERTY_RULES))))
            continue
        problem = rule(value, version) if rule else None
        if problem:
            errors.append("ZFS property %s=%s: %s" % (prop, value, problem))
            continue
        if prop == "compression":
            warning = compression_warning(value)
            if warning:
                warnings.append(warning)
        if prop == "dedup" and value != "off":
            warnings.append("dedup=%s keeps a table of every block in RAM: plan about 5 GiB of RAM per TiB of "
                            "deduplicated data (320 bytes per block), or writes slow to a crawl" % value)
    return errors, warnings


def normalize_atime(properties):
    """``atime=relatime`` (as mount(8) says it) is ``atime=on`` + ``relatime=on`` on ZFS."""
    result = dict(properties or {})
    if result.get("atime") == "relatime":
        result["atime"] = "on"
        result["relatime"] = "on"
    return result


def parse_get(output):
    """``zfs get -H -p -o name,property,value,source`` -> ``{name: {property: (value, source)}}``."""
    result = {}
    for line in (output or "").splitlines():
        parts = line.split("\t")
        if len(parts) != 4:
            continue
        name, prop, value, source = parts
        result.setdefault(name, {})[prop] = (value, source)
    return result


# Properties whose values are sizes: `zfs get -p` prints bytes (0 for none), the user writes 128K or 10G.
SIZE_PROPERTIES = ("recordsize", "quota", "refquota", "reservation", "refreservation", "volsize",
                   "special_small_blocks")


def size_bytes(text):
    """``128K`` -> 131072, ``none`` -> 0 (as ``zfs get -p`` shows it), bytes stay bytes; None if not a size."""
    text = str(text).strip()
    return 0 if text.lower() == "none" else parse_size(text, fractions=True, largest="Z")


def same_value(prop, current, wanted):
    """Whether ``current`` (as `zfs get -p` prints it) already is ``wanted`` (as the user writes it)."""
    if current == wanted:
        return True
    if prop in SIZE_PROPERTIES and current is not None:
        have, want = size_bytes(current), size_bytes(wanted)
        return have is not None and have == want
    return False


def plan_properties(current, desired):
    """Changes to make ``current`` ({prop: (value, source)}) hold ``desired`` ({prop: value}).

    A property that already has the value is not drift, whether set locally or inherited (a pool-wide
    ``compression=lz4`` inherited by the dataset is fine). Returns ``[(prop, old, new, old_source)]``.
    """
    changes = []
    for prop, value in sorted((desired or {}).items()):
        value = str(value)
        old, source = (current or {}).get(prop, (None, None))
        if not same_value(prop, old, value):
            changes.append((prop, old, value, source))
    return changes


_VDEV_LINE = re.compile(r"^(\s+)(\S+)\s+(ONLINE|DEGRADED|FAULTED|OFFLINE|UNAVAIL|REMOVED|AVAIL|INUSE)\b")


def parse_status_layout(output, pool):
    """``zpool status -P <pool>`` -> ``{"vdev_type": single|mirror|raidzN|mixed, "devices": [...]}``."""
    in_config, base_indent, groups, singles = False, None, [], []
    current = None
    for line in (output or "").splitlines():
        if line.strip().startswith("config:"):
            in_config = True
            continue
        if not in_config:
            continue
        if line.strip().startswith("errors:"):
            break
        match = _VDEV_LINE.match(line)
        if not match:
            if line.strip() in ("logs", "cache", "spares", "special", "dedup"):
                in_config = False  # auxiliary vdevs are not the data layout
            continue
        indent, name = len(match.group(1).expandtabs()), match.group(2)
        if name == pool and base_indent is None:
            base_indent = indent
            continue
        if base_indent is None:
            continue
        if indent == base_indent + 2:
            kind = re.match(r"^(mirror|raidz[123]?|draid\d?)(-\d+)?", name)
            if kind:
                current = {"type": kind.group(1), "devices": []}
                groups.append(current)
            else:
                current = None
                singles.append(name)
        elif indent > base_indent + 2 and current is not None:
            current["devices"].append(name)
    types = set(g["type"] for g in groups) | ({"single"} if singles else set())
    vdev_type = types.pop() if len(types) == 1 else ("mixed" if types else None)
    if vdev_type == "raidz1":
        vdev_type = "raidz"
    devices = singles + [d for g in groups for d in g["devices"]]
    return {"vdev_type": vdev_type, "devices": devices, "groups": len(groups) or len(singles)}


def normalize_vdev_type(vdev_type):
    return "raidz" if vdev_type == "raidz1" else vdev_type


def zpool_create_argv(zpool, pool, vdev_type, devices, pool_properties, dataset_properties=None):
    """argv for ``zpool create`` (no shell): ``-o`` pool properties, ``-O`` root dataset properties."""
    argv = [zpool, "create"]
    for prop, value in sorted((pool_properties or {}).items()):
        argv += ["-o", "%s=%s" % (prop, value)]
    for prop, value in sorted((dataset_properties or {}).items()):
        argv += ["-O", "%s=%s" % (prop, value)]
    argv.append(pool)
    if vdev_type not in ("single", None):
        argv.append(normalize_vdev_type(vdev_type))
    return argv + list(devices)


def probe_version(read_text, run, zfs_bin):
    """OpenZFS's version - the loaded module's (``/sys/module/zfs/version``), else the userland line of
    ``zfs version`` - through the caller's ``read_text(path)`` and ``run(argv) -> (rc, out, err)``; None if neither
    tells. The one probe the facts and the zfs_storage module share."""
    version = (read_text("/sys/module/zfs/version") or "").strip()
    if version:
        return version
    if not zfs_bin:
        return None
    rc, out, _err = run([zfs_bin, "version"])
    match = re.search(r"zfs-(\d+\.\d+\.\d+)", out or "")
    return match.group(1) if rc == 0 and match else None
