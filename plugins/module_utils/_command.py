# -*- coding: utf-8 -*-
# Copyright: cowstack.docker_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The modules' one way to run a command: an argv list (never a shell) through ``run_command``, in the C locale
(``LC_ALL=C``), so that every parsed output is in the words and number formats the parsers expect."""

from __future__ import annotations

C_LOCALE = {"LC_ALL": "C", "LANG": "C"}


def run_c(module, argv, **kwargs):
    """``(rc, stdout, stderr)`` of ``argv`` run by ``module.run_command`` with ``LC_ALL=C``."""
    return module.run_command(argv, environ_update=C_LOCALE, **kwargs)
