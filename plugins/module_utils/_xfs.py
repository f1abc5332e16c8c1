# -*- coding: utf-8 -*-
# Copyright: cowstack.docker_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parser of ``xfs_info`` output. Pure, no I/O."""

from __future__ import annotations

import re

_FTYPE = re.compile(r"\bftype=(\d+)")


def parse_ftype(xfs_info_output):
    """``ftype`` of the naming section of ``xfs_info``: 1 (d_type stored), 0, or None if not shown."""
    match = _FTYPE.search(xfs_info_output or "")
    return int(match.group(1)) if match else None
