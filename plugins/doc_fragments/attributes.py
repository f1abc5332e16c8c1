# -*- coding: utf-8 -*-
# Copyright: cowstack.docker_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment(object):

    # Standard attributes of this collection's modules, and who maintains them (every module extends this).
    DOCUMENTATION = r"""
options: {}
author:
  - cowstack maintainers (@cowstack)
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
  idempotent:
    description:
      - When run twice in a row outside check mode, with the same arguments, the second invocation indicates no change.
      - This assumes that the system controlled/queried by the module has not changed in a relevant way.
  platform:
    description: Target OS/families that can be operated against.
    support: N/A
"""

    # For read-only modules.
    INFO_MODULE = r"""
options: {}
attributes:
  check_mode:
    support: full
    details:
      - This action does not modify state.
  diff_mode:
    support: N/A
    details:
      - This action does not modify state.
  idempotent:
    support: full
    details:
      - This action does not modify state.
"""

    # For state modules that plan, then apply outside check mode, and return a before/after diff.
    STATE_MODULE = r"""
options: {}
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  idempotent:
    support: full
  platform:
    platforms: linux
"""

    # For modules with an action plugin of the same name (part of the work runs on the controller).
    ACTION = r"""
options: {}
attributes:
  action:
    description: Indicates this has a corresponding action plugin so some parts of the options can be executed on the controller.
    support: full
"""

    # Safe-mode options shared by the storage modules.
    SAFE_MODE = r"""
options:
  force_devices:
    description:
      - Devices whose current content may be destroyed (by mkfs or zpool create). The only way to lift safe mode,
        one device at a time; the root disk and mounted devices are refused even when listed.
    type: list
    elements: path
    default: []
  assume_empty_mount_point:
    description:
      - Plan as if O(mount_point) were empty. The role sets it, in check mode, to find every refusal before it
        moves the current Docker state aside; refused outside check mode.
    type: bool
    default: false
  validate_only:
    description:
      - Check the options alone (names, properties, mount options, layout) and return, reading no device and
        changing nothing. The role runs it before anything changes, also when the devices do not exist yet (a lab
        file still to be attached).
    type: bool
    default: false
"""
