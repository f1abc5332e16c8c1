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
RESUMABLE = ("saved", "vacating", "vacated", "restarting", "switched")


def _device_errors(facts, forced):
    errors = []
    for info in facts.get("devices") or []:
        path = info.get("path")
        if not info.get("exists"):
            errors.append("docker_storage_devices entry %s does not exist: name an existing block device (lsblk lists "
                          "them)" % path)
        elif info.get("block") is False:
            errors.append("docker_storage_devices entry %s is not a block device: name a disk, partition or loop "
                          "device (lsblk lists them)" % path)
        elif info.get("problem"):
            errors.append("docker_storage_devices entry %s: %s" % (path, info["problem"]))
        elif info.get("root_disk"):
            errors.append("docker_storage_devices entry %s is the system disk (it holds /): it is never used, forced or "
                          "not" % path)
    return errors


def _journal(facts, choice, data_root):
    """-> (resume journal or None, errors)."""
    journal = facts.get("switch_journal")
    if not journal:
        return None, []
    path = journal.get("path") or "/var/lib/cowstack-docker-storage/switch.json"
    if journal.get("error"):
        return None, ["the switch journal is unreadable (%s): an earlier run was cut short. Check the data-root and "
                      "%s.cowstack-* by hand, then remove the journal" % (journal["error"], data_root)]
    if journal.get("phase") not in RESUMABLE:
        return None, []  # nothing was switched yet: start over
    to = journal.get("to") or {}
    same = (to.get("driver"), to.get("data_root"), to.get("image_store")) == (
        choice.get("driver"), data_root, choice.get("image_store"))
    if same:
        return journal, []
    frm = journal.get("from") or {}
    return None, ["an earlier run was cut short while switching Docker from %s to %s (phase %s, started %s; the "
                  "previous state is in %s, the saved images in %s). Run again with that run's settings to finish "
                  "it; or put the previous state back by hand (stop docker, unmount %s, move %s back, restore "
                  "daemon.json from its backup, start docker) and remove %s" % (
                      frm.get("driver") or "?", to.get("driver") or "?", journal.get("phase"), journal.get("started"),
                      journal.get("aside") or "place", journal.get("spool") or "no spool", data_root,
                      journal.get("aside") or "it", path)]


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
              "aside": None, "docker_missing": False, "restart_pending": False, "lab": None}
    if errors:
        return result
    facts = facts or {}
    get = inputs.get
    data_root = get("docker_storage_data_root")
    devices = get("docker_storage_devices") or []
    lab = get("docker_storage_lab_file")
    fs = checked["filesystem"] if (devices or lab is not None) else None
    errors.extend(_device_errors(facts, get("docker_storage_force_devices") or []))
    if lab is not None:
        problem, adopt = lab_refusal(facts.get("lab_file") or {"path": lab.get("path")}, parse_size(lab["size"]),
                                     {"btrfs": get("docker_storage_btrfs_label"), "zfs": get("docker_storage_zfs_pool")},
                                     variable="docker_storage_lab_file.path")
        if problem:
            errors.append(problem.replace(NOTHING, ""))
        result["lab"] = dict(facts.get("lab_file") or {}, adopt=adopt)

    # What the host lacks for the filesystem the devices are for.
    choice_facts = facts
    install = get("docker_storage_install_packages", True) is not False
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
    manage = get("docker_storage_manage_daemon", True) is not False
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
                        prepare_storage=True, require_filesystem=bool(fs))
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

    resume, journal_errors = _journal(facts, choice, data_root)
    errors.extend(journal_errors)
    result["resume"] = resume
    if manage:
        daemon = daemon_plan(facts, choice, data_root, extra=get("docker_storage_daemon_options") or {},
                             migration=get("docker_storage_migration", "none"),
                             pin_image_store=bool(get("docker_storage_pin_image_store")),
                             remove_unit_flags=bool(get("docker_storage_remove_unit_flags")),
                             resuming=bool(resume))
        errors.extend(daemon.pop("errors"))
        result["daemon"] = daemon
    result["vacate"] = bool(manage and choice["prepare"] and not facts.get("data_root_empty", True))
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
    if resume:
        warnings.append("an earlier run was cut short in phase %s of the switch to %s (started %s): this run finishes "
                        "it" % (resume.get("phase"), choice["driver"], resume.get("started")))
    elif mismatch and not result["daemon"].get("write") and not result["daemon"].get("switch"):
        warnings.append("dockerd runs %s, not what daemon.json says: docker is restarted to apply it" % ", ".join(
            "%s %s" % (k, v[0]) for k, v in sorted(mismatch.items())))
    return result
