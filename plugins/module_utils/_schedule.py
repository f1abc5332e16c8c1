# -*- coding: utf-8 -*-
# Copyright: cowstack.docker_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cron schedules checked as cron reads them, and the same schedule as a systemd ``OnCalendar=``. Pure, no I/O.

Installed beside the standalone ``cowstack-snapshot`` tool with ``_retention``: standard library only, and the
collection's files it imports are imported relatively here and as plain modules there."""

from __future__ import annotations

try:
    from ._retention import RetentionError
except ImportError:  # beside the installed tool: a plain module
    from _retention import RetentionError

_CRON_FIELDS = (("minute", 0, 59, None), ("hour", 0, 23, None), ("day", 1, 31, None),
                ("month", 1, 12, ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")),
                ("weekday", 0, 7, ("sun", "mon", "tue", "wed", "thu", "fri", "sat")))
_CRON_SPECIAL = {"@hourly": "0 * * * *", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@weekly": "0 0 * * 0",
                 "@monthly": "0 0 1 * *", "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *"}
_SYSTEMD_DAYS = ("Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat")


def _cron_number(text, low, names, field):
    if names and text.lower() in names:
        return names.index(text.lower()) + (1 if field == "month" else 0)
    if not text.isdigit():
        raise RetentionError("cron %s: %r is not a number%s" % (field, text, " or a name" if names else ""))
    return int(text)


def _cron_field(text, field, low, high, names):
    """The set of values cron's own parser would accept for one field, or raise."""
    values = set()
    for element in text.split(","):
        if not element:
            raise RetentionError("cron %s %r: empty list element" % (field, text))
        step = 1
        if "/" in element:
            element, step_text = element.split("/", 1)
            if not step_text.isdigit() or int(step_text) < 1:
                raise RetentionError("cron %s %r: step must be a whole number above 0" % (field, text))
            step = int(step_text)
            if element != "*" and "-" not in element:
                raise RetentionError("cron %s %r: a step needs '*' or a range before it" % (field, text))
        if element == "*":
            first, last = low, high
        elif "-" in element:
            start, end = element.split("-", 1)
            first, last = _cron_number(start, low, names, field), _cron_number(end, low, names, field)
            if first > last:
                raise RetentionError("cron %s %r: range runs backwards" % (field, text))
        else:
            first = last = _cron_number(element, low, names, field)
        if first < low or last > high:
            raise RetentionError("cron %s %r: values must be within %d-%d" % (field, text, low, high))
        values.update(range(first, last + 1, step))
    return values


def parse_cron(expression):
    """Validate a cron schedule (5 fields or @hourly/@daily/@weekly/@monthly/@yearly) as cron would.

    Returns ``{'minute', 'hour', 'day', 'month', 'weekday'}`` (the fields as written, for
    ansible.builtin.cron) plus ``special_time`` when an @ form was given, and ``on_calendar`` (the same
    schedule for a systemd timer, or None when systemd cannot express it)."""
    if not isinstance(expression, str) or not expression.strip():
        raise RetentionError("schedule must be a cron expression like '0 * * * *', not %r" % (expression,))
    text = expression.strip()
    special = None
    if text.startswith("@"):
        if text.lower() == "@reboot":
            raise RetentionError("schedule @reboot is not a period; use a time-based cron expression")
        if text.lower() not in _CRON_SPECIAL:
            raise RetentionError("schedule %r: unknown @ form (known: %s)" % (text, ", ".join(sorted(_CRON_SPECIAL))))
        special = text.lower()[1:]
        if special == "midnight":
            special = "daily"
        elif special == "yearly":
            special = "annually"
        text = _CRON_SPECIAL[text.lower()]
    fields = text.split()
    if len(fields) != 5:
        raise RetentionError("schedule %r must have 5 fields (minute hour day month weekday), it has %d"
                             % (expression, len(fields)))
    sets = {}
    result = {}
    for (name, low, high, names), value in zip(_CRON_FIELDS, fields):
        sets[name] = _cron_field(value, name, low, high, names)
        result[name] = value
    result["special_time"] = special
    result["on_calendar"] = _on_calendar(fields, sets)
    return result


def _calendar_list(values, full, width=2):
    if values == set(full):
        return "*"
    return ",".join("%0*d" % (width, v) for v in sorted(values))


def _on_calendar(fields, sets):
    """systemd OnCalendar= for a validated cron expression; None when cron's day-of-month OR
    day-of-week rule (both restricted) cannot be expressed."""
    dom_restricted = not fields[2].startswith("*")
    dow_restricted = not fields[4].startswith("*")
    if dom_restricted and dow_restricted:
        return None
    days = set(7 if d == 0 else d for d in sets["weekday"])
    if days != set(range(1, 8)):  # "*/2" starts with "*" (cron ANDs it with the day) but is still a restriction
        weekday = ",".join(_SYSTEMD_DAYS[d % 7] for d in sorted(days)) + " "
    else:
        weekday = ""
    return "%s*-%s-%s %s:%s:00" % (weekday, _calendar_list(sets["month"], range(1, 13)),
                                   _calendar_list(sets["day"], range(1, 32)),
                                   _calendar_list(sets["hour"], range(0, 24)),
                                   _calendar_list(sets["minute"], range(0, 60)))
