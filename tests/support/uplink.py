"""A gate's uplink on loopback: a TCP forwarder that counts what crosses it and can be cut.

``Uplink.start(target_port)`` listens on a free loopback port and forwards every
connection to ``127.0.0.1:target_port``. ``down_bytes`` counts the bytes that came
from the target (what the city sent over the link); ``requests()`` parses the HTTP
request heads that went up (method, path, headers), so a test can tell which asset
requests reached the city. ``cut()`` closes every connection and refuses new ones
until ``restore()``.
"""

from __future__ import annotations

import contextlib
import re
import socket
import threading
from dataclasses import dataclass, field

from tests.support.waiting import free_port

_HEAD = re.compile(rb"(GET|POST|PUT|HEAD|DELETE) (\S+) HTTP/1\.[01]\r\n((?:[^\r\n]+\r\n)*)\r\n")


@dataclass(frozen=True)
class SeenRequest:
    method: str
    path: str
    headers: dict[str, str]


@dataclass
class Uplink:
    target_port: int
    port: int = field(default_factory=free_port)
    down_bytes: int = 0
    _up: list[bytes] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _conns: list[socket.socket] = field(default_factory=list)
    _open: bool = True
    _server: socket.socket | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @classmethod
    def start(cls, target_port: int) -> Uplink:
        link = cls(target_port)
        server = socket.create_server(("127.0.0.1", link.port))
        link._server = server
        threading.Thread(target=link._accept, daemon=True).start()
        return link

    def _accept(self) -> None:
        assert self._server is not None
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            if not self._open:
                client.close()
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._conns += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, up: bool) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                with self._lock:
                    if up:
                        self._up.append(data)
                    else:
                        self.down_bytes += len(data)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def requests(self) -> list[SeenRequest]:
        """Every HTTP request head that went up so far (bodies are skipped by the regex)."""
        with self._lock:
            raw = b"".join(self._up)
        seen = []
        for m in _HEAD.finditer(raw):
            headers = {}
            for line in m.group(3).decode("latin-1").split("\r\n"):
                if ":" in line:
                    name, value = line.split(":", 1)
                    headers[name.strip().lower()] = value.strip()
            seen.append(SeenRequest(m.group(1).decode(), m.group(2).decode(), headers))
        return seen

    def cut(self) -> None:
        self._open = False
        with self._lock:
            conns, self._conns = self._conns, []
        for s in conns:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def restore(self) -> None:
        self._open = True

    def stop(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
