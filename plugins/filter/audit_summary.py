# -*- coding: utf-8 -*-
# Copyright: cowstack.docker_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.cowstack.docker_storage.plugins.module_utils._audit import summarize
from ansible_collections.cowstack.docker_storage.plugins.module_utils._choice import PolicyError


def audit_summary(facts, policy="auto", storage_opts=None, host=None):
    """One host's audit summary from its docker_storage facts."""
    if not isinstance(facts, dict):
        raise AnsibleFilterError("audit_summary expects the docker_storage facts (a dict) as input, got %s"
                                 % type(facts).__name__)
    try:
        return summarize(facts, policy, storage_opts=storage_opts, host=host)
    except PolicyError as exc:
        raise AnsibleFilterError("audit_summary: %s" % to_native(exc))


class FilterModule(object):
    def filters(self):
        return {"audit_summary": audit_summary}
