# -*- coding: utf-8 -*-
# Copyright: cowstack.docker_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The plan a state module builds before it changes anything: steps, refusals and a before/after diff.

``Plan`` is pure; ``settle`` is the common end of a state module (it calls the module's fail/exit)."""

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

    def diff(self, header=None):
        def text(state):
            return "".join("%s: %s\n" % (k, state[k]) for k in sorted(state))
        diff = {"before": text(self.before), "after": text(dict(self.before, **self.after))}
        if header:
            diff.update(before_header=header, after_header=header)
        return diff


def settle(module, plan, result, apply, header=None):
    """The common end of a state module: refuse (fail, nothing changed), warn, report the diff (titled ``header``),
    apply outside check mode. ``result`` gets ``changed``, ``plan``, ``warnings_list`` and ``diff``; returns it."""
    result.update(changed=False, plan=plan.describe(), warnings_list=plan.warnings)
    if plan.refusals:
        module.fail_json(msg=" ".join(plan.refusals), refused=plan.refusals, **result)
    for warning in plan.warnings:
        module.warn(warning)
    if plan.steps:
        result["changed"] = True
        if module._diff:
            result["diff"] = plan.diff(header)
        if not module.check_mode:
            apply()
    return result
