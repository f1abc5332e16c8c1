# -*- coding: utf-8 -*-
# Copyright: cowstack.docker_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""storage_facts' probes of Docker: daemon.json, the service unit with its drop-ins and the dockerd flags they set,
and the daemon itself (its API over the unix socket, never opened when only socket activation listens there).
Reads the host; changes nothing."""

from __future__ import annotations

import json
import os
import re

from ._docker_info import negotiate, storage_view
from ._http import unix_get
from ._probe import Probe, read_file
from ._systemd_unit import (
    command_words, dockerd_flags, env_file_assignments, flag_conflicts, parse_show, service_settings)


def _activation_only(show_output, socket_path):
    """Whether ``systemctl show --property=ActiveState,Listen SOCKET SERVICE`` says that systemd listens on
    ``socket_path`` for a service that is not running: a connection would then start it."""
    blocks = parse_show(show_output)
    if len(blocks) != 2:
        return False
    # one Listen= line per listener (a drop-in may add a TCP one): every line counts, not the last
    listens = [value.rsplit(" (", 1)[0] for key, value in blocks[0] if key == "Listen" and value]
    socket, service = dict(blocks[0]), dict(blocks[1])
    real = os.path.realpath(socket_path)
    return (socket.get("ActiveState") == "active" and service.get("ActiveState") in ("inactive", "failed")
            and any(os.path.realpath(path) == real for path in listens))


class DockerProbe(Probe):
    api = None  # the API version negotiated with dockerd (None: unversioned paths)

    # -- daemon.json ---------------------------------------------------------------------------------
    def daemon_json(self):
        path = self.params["daemon_json_path"]
        result = {"path": path, "exists": os.path.exists(path), "valid": None, "content": None, "error": None,
                  "flag_conflicts": []}
        if not result["exists"]:
            result["valid"] = True
            return result
        try:
            with open(path, "rb") as handle:
                raw = handle.read().decode("utf-8")
        except (IOError, OSError, UnicodeDecodeError) as exc:
            result["valid"] = False
            result["error"] = "%s cannot be read (%s): run as root (become: true) or fix its permissions" % (path, exc)
            return result
        try:
            content = json.loads(raw) if raw.strip() else {}
        except ValueError as exc:
            result["valid"] = False
            result["error"] = ("%s is not valid JSON (%s): dockerd will not start with it either; fix the file "
                               "(python3 -m json.tool %s shows where) and run again" % (path, exc, path))
            return result
        if not isinstance(content, dict):
            result["valid"] = False
            result["error"] = "%s must hold a JSON object, not %s: fix the file" % (path, type(content).__name__)
            return result
        result["valid"] = True
        result["content"] = content
        return result

    # -- systemd unit --------------------------------------------------------------------------------
    def service(self, daemon_json_content):
        name = self.params["service_name"]
        dirs, seen = [], set()
        for directory in self.params["unit_paths"]:
            real = os.path.realpath(directory)
            if real not in seen and os.path.isdir(directory):
                seen.add(real)
                dirs.append(directory)
        unit = None
        for directory in dirs:
            candidate = os.path.join(directory, name)
            if os.path.isfile(candidate) and os.path.realpath(candidate) != "/dev/null":
                unit = candidate
                break
        drop_ins = {}
        for directory in reversed(dirs):
            folder = os.path.join(directory, name + ".d")
            if os.path.isdir(folder):
                for entry in os.listdir(folder):
                    if entry.endswith(".conf"):
                        drop_ins[entry] = os.path.join(folder, entry)
        files = ([unit] if unit else []) + [drop_ins[k] for k in sorted(drop_ins)]
        units = [(path, read_file(path) or "") for path in files]
        settings = service_settings(units)
        result = {"unit": unit, "drop_ins": files[1:] if unit else files, "exec_start": None, "flags": []}
        conflicts = []
        if settings["exec_start"]:
            env = {}
            for path, _optional in settings["environment_files"]:
                text = read_file(path)
                if text is not None:
                    env.update(env_file_assignments(path, text))
            env.update(settings["environment"])
            words = command_words(settings["exec_start"], env)
            flags = dockerd_flags(words)
            result["exec_start"] = " ".join(w for w, _p, _l in words)
            result["flags"] = [{"flag": f, "key": k, "value": v, "file": p, "line": ln} for f, k, v, p, ln in flags]
            conflicts = flag_conflicts(flags, daemon_json_content)
        return result, conflicts

    # -- docker --------------------------------------------------------------------------------------
    def docker_host(self):
        return self.params["docker_host"] or os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"

    def socket_unit(self):
        return self.params["service_name"][:-len(".service")] + ".socket"

    def activation_only(self, socket_path):
        """On a systemd host, whether the service is stopped and its socket unit listens on ``socket_path``."""
        systemctl = self.bin("systemctl")
        if not os.path.isdir("/run/systemd/system") or not systemctl:
            return False
        rc, out, _err = self.run([systemctl, "show", "--property=ActiveState,Listen", self.socket_unit(),
                                  self.params["service_name"]])
        return rc == 0 and _activation_only(out, socket_path)

    def api_get(self, host, path):
        prefix = "/v%s" % self.api if self.api else ""
        return json.loads(unix_get(host[len("unix://"):], prefix + path, self.params["api_timeout"]).decode("utf-8"))

    def docker(self):
        host = self.docker_host()
        dockerd = self.bin("dockerd")
        cli = self.bin("docker")
        result = {"installed": bool(dockerd or cli), "version": None, "running": False, "driver": None,
                  "image_store": None, "driver_status": [], "images": None, "containers": None, "volumes": None,
                  "data_root": None,
                  "userns_remap": False, "api_version": None, "host": host, "dockerd_path": dockerd, "error": None}
        info = version = None
        if host.startswith("unix://") and self.activation_only(host[len("unix://"):]):
            result["error"] = ("%s is stopped and %s listens on %s: not opened, so that socket activation does not "
                               "start docker" % (self.params["service_name"], self.socket_unit(), host))
        elif host.startswith("unix://"):
            try:
                version = self.api_get(host, "/version")  # unversioned: every dockerd answers it
                self.api = negotiate(version)
                info = self.api_get(host, "/info")
            except (OSError, ValueError) as exc:  # OSError covers socket errors and timeouts
                result["error"] = "daemon at %s not reachable: %s" % (host, exc)
        elif cli:
            rc, out, err = self.run([cli, "-H", host, "info", "--format", "{{json .}}"])
            if rc == 0:
                try:
                    info = json.loads(out)
                except ValueError as exc:
                    result["error"] = "docker info output is not JSON: %s" % exc
            else:
                result["error"] = err.strip() or out.strip()
        if info:
            result.update(storage_view(info, version))
            result["api_negotiated"] = self.api
            result["running"] = True
            result["error"] = None
            if host.startswith("unix://"):
                try:
                    if result.get("containers"):
                        listed = self.api_get(host, "/containers/json?all=1") or []
                        result["container_names"] = ["%s (%s, %s)" % (
                            ",".join(n.lstrip("/") for n in c.get("Names") or []), c.get("Image"), c.get("Status"))
                            for c in listed[:50]]
                    result["volumes"] = len((self.api_get(host, "/volumes") or {}).get("Volumes") or [])
                    if result.get("images"):  # untagged images do not cross a switch of image store
                        result["untagged_images"] = len(self.api_get(
                            host, "/images/json?filters=%7B%22dangling%22%3A%5B%22true%22%5D%7D") or [])
                    if self.params["gather_image_size"]:
                        result["images_size"] = (self.api_get(host, "/system/df") or {}).get("LayersSize")
                except (OSError, ValueError):
                    result["volumes"] = None
        if not result["version"] and dockerd:
            rc, out, _err = self.run([dockerd, "--version"])
            match = re.search(r"version\s+([0-9][^\s,]*)", out or "")
            if rc == 0 and match:
                result["version"] = match.group(1)
        return result
