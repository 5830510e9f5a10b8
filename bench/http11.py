"""A small HTTP/1.1 client on asyncio streams, for the fleet simulator (``bench/load.py``).

A thousand simulated screens share one core with the server they measure, so each request
must cost the simulator little: this client spends tens of microseconds per request where
a general-purpose client spends about a millisecond. It speaks only what the device routes
need: requests with ``Content-Length`` bodies, answers with ``Content-Length`` or chunked
bodies, keep-alive.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any


class HttpError(Exception):
    """No answer: the connection failed, was cut, or the answer was not HTTP/1.1."""


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


class Connection:
    """One device's keep-alive HTTP/1.1 connection, on asyncio streams.

    Deliberately small (a request costs the simulator a few tens of microseconds, not the
    millisecond a general-purpose client spends): requests with ``Content-Length`` bodies,
    answers with ``Content-Length`` or chunked bodies. A connection idle longer than the
    server keeps it (uvicorn: 5 s) is opened again; one closed under a request that sent
    nothing back is tried once more on a new connection, as HTTP clients do.
    """

    IDLE_S = 4.0

    def __init__(self, host: str, port: int, token: str) -> None:
        self.host, self.port = host, port
        self.fixed = f"Host: {host}:{port}\r\nAuthorization: Bearer {token}\r\n".encode()
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.used = 0.0

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def request(
        self, method: str, path: str, headers: str = "", body: bytes = b"", sink: Any = None
    ) -> Answer:
        fresh = self.writer is None or time.monotonic() - self.used > self.IDLE_S
        for attempt in range(2):
            if fresh:
                self.close()
                try:
                    self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
                except OSError as e:
                    raise HttpError(f"connect: {e}") from e
            try:
                return await self._exchange(method, path, headers, body, sink)
            except (ConnectionError, asyncio.IncompleteReadError) as e:
                self.close()
                if fresh or attempt or (isinstance(e, asyncio.IncompleteReadError) and e.partial):
                    raise HttpError(f"{type(e).__name__}: {e}") from e
                fresh = True  # the server closed an idle connection just now: once more
            finally:
                self.used = time.monotonic()
        raise AssertionError("unreachable")

    async def _exchange(
        self, method: str, path: str, headers: str, body: bytes, sink: Any
    ) -> Answer:
        assert self.reader is not None and self.writer is not None
        head = f"{method} {path} HTTP/1.1\r\n{headers}Content-Length: {len(body)}\r\n\r\n"
        self.writer.write(head.encode("latin-1").replace(b"\r\n", b"\r\n" + self.fixed, 1))
        if body:
            self.writer.write(body)
        raw = await self.reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        if len(parts) < 2 or parts[0] != "HTTP/1.1":
            raise ConnectionError(f"not an HTTP/1.1 answer: {lines[0]!r}")
        status = int(parts[1])
        answer = Answer(status, {}, b"")
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                answer.headers[name.strip().lower()] = value.strip()
        chunks: list[bytes] = []
        if status in (204, 304) or method == "HEAD":
            pass
        elif answer.headers.get("transfer-encoding", "").lower() == "chunked":
            while size := int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16):
                chunk = await self.reader.readexactly(size)
                sink.update(chunk) if sink is not None else chunks.append(chunk)
                await self.reader.readexactly(2)
            await self.reader.readuntil(b"\r\n")
        else:
            left = int(answer.headers.get("content-length", "0"))
            while left > 0:
                chunk = await self.reader.read(min(left, 1 << 16))
                if not chunk:
                    raise asyncio.IncompleteReadError(b"?", left)
                left -= len(chunk)
                sink.update(chunk) if sink is not None else chunks.append(chunk)
        answer.body = b"".join(chunks)
        if answer.headers.get("connection", "").lower() == "close":
            self.close()
        return answer
