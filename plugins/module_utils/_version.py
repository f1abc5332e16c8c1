# -*- coding: utf-8 -*-
# Copyright: cowstack.docker_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Version strings of kernels, Docker and OpenZFS as comparable tuples. Pure, no I/O."""

from __future__ import annotations

import re

_LEADING_NUMBERS = re.compile(r"^\D*?(\d+(?:\.\d+)*)")


def parse_version(text, width=3):
    """Return the leading dotted numbers of ``text`` as a tuple of ``width`` ints, or None.

    ``"20.10.24+dfsg1"`` -> ``(20, 10, 24)``; ``"6.1.0-28-amd64"`` -> ``(6, 1, 0)``;
    ``"zfs-2.1.11-1"`` -> ``(2, 1, 11)``; ``"26.1"`` -> ``(26, 1, 0)``.
    """
    if text is None:
        return None
    if isinstance(text, (list, tuple)):
        numbers = [int(n) for n in text]
    else:
        match = _LEADING_NUMBERS.match(str(text).strip())
        if not match:
            return None
        numbers = [int(n) for n in match.group(1).split(".")]
    numbers = (numbers + [0] * width)[:width]
    return tuple(numbers)


def version_list(text):
    """All leading dotted numbers of ``text`` as a list (the facts' ``kernel.version``)."""
    match = _LEADING_NUMBERS.match(str(text or "").strip())
    return [int(n) for n in match.group(1).split(".")] if match else []


def at_least(version, minimum):
    """True when ``version`` (tuple or string) is >= ``minimum`` (tuple); None when unknown."""
    parsed = parse_version(version)
    if parsed is None:
        return None
    return parsed >= tuple((list(minimum) + [0, 0, 0])[:3])
