# -*- coding: utf-8 -*-
# Copyright: cowstack.docker_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The plan every state module builds before it changes anything, and the one way it is carried out.

A step is a description and a callable. A state module reads the host, adds steps (and refusals, warnings, the
before/after state), then calls ``settle``: it refuses (nothing changed), or reports the plan and its diff and,
outside check mode, runs the steps in order. A step that fails raises ``StepFailed`` (``command`` does for a
command that fails) or ``OSError``; the module then fails naming the failed step and the steps done before it.

``Plan`` itself does no I/O; ``settle`` and ``Plan.apply`` end in the module's ``fail_json``."""

from __future__ import annotations

from ._command import run_c


class StepFailed(Exception):
    """A step could not be carried out: ``message``, and ``result`` keys for the module's failure (``rc``,
    ``cmd``)."""

    def __init__(self, message, **result):
        super(StepFailed, self).__init__(message)
        self.result = result


def command(module, argv):
    """Run ``argv`` (a list, ``LC_ALL=C``) as part of a step: its output, or ``StepFailed`` naming the command."""
    rc, out, err = run_c(module, argv)
    if rc != 0:
        raise StepFailed("%s failed (rc %s): %s" % (" ".join(argv), rc, (err or out).strip()), rc=rc, cmd=argv)
    return out


def _text(state):
    if isinstance(state, dict):
        return "".join("%s: %s\n" % (key, state[key]) for key in sorted(state))
    return state or ""


class Plan(object):
    """Ordered steps plus refusals (which stop the run before any step), warnings, and what the diff shows:
    ``before`` and ``after`` (dicts of ``name: value`` lines, ``after`` holding only what changes; or texts),
    and a diff per file (or other object) a step rewrites."""

    def __init__(self):
        self.steps = []
        self.refusals = []
        self.warnings = []
        self.before = {}
        self.after = {}
        self.files = []
        self.done = []

    def add(self, describe, action, diff=None):
        """A step: ``action()`` does what ``describe`` says. ``diff``: ``(name, before, after)`` texts of the file
        (or object) it rewrites, shown as a diff of its own."""
        self.steps.append((describe, action))
        if diff is not None:
            name, before, after = diff
            self.files.append({"before_header": name, "after_header": name, "before": before, "after": after})

    def refuse(self, message):
        self.refusals.append(message)

    def describe(self):
        return [describe for describe, _action in self.steps]

    def diff(self, header=None):
        """The before/after diff: a dict, or a list of dicts when steps rewrite files (the state first, if any);
        None when there is nothing to show."""
        diffs = []
        if self.before or self.after:
            after = dict(self.before, **self.after) if isinstance(self.before, dict) else self.after
            state = {"before": _text(self.before), "after": _text(after)}
            if header:
                state.update(before_header=header, after_header=header)
            diffs.append(state)
        if not self.files:
            return diffs[0] if diffs else None
        return diffs + self.files

    def failure(self, describe, error):
        """The message of a failed step: the step, the error, and the steps done before it."""
        if self.done:
            done = "Done before it: %s." % "; ".join(self.done)
        else:
            done = "Nothing was changed before it."
        return "%s failed: %s. %s" % (describe, str(error).rstrip("."), done)

    def apply(self, module, result=None):
        """Run the steps in order (``done`` lists those that ran). On a failure, fail the module with
        ``result``, the message of ``failure``, ``failed_step``, ``done`` and ``changed`` (true when a step ran)."""
        for describe, action in self.steps:
            try:
                action()
            except (StepFailed, OSError) as exc:
                failed = dict(result or {})
                failed.update(getattr(exc, "result", {}))
                failed.update(msg=self.failure(describe, exc), failed_step=describe, done=list(self.done),
                              changed=bool(self.done))
                module.fail_json(**failed)
            self.done.append(describe)


def settle(module, plan, result=None, header=None, details=None):
    """The common end of a state module. Refusals fail it (nothing changed, ``refused`` lists them); warnings are
    warned; ``result`` gets ``changed``, ``plan`` (the descriptions; with ``details``, that dict plus ``steps``) and,
    in diff mode with a change, ``diff`` (titled ``header``). Outside check mode the steps are then run (see
    ``Plan.apply``). Returns ``result``."""
    result = result if result is not None else {}
    steps = plan.describe()
    result.update(changed=False, plan=dict(details, steps=steps) if details is not None else steps)
    if plan.refusals:
        module.fail_json(msg=" ".join(plan.refusals), refused=plan.refusals, **result)
    for warning in plan.warnings:
        module.warn(warning)
    if plan.steps:
        result["changed"] = True
        diff = plan.diff(header) if module._diff else None
        if diff is not None:
            result["diff"] = diff
        if not module.check_mode:
            plan.apply(module, result)
    return result
