# -*- coding: utf-8 -*-
# Copyright: cowstack.docker_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The run lock's rules: who holds it, and when a holder is known to be gone. Pure, no I/O.

The lock lives on the managed host under /run (so a reboot clears it) and names the controller process that
took it. A rerun from the same controller can tell that process is gone (killed, crashed) and takes the lock
over; from another controller nothing can be told, so the second run is refused (or waits)."""

from __future__ import annotations


def describe(holder):
    """A lock holder as a phrase for messages."""
    holder = holder or {}
    return "a run started at %s by %s pid %s on controller %s (playbook %s)" % (
        holder.get("started", "?"), holder.get("program", "ansible-playbook"), holder.get("pid", "?"),
        holder.get("controller", "?"), holder.get("playbook") or "?")


def stale(holder, controller, alive):
    """Whether ``holder`` (the lock's content) is a run known to be gone.

    ``controller``: this controller's name; ``alive(pid, start)``: whether that process of this controller still
    runs (its start time guards against a reused pid). A holder of another controller is never known gone."""
    if not isinstance(holder, dict) or not holder.get("token"):
        return True  # an empty or unreadable lock file: a run cut short while writing it
    if holder.get("controller") != controller:
        return False
    return not alive(holder.get("pid"), holder.get("start"))


def refusal(holder, path, waited):
    return ("another run of the docker_storage role holds the lock on this host: %s%s. Nothing was changed. Wait "
            "for it to finish (docker_storage_lock_wait: seconds to wait), or, if no such run is active, remove %s and "
            "run again" % (describe(holder), " (waited %d s)" % waited if waited else "", path))
