# -*- coding: utf-8 -*-
# Copyright: cowstack.docker_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The plan a state module builds before it changes anything: steps, refusals and a before/after diff. Pure."""

from __future__ import annotations


class Plan(object):
    """Ordered steps (``describe``, ``argv`` or callable) plus refusals that stop the run before any step."""

    def __init__(self):
        self.steps = []
        self.refusals = []
        self.warnings = []
        self.before = {}
        self.after = {}

    def add(self, describe, action=None):
        self.steps.append((describe, action))

    def refuse(self, message):
        self.refusals.append(message)

    def describe(self):
        return [d for d, _a in self.steps]

    def diff(self):
        def text(state):
            return "".join("%s: %s\n" % (k, state[k]) for k in sorted(state))
        return {"before": text(self.before), "after": text(dict(self.before, **self.after))}
