"""Loopback servers for the tests: sources are served on 127.0.0.1 from recorded
payloads, with conditional GETs and injectable faults. Nothing leaves the machine."""

from __future__ import annotations

import hashlib
import json
import sys
import threading
import time
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Route:
    body: bytes
    content_type: str = "application/json"
    status: int = 200
    etag: bool = True
    last_modified: str = field(default_factory=lambda: formatdate(1760000000, usegmt=True))
    # faults, consumed one per request: "500", "timeout", "slow", "truncate", "html", "invalid", "close"
    faults: list[str] = field(default_factory=list)
    ranges: bool = True

    @property
    def etag_value(self) -> str:
        return '"' + hashlib.sha256(self.body).hexdigest()[:16] + '"'


class LoopbackServer:
    """routes: path -> Route. Records every request: (method, path, status, bytes sent)."""

    def __init__(self):
        self.routes: dict[str, Route] = {}
        self.log: list[dict] = []
        self.posts: list[dict] = []
        self.post_status = 200
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _send(self, status: int, body: bytes, headers: dict):
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if body and self.command != "HEAD":
                    self.wfile.write(body)
                server.log.append({"method": self.command, "path": self.path, "status": status,
                                   "bytes": len(body), "headers": dict(self.headers)})

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                data = self.rfile.read(length)
                try:
                    payload = json.loads(data)
                except ValueError:
                    payload = data.decode("utf-8", "replace")
                server.posts.append({"path": self.path, "json": payload, "headers": dict(self.headers)})
                self._send(server.post_status, b"ok", {"Content-Type": "text/plain"})

            def do_GET(self):
                path = self.path.split("?")[0]
                route = server.routes.get(path) or server.routes.get(self.path)
                if route is None:
                    return self._send(404, b'{"message": "Not found"}', {"Content-Type": "application/json"})
                fault = route.faults.pop(0) if route.faults else None
                if fault == "500":
                    return self._send(500, b"<html>Erreur interne</html>", {"Content-Type": "text/html"})
                if fault == "timeout":
                    server.log.append({"method": "GET", "path": self.path, "status": "timeout", "bytes": 0,
                                       "headers": dict(self.headers)})
                    time.sleep(3)
                    try:
                        self.send_response(503)
                        self.end_headers()
                    except OSError:
                        pass
                    return None
                if fault == "html":
                    return self._send(200, b"<!DOCTYPE html><html><body>Maintenance</body></html>",
                                      {"Content-Type": "text/html; charset=utf-8"})
                if fault == "invalid":
                    return self._send(200, b'{"data": [ {"id": "x", ', {"Content-Type": "application/json"})
                if fault == "close":
                    self.close_connection = True
                    self.wfile.flush()
                    self.connection.shutdown(2)
                    server.log.append({"method": "GET", "path": self.path, "status": 0, "bytes": 0, "headers": {}})
                    return None
                headers = {"Content-Type": route.content_type, "Last-Modified": route.last_modified}
                if route.etag:
                    headers["ETag"] = route.etag_value
                    if self.headers.get("If-None-Match") == route.etag_value:
                        return self._send(304, b"", {"ETag": route.etag_value})
                elif self.headers.get("If-Modified-Since") == route.last_modified:
                    return self._send(304, b"", {})
                body, status = route.body, route.status
                rng = self.headers.get("Range")
                if rng and route.ranges and rng.startswith("bytes="):
                    start = int(rng[6:].split("-")[0])
                    if start >= len(body):
                        return self._send(416, b"", {})
                    headers["Content-Range"] = f"bytes {start}-{len(body) - 1}/{len(body)}"
                    body, status = body[start:], 206
                if fault == "truncate":
                    half = body[: len(body) // 2]
                    self.send_response(status)
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(half)
                    self.wfile.flush()
                    self.close_connection = True
                    server.log.append({"method": "GET", "path": self.path, "status": status, "bytes": len(half),
                                       "headers": dict(self.headers)})
                    return None
                if fault == "slow":
                    server.log.append({"method": "GET", "path": self.path, "status": status, "bytes": 0,
                                       "headers": dict(self.headers)})
                    self.send_response(status)
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    try:
                        for i in range(0, len(body), 64):
                            self.wfile.write(body[i:i + 64])
                            self.wfile.flush()
                            time.sleep(0.2)
                    except OSError:  # the client gave up: stop dripping
                        self.close_connection = True
                    return None
                return self._send(status, body, headers)

            do_HEAD = do_GET

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                # A client that gives up mid-answer (what the fault tests provoke) is not a
                # server error; anything else still prints.
                if not isinstance(sys.exc_info()[1], ConnectionError):
                    super().handle_error(request, client_address)

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def start(self) -> LoopbackServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def requests_to(self, path: str) -> list[dict]:
        return [r for r in self.log if r["path"].split("?")[0] == path]
