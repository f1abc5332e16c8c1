# -*- coding: utf-8 -*-
# Copyright: cowstack.docker_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Sizes as users write them (``10G``, ``512M``, ``1TiB``): powers of 1024. Pure, no I/O."""

from __future__ import annotations

import re

_SIZE = re.compile(r"^(\d+)\s*([KMGT]?)(i?B)?$", re.IGNORECASE)
_UNITS = {"": 1, "K": 1024, "M": 1024 ** 2, "G": 1024 ** 3, "T": 1024 ** 4}


def parse_size(text):
    """``10G`` -> 10737418240; None when ``text`` is not a whole size (``lots``, ``-1G``, ``1.5G``)."""
    if isinstance(text, bool):
        return None
    if isinstance(text, int):
        return text if text >= 0 else None
    match = _SIZE.match(str(text).strip())
    if not match:
        return None
    return int(match.group(1)) * _UNITS[match.group(2).upper()]


def human(size):
    """Bytes -> ``1.5 GiB`` (for messages)."""
    value = float(size or 0)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return ("%d %s" % (value, unit)) if unit == "B" else ("%.1f %s" % (value, unit))
        value /= 1024
    return "%d B" % size
