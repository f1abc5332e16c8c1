# -*- coding: utf-8 -*-
# Copyright: cowstack.docker_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.cowstack.docker_storage.plugins.module_utils import _rollback as R

# kind -> (function, its arguments in the input dict, those that may be left out)
KINDS = {
    "said": (R.rollback_said, ("back_ok", "back", "from_driver", "journal_path"), ("back", "from_driver")),
    "daemon": (R.daemon_failure, ("vacated", "data_root", "driver", "said", "failed", "dockerd_lines"),
               ("failed", "dockerd_lines")),
    "storage": (R.storage_failure, ("prepare", "data_root", "failed", "said", "spool"), ("failed", "said", "spool")),
    "vacate": (R.vacate_failure, ("data_root", "failed", "said"), ("failed",)),
}


def rollback_text(values, kind):
    """What the role says about a rollback (``kind``: said, daemon, storage, vacate) from ``values``."""
    if kind not in KINDS:
        raise AnsibleFilterError("rollback_text: kind must be one of %s, not %r" % (", ".join(sorted(KINDS)), kind))
    if not isinstance(values, dict):
        raise AnsibleFilterError("rollback_text expects a dict of %s" % ", ".join(KINDS[kind][1]))
    function, names, optional = KINDS[kind]
    missing = [n for n in names if n not in values and n not in optional]
    unknown = sorted(set(values) - set(names))
    if missing or unknown:
        raise AnsibleFilterError("rollback_text(%s): %s" % (kind, "; ".join(
            (["missing %s" % ", ".join(missing)] if missing else []) + (["unknown %s" % ", ".join(unknown)] if unknown else []))))
    return function(*[values.get(n) for n in names])


def restart_decision(values):
    """Whether docker restarts, and why: {"restart": bool, "reasons": [...]}."""
    if not isinstance(values, dict):
        raise AnsibleFilterError("restart_decision expects a dict of booleans")
    known = set(k for k, _t in R.RESTART_REASONS) | {"check_mode", "docker_missing"}
    unknown = sorted(set(values) - known)
    if unknown:
        raise AnsibleFilterError("restart_decision: unknown %s (known: %s)" % (", ".join(unknown), ", ".join(sorted(known))))
    return R.restart_decision(dict((k, bool(v)) for k, v in values.items()))


class FilterModule(object):
    def filters(self):
        return {"rollback_text": rollback_text, "restart_decision": restart_decision}
