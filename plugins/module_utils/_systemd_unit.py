# -*- coding: utf-8 -*-
# Copyright: cowstack.docker_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""dockerd's command line as systemd builds it from a unit and its drop-ins, and the options it sets
that daemon.json sets too (dockerd then refuses to start). Pure: the caller reads the files."""

from __future__ import annotations

import re
import shlex

# Short flags of dockerd -> daemon.json key.
SHORT_FLAGS = {"-s": "storage-driver", "-g": "data-root", "-H": "hosts", "-D": "debug", "-G": "group",
               "-l": "log-level", "-p": "pidfile", "-b": "bridge"}
# Long flags whose daemon.json key is not the flag's own name.
LONG_FLAG_KEYS = {
    "graph": "data-root", "storage-opt": "storage-opts", "host": "hosts", "label": "labels",
    "insecure-registry": "insecure-registries", "registry-mirror": "registry-mirrors", "add-runtime": "runtimes",
    "exec-opt": "exec-opts", "log-opt": "log-opts", "default-ulimit": "default-ulimits",
    "authorization-plugin": "authorization-plugins", "dns-opt": "dns-opts", "cluster-store-opt": "cluster-store-opts",
    "node-generic-resource": "node-generic-resources", "default-address-pool": "default-address-pools",
    "feature": "features",
}
# daemon.json keys that mean the same option.
KEY_ALIASES = {"data-root": ("data-root", "graph")}
# Flags that are not daemon.json options.
NOT_OPTIONS = ("config-file", "validate", "help", "version", "v", "h")

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")


def parse_unit(text):
    """``[(section, key, value, line)]`` with backslash continuations joined and comments dropped."""
    entries, section, pending, start = [], None, None, 0
    for number, raw in enumerate((text or "").splitlines(), 1):
        line = raw.rstrip()
        if pending is not None:
            pending += " " + line.strip()
        else:
            stripped = line.strip()
            if not stripped or stripped[0] in "#;":
                continue
            if stripped.startswith("[") and stripped.endswith("]"):
                section = stripped[1:-1]
                continue
            pending, start = stripped, number
        if pending.endswith("\\"):
            pending = pending[:-1].rstrip()
            continue
        if "=" in pending:
            key, value = pending.split("=", 1)
            entries.append((section, key.strip(), value.strip(), start))
        pending = None
    return entries


def parse_show(text):
    """``systemctl show --property=... UNIT...`` output: one list of ``(key, value)`` pairs per unit, in order (a
    property with several values, such as a socket's ``Listen``, appears once per value)."""
    return [[tuple(line.split("=", 1)) for line in block.splitlines() if "=" in line]
            for block in (text or "").strip().split("\n\n")]


def parse_env_assignments(text):
    """``Environment=`` values or an EnvironmentFile's lines -> ``{name: value}``."""
    env = {}
    try:
        words = shlex.split(text or "", comments=True)
    except ValueError:
        words = (text or "").split()
    for word in words:
        if "=" in word:
            name, value = word.split("=", 1)
            env[name] = value
    return env


def service_settings(units):
    """Fold a unit file and its drop-ins, given in systemd's order as ``[(path, text)]``.

    Returns ``{"exec_start": (value, path, line) or None, "environment": {name: (value, path, line)},
    "environment_files": [(path, optional)]}``.
    """
    exec_start, environment, env_files = None, {}, []
    for path, text in units:
        for section, key, value, line in parse_unit(text):
            if section != "Service":
                continue
            if key == "ExecStart":
                exec_start = (value, path, line) if value else None
            elif key == "Environment":
                for name, val in parse_env_assignments(value).items():
                    environment[name] = (val, path, line)
            elif key == "EnvironmentFile":
                if not value:
                    env_files = []
                else:
                    env_files.append((value.lstrip("-"), value.startswith("-")))
    return {"exec_start": exec_start, "environment": environment, "environment_files": env_files}


def env_file_assignments(path, text):
    """An EnvironmentFile -> ``{name: (value, path, line)}``."""
    env = {}
    for number, line in enumerate((text or "").splitlines(), 1):
        for name, value in parse_env_assignments(line).items():
            env[name] = (value, path, number)
    return env


def _expand(word, env):
    return _VAR.sub(lambda m: (env.get(m.group(1) or m.group(2)) or ("",))[0], word)


def command_words(exec_start, env):
    """ExecStart -> ``[(word, path, line)]``; ``$VAR`` alone expands to several words from where VAR is set."""
    value, path, line = exec_start
    value = value.lstrip("-@+!")
    words = []
    try:
        raw_words = shlex.split(value)
    except ValueError:
        raw_words = value.split()
    for raw in raw_words:
        whole = _VAR.fullmatch(raw)
        if whole:
            name = whole.group(1) or whole.group(2)
            val, vpath, vline = env.get(name, ("", path, line))
            try:
                parts = shlex.split(val)
            except ValueError:
                parts = val.split()
            words.extend((part, vpath, vline) for part in parts)
        else:
            words.append((_expand(raw, env), path, line))
    return words


def dockerd_flags(words):
    """``[(flag, key, value, path, line)]`` of a dockerd command line (words after the binary)."""
    flags = []
    if words and not words[0][0].startswith("-"):
        words = words[1:]
    i = 0
    while i < len(words):
        word, path, line = words[i]
        i += 1
        if not word.startswith("-") or word in ("-", "--"):
            continue
        name, value = word, None
        if "=" in word:
            name, value = word.split("=", 1)
        elif i < len(words) and not words[i][0].startswith("-"):
            value = words[i][0]
            i += 1
        if name.startswith("--"):
            bare = name[2:]
            key = LONG_FLAG_KEYS.get(bare, bare)
        else:
            bare = name[1:]
            key = SHORT_FLAGS.get(name)
        if key is None or bare in NOT_OPTIONS:
            continue
        flags.append((name, key, value, path, line))
    return flags


def flag_conflicts(flags, daemon_json):
    """Options set both as a dockerd flag and in daemon.json -> ``[{key, flag, value, file, line}]``."""
    conflicts = []
    if not isinstance(daemon_json, dict):
        return conflicts
    for name, key, value, path, line in flags:
        for alias in KEY_ALIASES.get(key, (key,)):
            if alias in daemon_json:
                conflicts.append({"key": alias, "flag": name if value is None else "%s %s" % (name, value),
                                  "file": path, "line": line})
                break
    return conflicts


def without_flags(exec_start, keys):
    """The ExecStart command line ``exec_start`` (as storage_facts reports it) without the flags that set any of
    ``keys`` -> the new command line, for a drop-in that overrides ExecStart."""
    words = shlex.split(exec_start or "")
    kept, i = words[:1], 1
    while i < len(words):
        word = words[i]
        i += 1
        name = word.split("=", 1)[0]
        consumes = "=" not in word and i < len(words) and not words[i].startswith("-")
        key = SHORT_FLAGS.get(name) if not name.startswith("--") else LONG_FLAG_KEYS.get(name[2:], name[2:])
        if word.startswith("-") and key in keys:
            if consumes:
                i += 1
            continue
        kept.append(word)
        if word.startswith("-") and consumes:
            kept.append(words[i])
            i += 1
    return " ".join(shlex.quote(w) for w in kept)
