# -*- coding: utf-8 -*-
# Copyright: cowstack.docker_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Sizes as users write them (``10G``, ``512M``, ``1TiB``): powers of 1024. Pure, no I/O."""

from __future__ import annotations

import re

_SIZE = re.compile(r"^(\d+(?:\.\d+)?)\s*([KMGTPEZ]?)(i?B)?$", re.IGNORECASE)
# dockerd's own reader (go-units) also takes an "i" with no B after a unit: 10Gi
_DOCKER_SIZE = re.compile(r"^(\d+(?:\.\d+)?)\s*(?:([KMGTP])(?:i?B?)|B?)$", re.IGNORECASE)
_POWERS = "_KMGTPEZ"  # K is 1024 ** 1


def parse_size(text, fractions=False, largest="T", docker=False):
    """``10G`` -> 10737418240; None when ``text`` is not a size (``lots``, ``-1G``).

    The one size reader of the collection: the role's sizes are whole (``1.5G`` refused) up to T; ZFS property
    values (``fractions=True, largest="Z"``) and dockerd's storage-opts (``fractions=True, largest="P"``) take
    decimals; ``docker=True`` reads as dockerd does (``10Gi`` too)."""
    if isinstance(text, bool):
        return None
    if isinstance(text, int):
        return text if text >= 0 else None
    match = (_DOCKER_SIZE if docker else _SIZE).match(str(text).strip())
    if not match:
        return None
    number, unit = match.group(1), (match.group(2) or "").upper()
    power = _POWERS.index(unit) if unit else 0
    if ("." in number and not fractions) or power > _POWERS.index(largest):
        return None
    return int(float(number) * 1024 ** power) if "." in number else int(number) * 1024 ** power


def human(size):
    """Bytes -> ``1.5 GiB`` (for messages)."""
    value = float(size or 0)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return ("%d %s" % (value, unit)) if unit == "B" else ("%.1f %s" % (value, unit))
        value /= 1024
    return "%d B" % size
