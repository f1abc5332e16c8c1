# -*- coding: utf-8 -*-
# Copyright: cowstack.docker_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""btrfs: rules and parsers of ``btrfs`` output, mount option drift. Pure, no I/O."""

from __future__ import annotations

import re

CHECKSUMS = ("crc32c", "xxhash", "sha256", "blake2")
# dump-super's names -> the names mkfs.btrfs --csum takes
CSUM_NAMES = {"xxhash64": "xxhash", "blake2b": "blake2"}
PROFILES = ("single", "dup", "raid0", "raid1", "raid1c3", "raid1c4", "raid10", "raid5", "raid6")
MIN_DEVICES = {"single": 1, "dup": 1, "raid0": 2, "raid1": 2, "raid1c3": 3, "raid1c4": 4, "raid10": 2,
               "raid5": 2, "raid6": 3}
_COMPRESS = re.compile(r"^(compress|compress-force)=(zlib(:[1-9])?|lzo|zstd(:(1[0-5]|[1-9]|-[1-9]|-1[0-5]))?|no)$")
_SUBVOL = re.compile(r"^[A-Za-z0-9_@][A-Za-z0-9_.@-]*(/[A-Za-z0-9_@][A-Za-z0-9_.@-]*)*$")
# Options that only matter for how the filesystem is mounted, compared against the live mount.
DRIFT_OPTIONS = ("compress", "compress-force", "noatime", "relatime", "atime", "strictatime", "nodatacow",
                 "nodatasum", "space_cache", "autodefrag", "ssd", "discard")


# Mount options btrfs(5) and mount(8) know, by name (the part before "="). An unknown one (a typo such as
# "noatme") would only fail at mount time, after mkfs.
KNOWN_MOUNT_OPTIONS = frozenset("""
    acl noacl autodefrag noautodefrag barrier nobarrier check_int check_int_data check_int_print_mask clear_cache
    commit compress compress-force datacow nodatacow datasum nodatasum degraded device discard nodiscard
    enospc_debug noenospc_debug fatal_errors flushoncommit noflushoncommit fragment nologreplay max_inline
    metadata_ratio norecovery rescan_uuid_tree rescue skip_balance space_cache nospace_cache ssd ssd_spread nossd
    nossd_spread subvol subvolid thread_pool treelog notreelog usebackuproot user_subvol_rm_allowed
    ro rw atime noatime relatime norelatime strictatime nostrictatime lazytime nolazytime diratime nodiratime
    dev nodev exec noexec suid nosuid sync async dirsync mand nomand silent loud defaults auto noauto user nouser
    users owner group nofail _netdev iversion noiversion context fscontext defcontext rootcontext
""".split())


def validate_mount_options(options, subvolume_from="the module from subvolume"):
    """-> (errors, warnings) for btrfs mount options. ``subvolume_from`` says where ``subvol=`` comes from (the
    module's option; the role's variable)."""
    errors, warnings = [], []
    for opt in options or ():
        name = opt.partition("=")[0]
        if name not in KNOWN_MOUNT_OPTIONS and not name.startswith(("x-", "comment")):
            errors.append("unknown btrfs mount option %r: check its spelling in btrfs(5) and mount(8) (fstab-only "
                          "options start with x-)" % opt)
        elif opt.startswith(("compress=", "compress-force=")):
            if not _COMPRESS.match(opt):
                errors.append("btrfs mount option %s: use compress=zstd[:1..15], lzo, zlib[:1..9] or no" % opt)
            elif re.match(r"^compress(-force)?=zlib(:[6-9])?$", opt):
                warnings.append("%s is CPU bound (zlib is several times slower than zstd at levels 1-3 for a "
                                "similar ratio): prefer compress=zstd:1..3" % opt)
        elif opt.startswith("subvol=") or opt.startswith("subvolid="):
            errors.append("mount option %s is set by %s" % (opt, subvolume_from))
        elif opt in ("atime", "strictatime"):
            warnings.append("%s writes on every read; noatime suits Docker's layers" % opt)
    return errors, warnings


def validate_subvolume(name):
    if not isinstance(name, str) or not _SUBVOL.match(name) or ".." in name.split("/"):
        return ("btrfs subvolume %r: use letters, digits, '_', '-', '.', '@' in path components, such as @docker"
                % (name,))
    return None


def parse_dump_super(output):
    """``btrfs inspect-internal dump-super DEV`` -> ``{"csum_type": "crc32c", "fsid": ..., "label": ...}``."""
    result = {}
    for line in (output or "").splitlines():
        parts = line.split(None, 1)
        if len(parts) != 2:
            continue
        key, value = parts
        if key == "csum_type":
            match = re.search(r"\((\w+)\)", value)
            name = match.group(1) if match else value.strip()
            result["csum_type"] = CSUM_NAMES.get(name, name)
        elif key in ("fsid", "label", "num_devices"):
            result[key] = value.strip()
    return result


