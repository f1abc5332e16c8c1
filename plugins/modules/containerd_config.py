#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cowstack.docker_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: containerd_config
short_description: Set keys in containerd's config.toml, keeping every other key and comment
version_added: 0.1.0
description:
  - Sets each key of O(settings) in containerd's C(config.toml) line by line - its line replaced, or added to its
    table, or a new table appended - so the keys other tools own, the comments and the order stay as they are.
  - The new file is checked by containerd itself (C(containerd --config FILE config dump)) before it replaces the
    old one (atomically, mode and owner kept, a backup beside it). Nothing is written when containerd refuses it.
  - Keys that move containerd's data or change how the file is read (C(root), C(state), C(temp), C(imports),
    C(version), a snapshotter's C(root_path)) are refused. What the line editor cannot place with certainty (a
    value over several lines, an inline table, an array of tables) is refused too, naming the key.
  - A file that does not exist is started with the config version of the installed containerd (from
    C(containerd config default)).
  - Restarting containerd is the caller's part (the C(cowstack.docker_storage.docker_storage) role restarts it
    only when this module changed the file, and puts the backup back if the restart fails).
requirements:
  - The C(containerd) binary on the managed node.
extends_documentation_fragment:
  - cowstack.docker_storage.attributes
  - cowstack.docker_storage.attributes.STATE_MODULE
options:
  path:
    description: containerd's configuration file.
    type: path
    default: /etc/containerd/config.toml
  settings:
    description:
      - Dotted TOML keys (quote a part that holds dots, as C(plugins."io.containerd.gc.v1.scheduler".pause_threshold))
        and their values - strings, booleans, numbers, or lists of them.
    type: dict
    required: true
  validate:
    description: Check the new file with C(containerd config dump) before it replaces the old one.
    type: bool
    default: true
  backup:
    description: Keep a copy of the old file beside it when it changes.
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: Start garbage collection earlier
  cowstack.docker_storage.containerd_config:
    settings:
      plugins."io.containerd.gc.v1.scheduler".pause_threshold: 0.03
  register: containerd_config

- name: Restart containerd only when the file changed
  ansible.builtin.systemd_service:
    name: containerd.service
    state: restarted
  when: containerd_config is changed
"""

RETURN = r"""
path:
  description: The file.
  returned: always
  type: str
changes:
  description: Each key whose value changes, with its value before (as written, null when absent) and after.
  returned: always
  type: dict
  sample: {"plugins.\"io.containerd.gc.v1.scheduler\".pause_threshold": ["0.02", "0.03"]}
backup_file:
  description: The copy of the old file, when one was made.
  returned: when the file changed and O(backup) is true
  type: str
mode:
  description: The mode the file has (kept from the old file, else 0644).
  returned: always
  type: str
"""

import os
import stat

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cowstack.docker_storage.plugins.module_utils._atomic import write_atomic
from ansible_collections.cowstack.docker_storage.plugins.module_utils._containerd import setting_problems
from ansible_collections.cowstack.docker_storage.plugins.module_utils._toml_lines import render, set_key, split_key

ENV = {"LC_ALL": "C", "LANG": "C"}


def plan(text, settings):
    """(new text, {key: [before, after]}, errors) for the settings over ``text``. Pure."""
    changes, errors = {}, []
    for key in sorted(settings):
        try:
            parts = split_key(key)
            rendered = render(settings[key])
        except ValueError as exc:
            errors.append("settings %s: %s" % (key, exc))
            continue
        problem = setting_problems(parts)
        if problem:
            errors.append(problem)
            continue
        try:
            text, before = set_key(text, key, settings[key])
        except ValueError as exc:
            errors.append("settings: %s" % exc)
            continue
        if before != rendered:
            changes[key] = [before, rendered]
    return text, changes, errors


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", default="/etc/containerd/config.toml"),
            settings=dict(type="dict", required=True),
            validate=dict(type="bool", default=True),
            backup=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    path = module.params["path"]
    containerd = module.get_bin_path("containerd", opt_dirs=["/usr/sbin", "/usr/local/bin"])
    if not containerd and module.params["validate"]:
        module.fail_json(msg="containerd is not installed here (no containerd binary): install it, or set "
                             "validate: false. Nothing was changed")
    exists = os.path.exists(path)
    if exists and not os.path.isfile(path):
        module.fail_json(msg="%s is not a regular file: name containerd's config.toml. Nothing was changed" % path)
    if exists:
        with open(path, "rb") as handle:
            old = handle.read().decode("utf-8")
        info = os.stat(path)
        mode, owner = stat.S_IMODE(info.st_mode), (info.st_uid, info.st_gid)
    else:
        old, mode, owner = "", 0o644, None
        if containerd:
            rc, out, _err = module.run_command([containerd, "config", "default"], environ_update=ENV)
            first = [line for line in out.splitlines() if line.startswith("version")][:1] if rc == 0 else []
            old = (first[0] + "\n") if first else ""
    new, changes, errors = plan(old, module.params["settings"])
    if errors:
        module.fail_json(msg="; ".join(errors) + ". Nothing was changed", errors=errors)
    changed = new != (old if exists else "")
    result = dict(changed=changed, path=path, changes=changes, mode="%04o" % mode)
    if changed and module._diff:
        result["diff"] = {"before": old if exists else "", "after": new, "before_header": path, "after_header": path}
    if not changed or module.check_mode:
        module.exit_json(**result)

    def validate(tmp):
        if not module.params["validate"]:
            return
        rc, _out, err = module.run_command([containerd, "--config", tmp, "config", "dump"], environ_update=ENV)
        if rc != 0:
            if result.get("backup_file"):
                os.unlink(result.pop("backup_file"))  # nothing changed: no backup of it either
            module.fail_json(msg="containerd refuses the new %s (%s); nothing was changed: fix the settings"
                                 % (path, err.strip().splitlines()[-1] if err.strip() else "rc %d" % rc),
                             changes=changes)
    if exists and module.params["backup"]:
        result["backup_file"] = module.backup_local(path)
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o755)
    try:
        write_atomic(path, new, mode, owner=owner, validate=validate)
    except (IOError, OSError) as exc:
        module.fail_json(msg="writing %s failed: %s; the old file is unchanged" % (path, exc))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
