# -*- coding: utf-8 -*-
# Copyright: cowstack.docker_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The storage view of dockerd's ``/info`` (same JSON as ``docker info --format '{{json .}}'``). Pure."""

from __future__ import annotations

CONTAINERD_DRIVER_TYPE = "io.containerd.snapshotter.v1"
# The newest API version whose answers the facts read (Docker 29.0's). Docker 29 refuses requests below 1.44
# (29.3 below 1.40); 25 to 28 below 1.24. The version asked is negotiated from /version, which every dockerd
# answers unversioned.
CLIENT_API = (1, 52)


def _api(text):
    try:
        major, minor = str(text).split(".")[:2]
        return int(major), int(minor)
    except (ValueError, TypeError):
        return None


def negotiate(version):
    """``/version``'s document -> the API version to ask the daemon (``"1.45"``), or None (ask unversioned):
    the newest both know, and never below the daemon's minimum."""
    server_max, server_min = _api((version or {}).get("ApiVersion")), _api((version or {}).get("MinAPIVersion"))
    if server_max is None:
        return None
    chosen = min(server_max, CLIENT_API)
    if server_min is not None and chosen < server_min:
        chosen = server_min
    return "%d.%d" % chosen


def image_store(driver_status):
    """``containerd`` when DriverStatus carries ``driver-type io.containerd.snapshotter.v1``, else ``graphdriver``."""
    for pair in driver_status or ():
        if isinstance(pair, (list, tuple)) and len(pair) == 2 and pair[0] == "driver-type" \
                and pair[1] == CONTAINERD_DRIVER_TYPE:
            return "containerd"
    return "graphdriver"


def storage_view(info, version=None):
    """Reduce an ``/info`` document (and optionally ``/version``'s) to the facts' ``docker`` keys."""
    info = info or {}
    status = [list(p) for p in (info.get("DriverStatus") or []) if isinstance(p, (list, tuple))]
    security = info.get("SecurityOptions") or []
    return {
        "version": (version or {}).get("Version") or info.get("ServerVersion"),
        "api_version": (version or {}).get("ApiVersion"),
        "api_min_version": (version or {}).get("MinAPIVersion"),
        "driver": info.get("Driver"),
        "image_store": image_store(status),
        "driver_status": status,
        "data_root": info.get("DockerRootDir"),
        "images": info.get("Images"),
        "containers": info.get("Containers"),
        "userns_remap": any("name=userns" in str(o) for o in security),
    }