def parse_filesystem_df(output):
    """``btrfs filesystem df MNT`` -> ``{"data": "single", "metadata": "dup", "system": ...}`` (lower case)."""
    result = {}
    for line in (output or "").splitlines():
        match = re.match(r"^(Data|Metadata|System|Data\+Metadata),\s*(\w+):", line.strip())
        if match:
            result[match.group(1).lower()] = match.group(2).lower()
    return result


def parse_filesystem_show(output):
    """``btrfs filesystem show DEV`` -> ``{"uuid": ..., "label": ..., "devices": [...]}``."""
    result = {"uuid": None, "label": None, "devices": []}
    for line in (output or "").splitlines():
        match = re.search(r"Label:\s+(?:'(.*)'|none)\s+uuid:\s+([0-9a-f-]+)", line)
        if match:
            result["label"], result["uuid"] = match.group(1), match.group(2)
        dev = re.search(r"\bpath\s+(\S+)", line)
        if dev:
            result["devices"].append(dev.group(1))
    return result


def option_map(options):
    """Mount option list -> ``{name: value or True}``."""
    result = {}
    for opt in options or ():
        name, _sep, value = opt.partition("=")
        result[name] = value if _sep else True
    return result


# Compression levels the kernel shows when the option names none.
DEFAULT_LEVELS = {"zstd": 3, "zlib": 3}


def mount_option_drift(live_options, wanted_options):
    """Wanted options the live mount does not have (compared by name and value) -> list of options."""
    live = option_map(live_options)
    missing = []
    for opt in wanted_options or ():
        name, _sep, value = opt.partition("=")
        if name not in DRIFT_OPTIONS:
            continue
        have = live.get(name)
        if name in ("compress", "compress-force") and have and _sep:
            # the kernel shows the default level: compress=zstd as zstd:3, compress=zlib as zlib:3
            if have == value or ":" not in value and have == "%s:%d" % (value, DEFAULT_LEVELS.get(value, -1)):
                continue
            missing.append(opt)
        elif have is None or (_sep and have != value):
            missing.append(opt)
    return missing


_ROOT_REF = re.compile(r"key \((\S+) ROOT_REF (\d+)\)")
_REF_NAME = re.compile(r"root ref key dirid (\d+) sequence \d+ name (.+)$")
_CHUNK_TYPE = re.compile(r"\btype ((?:DATA|METADATA|SYSTEM)(?:\|[A-Za-z0-9]+)*)\s*$")
# The top-level directory of every subvolume (BTRFS_FIRST_FREE_OBJECTID); FS_TREE is the filesystem's top level.
TOP_DIR = 256
FS_TREE = 5


def parse_root_refs(output):
    """``btrfs inspect-internal dump-tree -t root DEV`` -> ``[(parent_id, child_id, dirid, name)]`` (read without a
    mount, so check mode mounts nothing)."""
    refs, pending = [], None
    for line in (output or "").splitlines():
        key = _ROOT_REF.search(line)
        if key:
            parent = FS_TREE if key.group(1) == "FS_TREE" else int(key.group(1)) if key.group(1).isdigit() else None
            pending = (parent, int(key.group(2)))
            continue
        name = _REF_NAME.search(line.strip())
        if name and pending:
            refs.append((pending[0], pending[1], int(name.group(1)), name.group(2)))
        pending = None
    return refs


def subvolume_exists(refs, path):
    """Whether the subvolume ``path`` (``@docker``, ``a/b``) exists, from ``parse_root_refs``; None when a component
    sits in a plain directory (its name is not in the root tree), so it cannot be told without a mount."""
    parent = FS_TREE
    components = path.split("/")
    for index, component in enumerate(components):
        child = [r for r in refs if r[0] == parent and r[2] == TOP_DIR and r[3] == component]
        if not child:
            # the last component is simply not there; an earlier one may be a plain directory holding the rest
            return False if index == len(components) - 1 else None
        parent = child[0][1]
    return True


def parse_chunk_profiles(output):
    """``btrfs inspect-internal dump-tree -t chunk DEV`` -> ``{"data": "single", "metadata": "dup", ...}``, as
    ``parse_filesystem_df`` reads them from a mounted filesystem."""
    result = {}
    for line in (output or "").splitlines():
        match = _CHUNK_TYPE.search(line)
        if not match:
            continue
        parts = match.group(1).split("|")
        kinds = [p for p in parts if p in ("DATA", "METADATA", "SYSTEM")]
        profile = ([p for p in parts if p not in ("DATA", "METADATA", "SYSTEM")] or ["single"])[0].lower()
        name = "+".join(k.lower() for k in kinds) if len(kinds) > 1 else kinds[0].lower()
        result.setdefault("data+metadata" if name == "data+metadata" else name, profile)
    return result
