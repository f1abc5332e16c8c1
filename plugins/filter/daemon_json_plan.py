# -*- coding: utf-8 -*-
# Copyright: cowstack.docker_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.cowstack.docker_storage.plugins.module_utils._daemon_json import plan


def daemon_json_plan(facts, choice, data_root, extra=None, migration="none", pin_image_store=False,
                     remove_unit_flags=False, prepare_at=None):
    """daemon.json for a choice, merged over the keys other tools own, and what the change would hide."""
    if not isinstance(facts, dict) or not isinstance(choice, dict):
        raise AnsibleFilterError("daemon_json_plan expects the docker_storage facts and a choose_driver result")
    if extra is not None and not isinstance(extra, dict):
        raise AnsibleFilterError("daemon_json_plan: extra must be a dict of daemon.json options")
    return plan(facts, choice, data_root, extra=extra, migration=migration, pin_image_store=bool(pin_image_store),
                remove_unit_flags=bool(remove_unit_flags), prepare_at=prepare_at)


class FilterModule(object):
    def filters(self):
        return {"daemon_json_plan": daemon_json_plan}
