# -*- coding: utf-8 -*-
# Copyright: cowstack.docker_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether docker restarts, and what the role says when a switch is rolled back. Pure: the role passes what its
tasks registered (the rollback_text and restart_decision filters).

A restart stops every container, so it happens only for a reason, and the reasons are returned to be shown:

    reason             when
    daemon.json        the role changed daemon.json
    flags drop-in      the role changed the drop-in that removes conflicting flags from the unit
    new storage        btrfs or ZFS was made or changed under the data-root (a property or mount option fixed on
                       storage that was already there is applied without one)
    vacated            the previous state was moved aside (docker must start on the new storage)
    unfinished         a switch cut short, or dockerd running other settings than daemon.json says

Never in check mode, and never without Docker installed (storage prepared for a later install).
"""

from __future__ import annotations

import re

RESTART_REASONS = (
    ("daemon_json_changed", "daemon.json changed"),
    ("flags_dropin_changed", "the flags drop-in changed"),
    ("storage_changed", "new storage is under the data-root"),
    ("vacated", "the previous state was moved aside"),
    ("pending", "a switch is unfinished, or dockerd runs other settings than daemon.json says"),
)

# dockerd's own lines worth quoting: its errors, and lines that are not its time=... log lines (a Go panic, a
# message printed before logging starts).
DOCKERD_LINE = re.compile(r"(?i)level=(error|fatal)|^(?!time=)[^ ]")


def restart_decision(state):
    """``state``: the booleans of RESTART_REASONS plus ``check_mode`` and ``docker_missing``.
    -> {"restart": bool, "reasons": [text, ...]} (the reasons even when the restart is not made)."""
    reasons = [text for key, text in RESTART_REASONS if state.get(key)]
    restart = bool(reasons) and not state.get("check_mode") and not state.get("docker_missing")
    return {"restart": restart, "reasons": reasons}


def dockerd_said(lines, most=3):
    """The last ``most`` distinct lines of dockerd's log worth quoting, joined with `` | ``."""
    picked = []
    for line in lines or ():
        if DOCKERD_LINE.search(line) and line not in picked:
            picked.append(line)
    return " | ".join(picked[-most:])


def rollback_said(back_ok, back, from_driver, journal_path):
    """What the rollback brought back: docker running the previous driver (with its image count), or not."""
    back = back or {}
    if back_ok:
        images = back.get("images")
        return "The previous state is back and docker runs %s again%s." % (
            back.get("driver") or "it", " with %s images" % images if images is not None else "")
    return ("The rollback did NOT bring docker back on %s (it runs %s, running %s); %s records what was done."
            % (from_driver or "its previous driver", back.get("driver") or "nothing", bool(back.get("running")),
               journal_path))


def daemon_failure(vacated, data_root, driver, said, failed, dockerd_lines):
    """The failure of a restart that was rolled back, quoting dockerd."""
    where = " (the previous %s is back; the new %s storage is kept, unmounted)" % (data_root, driver) if vacated else ""
    return "The change was rolled back%s. %s What failed - %s. dockerd said - %s" % (
        where, said, failed or "", dockerd_said(dockerd_lines))


def storage_failure(prepare, data_root, failed, said=None, spool=None):
    """The failure of the btrfs or ZFS step; ``said`` when the data-root had been vacated and was put back."""
    text = "Preparing %s under %s failed - %s." % (prepare, data_root, failed or "see the task above")
    if said:
        text += " %s The images saved in %s are kept." % (said, spool)
    return text


def vacate_failure(data_root, failed, said):
    """The failure of moving the data-root aside, put back."""
    return "Moving %s aside failed - %s. %s" % (data_root, failed or "see above", said)
