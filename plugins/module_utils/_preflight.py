# -*- coding: utf-8 -*-
# Copyright: cowstack.docker_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The docker_storage role's plan for one host, from its inputs and its facts, before anything changes.

Pure, no I/O: the ``preflight`` action gathers the facts (one round trip) and returns this. Every refusal is
here, so check mode refuses exactly what a real run would, and a real run refuses before its first change.

The switch journal: a switch that saves images or moves the data-root aside is recorded on the host as it goes
(``saved`` -> ``vacating`` -> ``vacated`` -> ``restarting`` -> ``switched``), so that a run cut short (killed, a power cut) is
finished by the next run with the same settings instead of starting over on an empty data-root."""

from __future__ import annotations

from ._choice import PolicyError, choose
from ._daemon_json import plan as daemon_plan
from ._inputs import check as check_inputs
from ._lab import refusal as lab_refusal
from ._requirements import assume_installed, plan as packages_plan
from ._units import parse_size

NOTHING = " Nothing was changed."
RESUMABLE = ("saved", "vacating", "vacated", "configuring", "restarting", "switched")
# Phases after which a docker that runs the old configuration means the switch never really started.
NOT_STARTED = ("saved", "vacating", "configuring")
# What a switch records of the host before it changes anything, kept when a cut-short run is started over, so a
# rollback puts back what the host had before the first run, not what that run had already written.
BEFORE_KEYS = ("dropin_before", "daemon_json_existed", "daemon_json_before", "flags_dropin_existed")
# blkid TYPE values a device may hold when it already carries the storage this role makes.
OWN_TYPES = {"btrfs": ("btrfs",), "zfs": ("zfs_member",)}


def _device_errors(facts, forced, fs, safe_mode, data_root, image_store="auto"):
    """What makes a device unusable at all, and (safe mode) a filesystem of another kind on it: refused here, before
    any package is installed, as the backend module would refuse it later."""
    errors = []
    ours = [data_root]
    found = facts.get("containerd") or {}
    if fs and image_store != "graphdriver" and not found.get("managed_by_dockerd", True):
        # where the role puts the storage for the containerd store (this run's, or an earlier one's)
        ours.append(((found.get("snapshotters") or {}).get(fs) or {}).get("path"))
    for info in facts.get("devices") or []:
        path = info.get("path")
        fstype = (info.get("probe") or {}).get("TYPE")
        mounts = info.get("mounted_at") or []
        # mounted at the data-root is the storage this role made (dockerd's btrfs driver mounts it again below);
        # mounted only elsewhere, it is someone else's filesystem
        elsewhere = [] if any(point in mounts for point in ours if point) else mounts
        if not info.get("exists"):
            errors.append("docker_storage_devices entry %s does not exist: name an existing block device (lsblk lists "
                          "them)" % path)
        elif info.get("block") is False:
            errors.append("docker_storage_devices entry %s is not a block device: name a disk, partition or loop "
                          "device (lsblk lists them)" % path)
        elif info.get("problem"):
            errors.append("docker_storage_devices entry %s: %s" % (path, info["problem"]))
        elif info.get("root_disk"):
            errors.append("docker_storage_devices entry %s is the system disk (it holds /), which is never used, forced "
                          "or not: name another device" % path)
        elif elsewhere:
            errors.append("docker_storage_devices entry %s is mounted at %s: unmount it first, or name another device"
                          % (path, ", ".join(elsewhere)))
        elif fstype and fstype not in OWN_TYPES.get(fs, ()) and not (safe_mode is False and path in forced):
            errors.append("refusing to use %s: it holds %s. If its content may be destroyed, set "
                          "docker_storage_safe_mode: false and list it in docker_storage_force_devices; otherwise "
                          "choose an empty device" % (path, "; ".join(info.get("holds") or ["a %s signature" % fstype])))
    return errors


def _journal(facts, choice, data_root):
    """-> (resume journal or None, the host's state before the first run to keep, errors)."""
    journal = facts.get("switch_journal")
    if not journal:
        return None, {}, []
    path = journal.get("path") or "/var/lib/cowstack-docker-storage/switch.json"
    if journal.get("error"):
        return None, {}, ["the switch journal is unreadable (%s): an earlier run was cut short. Check the data-root "
                          "and %s.cowstack-* by hand, then remove %s" % (journal["error"], data_root, path)]
    if journal.get("phase") not in RESUMABLE:
        return None, {}, []  # a switch rolled back: a new one starts from what the host has now
    to = journal.get("to") or {}
    same = (to.get("driver"), to.get("data_root"), to.get("image_store")) == (
        choice.get("driver"), data_root, choice.get("image_store"))
    keep = dict((k, journal[k]) for k in BEFORE_KEYS if k in journal)
    if same:
        docker, frm = facts.get("docker") or {}, journal.get("from") or {}
        if journal.get("phase") in NOT_STARTED and docker.get("running") and \
                (docker.get("driver"), docker.get("data_root")) == (frm.get("driver"), frm.get("data_root")):
            # docker still runs the old configuration: nothing was moved or restarted, and images or containers
            # may have come since the save; start over (a fresh save), keeping what the host had before
            return None, keep, []
        return journal, keep, []
    frm = journal.get("from") or {}
    return None, {}, [
        "an earlier run was cut short while switching Docker from %s to %s (phase %s, started %s; the previous state "
        "is in %s, the saved images in %s). Run again with that run's settings to finish it; or put the previous "
        "state back by hand (stop docker, unmount %s, move %s back, restore daemon.json from its backup, start "
        "docker) and remove %s" % (
            frm.get("driver") or "?", to.get("driver") or "?", journal.get("phase"), journal.get("started"),
            journal.get("aside") or "place", journal.get("spool") or "no spool", data_root,
            journal.get("aside") or "it", path)]


def _prepare_at(facts, choice, data_root):
    """Where the prepared filesystem is mounted -> (path or None, refusal or None): the data-root, or, when the
    containerd image store keeps its snapshots through the system's containerd (not under the data-root), the
    directory of the chosen snapshotter. That directory is never moved aside: it must be empty."""
    prepare = choice.get("prepare")
    if not prepare:
        return None, None
    found = facts.get("containerd") or {}
    if choice.get("image_store") != "containerd" or found.get("managed_by_dockerd", True):
        return data_root, None
    if not found.get("certain", True):
        return None, ("containerd's config %s imports other files, which may move the %s snapshotter's directory: "
                      "name it in that file (root_path of plugins.\"io.containerd.snapshotter.v1.%s\") or remove the "
                      "imports, then run again" % (found.get("config"), prepare, prepare))
    view = (found.get("snapshotters") or {}).get(prepare) or {}
    path = view.get("path")
    if not path:
        return None, "the facts do not say where containerd keeps the %s snapshotter's data" % prepare
    if view.get("state") and view.get("fstype") != prepare:
        return None, ("%s holds snapshots of containerd's %s snapshotter on %s: the %s filesystem would be mounted "
                      "over them. Remove them (ctr -n moby snapshots --snapshotter %s rm ...) or move them away, then "
                      "run again" % (path, prepare, view.get("fstype"), prepare, prepare))
    return path, None


def _mismatch(docker, choice, data_root):
    """What the running daemon does differently from the choice (empty when it runs as intended)."""
    wanted = {"driver": choice.get("driver"), "data_root": data_root, "image_store": choice.get("image_store")}
    return dict((k, [docker.get(k), v]) for k, v in wanted.items() if v and docker.get(k) != v)


def evaluate(inputs, facts, check_mode=False):
    """-> a dict for the role: ``errors``, ``warnings``, ``choice``, ``daemon``, ``packages``, ``vacate``,
    ``save_images``, ``load_images``, ``images``, ``resume``, ``aside``, ``docker_missing``, ``restart_pending``,
    ``lab``."""
    checked = check_inputs(inputs)
    errors, warnings = list(checked["errors"]), list(checked["warnings"])
    result = {"errors": errors, "warnings": warnings, "choice": None, "daemon": {}, "packages": [], "contrib": False,
              "vacate": False, "save_images": False, "load_images": False, "images": [], "resume": None,
              "aside": None, "docker_missing": False, "restart_pending": False, "lab": None, "journal_keep": {},
              "journaled": False, "inputs": checked["inputs"], "prepare_at": None}
    if errors:
        return result
    facts = facts or {}
    get = checked["inputs"].get  # booleans read as booleans
    data_root = get("docker_storage_data_root")
    devices = get("docker_storage_devices") or []
    lab = get("docker_storage_lab_file")
    fs = checked["filesystem"] if (devices or lab is not None) else None
    errors.extend(_device_errors(facts, get("docker_storage_force_devices") or [], fs,
                                 get("docker_storage_safe_mode"), data_root, get("docker_storage_image_store", "auto")))
    if lab is not None:
        problem, adopt = lab_refusal(facts.get("lab_file") or {"path": lab.get("path")}, parse_size(lab["size"]),
                                     {"btrfs": get("docker_storage_btrfs_label"), "zfs": get("docker_storage_zfs_pool")},
                                     variable="docker_storage_lab_file.path")
        if problem:
            errors.append(problem.replace(NOTHING, ""))
        result["lab"] = dict(facts.get("lab_file") or {}, adopt=adopt)

    # What the host lacks for the filesystem the devices are for.
    choice_facts = facts
    install = get("docker_storage_install_packages")
    needs = [fs] if fs else []
    if (facts.get("backing_fs") or {}).get("fstype") == "xfs":
        needs.append("xfs")
    for need in needs:
        wanted = packages_plan(need, facts, install, "docker_storage_policy %s" % get("docker_storage_policy"))
        if need == "xfs" and wanted["errors"]:
            warnings.extend(e.replace(", or set docker_storage_install_packages: true", "")
                            for e in wanted["errors"])  # xfs_info only sharpens the overlay2 check
            continue
        errors.extend(wanted["errors"])
        result["packages"].extend(wanted["packages"])
        result["contrib"] = result["contrib"] or wanted["contrib"]
        if wanted["packages"] and need == fs:
            choice_facts = assume_installed(choice_facts, fs)

    docker = facts.get("docker") or {}
    version = get("docker_storage_docker_version")
    manage = get("docker_storage_manage_daemon")
    if not docker.get("installed"):
        result["docker_missing"] = True
        if version is None and manage:
            errors.append("Docker is not installed on this host: install it first (on Debian: apt-get install "
                          "docker.io), or set docker_storage_docker_version (such as 26.1) to prepare the storage and "
                          "write daemon.json for that version now - docker is then neither restarted nor verified")
        elif version is not None and manage:
            warnings.append("Docker is not installed: the storage is prepared and daemon.json written for Docker %s; "
                            "nothing is restarted or verified until Docker is installed" % version)
    elif version is not None and docker.get("version") and str(docker["version"]).split(".")[:2] != \
            str(version).split(".")[:2]:
        warnings.append("docker_storage_docker_version %s is set, but Docker %s is installed: the rules of the "
                        "installed one apply" % (version, docker["version"]))
        version = None
    if errors:
        return result

    try:
        choice = choose(choice_facts, get("docker_storage_policy", "auto"),
                        storage_opts=get("docker_storage_storage_opts"),
                        docker_version=version if not docker.get("installed") else None,
                        prepare_storage=True, require_filesystem=bool(fs),
                        image_store=get("docker_storage_image_store", "auto"))
    except PolicyError as exc:  # checked above; kept so a caller with other inputs gets the message
        errors.append("docker_storage_policy: %s" % exc)
        return result
    result["choice"] = choice
    errors.extend(choice["errors"])
    warnings.extend(choice["warnings"])
    if choice["prepare"] and not fs:
        errors.append("policy %s needs a %s filesystem at %s, which is on %s now: give docker_storage_devices or "
                      "docker_storage_lab_file" % (get("docker_storage_policy"), choice["prepare"], data_root,
                                                   (facts.get("backing_fs") or {}).get("fstype")))
    if errors:
        return result

    if get("docker_storage_containerd_settings") and (facts.get("containerd") or {}).get("managed_by_dockerd", True):
        errors.append("docker_storage_containerd_settings is given, but there is no system containerd here: dockerd "
                      "runs its own, from a configuration it writes itself. Install containerd (containerd.service) "
                      "for dockerd to use, or remove docker_storage_containerd_settings")
        return result
    result["prepare_at"], problem = _prepare_at(facts, choice, data_root)
    if problem:
        errors.append(problem)
        return result

    resume, keep, journal_errors = _journal(facts, choice, data_root)
    errors.extend(journal_errors)
    result["resume"], result["journal_keep"] = resume, keep
    if manage:
        daemon = daemon_plan(facts, choice, data_root, extra=get("docker_storage_daemon_options") or {},
                             migration=get("docker_storage_migration", "none"),
                             # an explicit store is written whatever the pin says: the storage-driver
                             # name alone (btrfs, zfs) would make dockerd take the graphdriver store
                             pin_image_store=get("docker_storage_pin_image_store")
                             or get("docker_storage_image_store", "auto") != "auto",
                             remove_unit_flags=get("docker_storage_remove_unit_flags"),
                             resuming=bool(resume), prepare_at=result["prepare_at"])
        errors.extend(daemon.pop("errors"))
        result["daemon"] = daemon
    result["vacate"] = bool(manage and choice["prepare"] and result["prepare_at"] == data_root
                            and not facts.get("data_root_empty", True))
    backing = facts.get("backing_fs") or {}
    if result["vacate"] and backing.get("mount_point") == data_root:
        errors.append("docker_storage_data_root %s is itself a mount point (%s, %s) that holds a Docker state: a mount "
                      "point cannot be moved aside, and the new %s storage would hide it. Move its content yourself "
                      "(or migrate Docker's data), unmount it, then run again; or choose another data-root" % (
                          data_root, backing.get("source"), backing.get("fstype"), choice["prepare"]))
    if result["vacate"] and not get("docker_storage_docker_unit_dropin"):
        errors.append("docker_storage_docker_unit_dropin is false, but moving %s aside needs the drop-in that keeps "
                      "docker from starting on the empty data-root meanwhile (and after a power cut): set it to true "
                      "for this run" % data_root)
    previous = docker.get("driver") or (resume or {}).get("from", {}).get("driver") or "previous"
    result["aside"] = (resume or {}).get("aside") or "%s.cowstack-%s" % (data_root, previous)
    if result["vacate"] and not resume and result["aside"] in (facts.get("data_root_siblings") or []):
        errors.append("%s would move aside to %s, which already exists (the state an earlier switch kept?): move it "
                      "away after checking it, then run again" % (data_root, result["aside"]))
    migration = get("docker_storage_migration", "none")
    hidden = (result["daemon"].get("hidden") or {}).get("images") or 0
    result["save_images"] = bool(manage and migration == "save_load" and hidden > 0 and not resume
                                 and not result["docker_missing"])
    if resume and resume.get("images") is not None and resume.get("spool"):
        result["load_images"], result["images"] = True, list(resume["images"])
    else:
        result["load_images"] = result["save_images"]
    mismatch = _mismatch(docker, choice, data_root) if docker.get("running") else {}
    result["restart_pending"] = bool(manage and not result["docker_missing"] and (resume or mismatch))
    # A switch is recorded as it goes: one that moves the data-root aside, saves images, or makes dockerd see
    # another driver, data-root or image store. Not without Docker (nothing runs that could be cut short mid-way).
    result["journaled"] = bool(manage and not result["docker_missing"] and (
        resume or result["vacate"] or result["save_images"] or result["daemon"].get("switch")))
    if resume:
        warnings.append("an earlier run was cut short in phase %s of the switch to %s (started %s): this run finishes "
                        "it" % (resume.get("phase"), choice["driver"], resume.get("started")))
    elif mismatch and not result["daemon"].get("write") and not result["daemon"].get("switch"):
        warnings.append("dockerd runs %s, not what daemon.json says: docker is restarted to apply it" % ", ".join(
            "%s %s" % (k, v[0]) for k, v in sorted(mismatch.items())))
    return result
