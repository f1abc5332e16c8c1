# -*- coding: utf-8 -*-
# Copyright: cowstack.docker_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A GET to dockerd's API socket as HTTP/1.0, and its response parser. Pure but for ``unix_get``.

HTTP/1.0 makes the daemon send the body unchunked and close the connection, so the response is read to its
end and split here; the module does not import ``http.client`` (with ``email``, most of a facts run's import
time on a fleet)."""

from __future__ import annotations

import socket


def request(path):
    return ("GET %s HTTP/1.0\r\nHost: docker\r\nUser-Agent: cowstack.docker_storage\r\n\r\n" % path).encode("ascii")


def parse_response(raw, path):
    """Raw HTTP/1.x response bytes -> the body; ValueError naming ``path`` for anything but a whole 200."""
    head, sep, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("iso-8859-1").split("\r\n")
    status = lines[0].split(None, 2)
    if not sep or len(status) < 2 or not status[0].startswith("HTTP/") or not status[1].isdigit():
        raise ValueError("malformed HTTP response to %s: %r" % (path, raw[:80]))
    if status[1] != "200":
        raise ValueError("HTTP %s from %s" % (" ".join(status[1:]), path))
    headers = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if colon:
            headers[name.strip().lower()] = value.strip()
    if "chunked" in headers.get("transfer-encoding", "").lower():
        raise ValueError("chunked response to %s (an HTTP/1.0 request must not get one)" % path)
    length = headers.get("content-length")
    if length is not None:
        if not length.isdigit() or int(length) > len(body):
            raise ValueError("truncated response to %s: %s of %s bytes" % (path, len(body), length))
        body = body[:int(length)]
    return body


def unix_get(socket_path, path, timeout):
    """GET ``path`` from the HTTP server on the unix socket ``socket_path``; the body (bytes)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    chunks = []
    try:
        sock.connect(socket_path)
        sock.sendall(request(path))
        while True:
            data = sock.recv(65536)
            if not data:
                break
            chunks.append(data)
    finally:
        sock.close()
    return parse_response(b"".join(chunks), path)
