# -*- coding: utf-8 -*-
# Copyright: cowstack.docker_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.cowstack.docker_storage.plugins.module_utils._choice import PolicyError, choose


def choose_driver(facts, policy="auto", storage_opts=None, docker_version=None, prepare_storage=False):
    """Choose a Docker storage driver for ``policy`` on the host ``facts`` (storage_facts) describe."""
    if not isinstance(facts, dict):
        raise AnsibleFilterError("choose_driver expects the docker_storage facts (a dict) as input, got %s"
                                 % type(facts).__name__)
    if storage_opts is not None and not isinstance(storage_opts, (list, tuple)):
        raise AnsibleFilterError("choose_driver: storage_opts must be a list of 'key=value' strings")
    try:
        return choose(facts, policy, storage_opts=storage_opts, docker_version=docker_version,
                      prepare_storage=bool(prepare_storage))
    except PolicyError as exc:
        raise AnsibleFilterError("choose_driver: %s" % to_native(exc))


class FilterModule(object):
    def filters(self):
        return {"choose_driver": choose_driver}
