# -*- coding: utf-8 -*-
# Copyright: cowstack.docker_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Who this run is, on the controller: the ansible-playbook process an action plugin's worker was forked from.

Shared by the run lock (a holder known gone is taken over) and the audit report (the batches of one run under
``serial`` add to one report; a report of another run is replaced)."""

from __future__ import annotations

import os
import socket


def start_time(pid):
    """The process's start time in clock ticks since boot (Linux), or None where /proc does not tell."""
    try:
        with open("/proc/%d/stat" % int(pid)) as handle:
            return handle.read().rsplit(")", 1)[1].split()[19]
    except (IOError, OSError, ValueError, IndexError, TypeError):
        return None


def controller_id():
    """This controller's name and pid namespace: two controllers in containers may share a host name, and a pid
    means nothing outside its namespace."""
    try:
        namespace = os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        namespace = None
    return "%s%s" % (socket.gethostname(), " (pid namespace %s)" % namespace if namespace else "")


def run_id(pid=None):
    """One string naming this ansible-playbook run: controller, pid and the pid's start time (a reused pid is
    another run). ``pid`` defaults to this worker's parent, the ansible-playbook process."""
    pid = os.getppid() if pid is None else pid
    return "%s pid %s started %s" % (controller_id(), pid, start_time(pid) or "?")
