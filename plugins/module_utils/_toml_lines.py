# -*- coding: utf-8 -*-
# Copyright: cowstack.docker_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Set keys in a TOML file (containerd's config.toml) line by line, keeping every other line as it is. Pure.

Not a TOML parser: it finds ``[table]`` headers and ``key = value`` lines at the start of a line, which is how
``containerd config default`` writes its file and how operators edit it. A key is set in the table that holds it
(its line replaced), appended to that table, or in a new table at the end. What it cannot place with certainty (a
value spread over several lines, an inline table holding the key, an array of tables) is refused, so the caller
can tell the user instead of guessing; the result is always checked by containerd itself before it replaces the
file (the containerd_config module)."""

from __future__ import annotations

import json
import re

_HEADER = re.compile(r"^\s*(\[\[?)\s*(.+?)\s*\]\]?\s*(?:#.*)?$")
_BARE = re.compile(r"^[A-Za-z0-9_-]+$")
_KEY_LINE = r"^(\s*)(%s)\s*=\s*(.*)$"


def split_key(dotted):
    """``'plugins."io.containerd.gc.v1.scheduler".pause_threshold'`` -> the parts, quotes removed."""
    parts, rest = [], dotted.strip()
    while rest:
        if rest[0] in "\"'":
            end = rest.find(rest[0], 1)
            if end < 0:
                raise ValueError("unclosed quote in %r" % dotted)
            parts.append(rest[1:end])
            rest = rest[end + 1:].lstrip()
        else:
            match = re.match(r"[A-Za-z0-9_-]+", rest)
            if not match:
                raise ValueError("%r is not a dotted TOML key: use one such as plugins.\"io.containerd.gc.v1.scheduler\""
                                 ".pause_threshold" % dotted)
            parts.append(match.group(0))
            rest = rest[match.end():].lstrip()
        if rest:
            if rest[0] != ".":
                raise ValueError("%r is not a dotted TOML key: write its parts joined by dots, quote a part that holds "
                                 "dots or spaces" % dotted)
            rest = rest[1:].lstrip()
            if not rest:
                raise ValueError("%r ends with a dot" % dotted)
    if not parts:
        raise ValueError("an empty key")
    return parts


def join_key(parts):
    return ".".join(p if _BARE.match(p) else json.dumps(p) for p in parts)


def render(value):
    """A TOML value for a string, boolean, whole or decimal number, or a list of those."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a TOML basic string
    if isinstance(value, list):
        return "[%s]" % ", ".join(render(v) for v in value)
    raise ValueError("%r is not a TOML value this module writes (a string, boolean, number or a list of them)"
                     % (value,))


def split_comment(rest):
    """``value # comment`` -> (value, comment or ""): the first ``#`` outside a quoted string starts the comment."""
    quote, escaped = None, False
    for i, char in enumerate(rest):
        if quote:
            if escaped:
                escaped = False
            elif char == "\\" and quote == '"':
                escaped = True
            elif char == quote:
                quote = None
        elif char in "\"'":
            quote = char
        elif char == "#":
            return rest[:i].rstrip(), rest[i:]
    return rest.rstrip(), ""


def _in_multiline(lines):
    """The indices of the lines inside a multi-line string (\"\"\" or \'\'\'), which hold no key or header."""
    inside, opener = set(), None
    for i, line in enumerate(lines):
        if opener:
            inside.add(i)
            if line.count(opener) % 2 == 1:
                opener = None
            continue
        for mark in ('"""', "'''"):
            if line.count(mark) % 2 == 1:
                opener = mark
                break
    return inside


def _tables(lines):
    """``[(parts, index of the header line or -1 for the root, is an array of tables)]`` in file order."""
    found = [((), -1, False)]
    skip = _in_multiline(lines)
    for i, line in enumerate(lines):
        if i in skip:
            continue
        match = _HEADER.match(line)
        if match and not line.lstrip().startswith("#"):
            try:
                parts = tuple(split_key(match.group(2)))
            except ValueError:
                parts = ("\0unparsed", str(i))
            found.append((parts, i, match.group(1) == "[["))
    return found


def _key_pattern(key):
    alternatives = [re.escape(key)] + [re.escape(json.dumps(key)), re.escape("'%s'" % key)]
    return re.compile(_KEY_LINE % "|".join(alternatives))


def _find(lines, table, key):
    tables = _tables(lines)
    skip = _in_multiline(lines)
    pattern = _key_pattern(key)
    for n, (parts, start, _array) in enumerate(tables):
        if parts != table:
            continue
        end = tables[n + 1][1] if n + 1 < len(tables) else len(lines)
        for i in range(start + 1, end):
            match = pattern.match(lines[i]) if i not in skip else None
            if match:
                value, comment = split_comment(match.group(3))
                return i, value.strip(), comment
    return None


def set_key(text, dotted, value):
    """``text`` with ``dotted`` set to ``value`` -> (new text, what it was as written or None). Raises ValueError
    for what it cannot place with certainty."""
    parts = split_key(dotted)
    rendered = render(value)
    text = text or ""
    newline = "\r\n" if "\r\n" in text else "\n"
    lines = text.splitlines()
    tables = _tables(lines)
    table, key = tuple(parts[:-1]), parts[-1]
    if any(array and tuple(parts[:len(t)]) == t for t, _i, array in tables):
        raise ValueError("%s is inside an array of tables ([[...]]): set it by hand" % dotted)
    for k in range(len(parts) - 1):  # a parent written as an inline table: parent = {...}
        found = _find(lines, tuple(parts[:k]), parts[k])
        if found and found[1].startswith("{"):
            raise ValueError("%s is part of an inline table (%s = {...}): set it by hand" % (dotted, parts[k]))
    found = _find(lines, table, key)
    if found is not None:
        i, before, comment = found
        if before.startswith("[") and not before.rstrip().endswith("]") or before.startswith(('"""', "'''")):
            raise ValueError("%s spans several lines in the file: set it by hand" % dotted)
        indent = re.match(r"^(\s*)", lines[i]).group(1)
        if before == rendered:
            return text, before  # untouched: its line endings, its last newline or none
        lines[i] = "%s%s = %s%s" % (indent, join_key([key]), rendered, comment and " " + comment.strip())
        return newline.join(lines) + newline, before
    headers = [n for n, (t, _i, _a) in enumerate(tables) if t == table]
    if headers or not table:
        n = headers[0] if headers else 0
        start = tables[n][1]
        end = tables[n + 1][1] if n + 1 < len(tables) else len(lines)
        last = start
        for i in range(start + 1, end):
            if lines[i].strip() and not lines[i].lstrip().startswith("#"):
                last = i
        indent = re.match(r"^(\s*)", lines[last]).group(1) if last > start else ("  " if table else "")
        lines.insert(last + 1, "%s%s = %s" % (indent, join_key([key]), rendered))
        return newline.join(lines) + newline, None
    while lines and not lines[-1].strip():
        lines.pop()
    lines += ["", "[%s]" % join_key(list(table)), "  %s = %s" % (join_key([key]), rendered)]
    return newline.join(lines) + newline, None
