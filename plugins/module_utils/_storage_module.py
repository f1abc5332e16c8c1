# -*- coding: utf-8 -*-
# Copyright: cowstack.docker_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the storage modules (``btrfs_storage``, ``zfs_storage``) share: the options both take, how a run goes
(options checked, ``validate_only``, the plan, ``settle``), the safe-mode refusal of a device that holds something
and the refusal to mount over files. Messages name module options.

A storage module's class takes the module and has ``plan`` (a ``_plan.Plan``), ``problems()`` (what is wrong with
its own options), ``build()`` (reads the host and plans), ``result()`` (its return values) and ``unread()`` (the
return values of a ``validate_only`` run, which reads nothing)."""

from __future__ import annotations

import os

from ._blockdev import refusal
from ._plan import settle


def argument_spec(**own):
    """The module's own options plus those every storage module takes: ``mount_point`` and the safe-mode options
    (documented by the ``attributes.SAFE_MODE`` fragment)."""
    spec = dict(
        mount_point=dict(type="path", required=True),
        force_devices=dict(type="list", elements="path", default=[]),
        assume_empty_mount_point=dict(type="bool", default=False),
        validate_only=dict(type="bool", default=False),
    )
    spec.update(own)
    return spec


def run(module, storage_class, header):
    """A storage module's run: its options checked (a problem fails it, nothing read), then with ``validate_only``
    the unread result, else the plan built and settled (see ``_plan.settle``; the diff titled ``header at
    mount_point``). Returns ``(storage, result)`` for the module to complete and exit with."""
    params = module.params
    if params["assume_empty_mount_point"] and not module.check_mode:
        module.fail_json(msg="assume_empty_mount_point is only for check mode. Nothing was changed.")
    storage = storage_class(module)
    errors = storage.problems()
    mount_point = params["mount_point"]
    if not os.path.isabs(mount_point) or mount_point == "/":
        errors.append("mount_point %r must be an absolute path other than /" % mount_point)
    if errors:
        module.fail_json(msg="; ".join(errors) + ". Nothing was changed.")
    if params["validate_only"]:
        module.exit_json(changed=False, plan=[], warnings_list=storage.plan.warnings, **storage.unread())
    storage.build()
    result = settle(module, storage.plan, dict(storage.result(), warnings_list=storage.plan.warnings),
                    header="%s at %s" % (header, mount_point))
    return storage, result


def usable(module, infos):
    """Fails the module when a device named does not exist or is not a block device (``infos``: what
    ``_probe_devices.inspect`` read of each); returns ``infos``."""
    problems = [info["problem"] for info in infos if info["problem"]]
    if problems:
        module.fail_json(msg="; ".join(problems) + ": name existing block devices. Nothing was changed.")
    return infos


def forced(params):
    """The real paths of ``force_devices``."""
    return set(os.path.realpath(device) for device in params["force_devices"])


def refuse_devices(plan, infos, params, verb):
    """Safe mode, for devices about to be ``verb`` (formatted, used): the root disk and mounted devices are refused,
    forced or not; a device that holds anything unless it is in ``force_devices``."""
    force = forced(params)
    for info in infos:
        if info["root_disk"] or info["mounted_at"]:
            plan.refuse(refusal(info["path"], info["holds"]) + " (root disks and mounted devices are never %s, "
                        "forced or not)" % verb)
        elif info["holds"] and os.path.realpath(info["path"]) not in force:
            plan.refuse(refusal(info["path"], info["holds"]))


def files_at(params):
    """What ``mount_point`` already holds (sorted names), which a mount would hide; empty when it does not exist or
    with ``assume_empty_mount_point``."""
    mount_point = params["mount_point"]
    if params["assume_empty_mount_point"] or not os.path.isdir(mount_point):
        return []
    return sorted(os.listdir(mount_point))


def hiding(mount_point, files, what):
    """The refusal to mount ``what`` over the ``files`` at ``mount_point``."""
    return ("%s already holds files (%s): mounting %s over them would hide them. Move them away, or migrate Docker's "
            "data, and run again" % (mount_point, ", ".join(files[:5]), what))
