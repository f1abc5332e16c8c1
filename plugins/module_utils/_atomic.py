# -*- coding: utf-8 -*-
# Copyright: cowstack.docker_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Files written so that a crash or a power cut leaves the old content or the new one, never a mix or nothing.

The one place that writes files for the modules and the controller-side plugins (journal, fstab, the snapshot
tool's files, the audit report)."""

from __future__ import annotations

import os
import tempfile


def write_atomic(path, content, mode, owner=None, validate=None):
    """``content`` (str or bytes) to ``path``: a temporary file beside it with its final ``mode`` (and ``owner``, a
    ``(uid, gid)``), fsynced, checked by ``validate(tmp)`` if given, renamed over ``path``, and the directory
    fsynced. The content is never visible under other permissions."""
    directory = os.path.dirname(path) or "."
    handle, tmp = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), dir=directory)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content.encode("utf-8") if isinstance(content, str) else content)
            out.flush()
            os.fsync(out.fileno())
        if owner is not None:
            os.chown(tmp, owner[0], owner[1])
        os.chmod(tmp, mode)
        if validate:
            validate(tmp)
        os.rename(tmp, path)
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
