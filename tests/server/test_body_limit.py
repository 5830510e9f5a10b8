"""Request bodies are bounded before anything reads them, tried over real HTTP against
``content-server serve`` in its own process (uvicorn), whose memory is read from /proc.

A 50 MB body without any token, announced by ``Content-Length`` or sent chunked,
is answered 413 problem+json while the server's peak memory stays where it was;
screenshots and event batches have their own caps; normal requests still work.
"""

from __future__ import annotations

import contextlib
import json
import socket
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from content_server.settings import Settings
from signage_core.timefmt import format_time
from tests.server.api_kit import image_bytes, playlist_body, text_item
from tests.server.content_server_kit import NOW, png
from tests.server.live_server_kit import LiveServer, serve

pytestmark = pytest.mark.live
MB = 1024 * 1024
BIG = 50 * MB


@pytest.fixture
def live(settings: Settings, content_dir: Path) -> Iterator[LiveServer]:
    with serve(settings, content_dir, CONTENT_SERVER_MAX_UPLOAD_BYTES=str(4 * MB)) as server:
        yield server


@dataclass
class RawAnswer:
    status: int
    headers: dict[str, str]
    body: bytes

    def problem(self) -> dict[str, Any]:
        assert self.headers["content-type"] == "application/problem+json"
        answer: dict[str, Any] = json.loads(self.body)
        return answer


def _read_answer(sock: socket.socket) -> RawAnswer:
    data = b""
    while b"\r\n\r\n" not in data:
        got = sock.recv(65536)
        assert got, f"the server closed the connection without an answer: {data!r}"
        data += got
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    while len(body) < int(headers.get("content-length", "0")):
        got = sock.recv(65536)
        assert got, "the answer was cut short"
        body += got
    return RawAnswer(int(lines[0].split()[1]), headers, body)


def _send_body(sock: socket.socket, chunks: Iterable[bytes]) -> None:
    try:
        for chunk in chunks:
            sock.sendall(chunk)
    except OSError:
        pass  # the server stopped reading after its answer: what we want


def raw_post(port: int, path: str, headers: dict[str, str], chunks: Iterable[bytes]) -> RawAnswer:
    """POST over a plain socket, sending the body while reading the answer, as a client
    that does not wait for the server would."""
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=120) as sock:
        sock.sendall(head.encode("latin-1"))
        sender = threading.Thread(target=_send_body, args=(sock, chunks), daemon=True)
        sender.start()
        answer = _read_answer(sock)
        with contextlib.suppress(OSError):  # the server may have closed it already
            sock.shutdown(socket.SHUT_RDWR)
        sender.join(timeout=120)
    return answer


def json_string_body(size: int) -> Iterator[bytes]:
    """A valid JSON document of ``size`` bytes, made in 1 MiB pieces."""
    opening, closing = b'{"site_id": "adot", "name": {"vi": "', b'"}}'
    yield opening
    left = size - len(opening) - len(closing)
    while left > 0:
        n = min(MB, left)
        yield b"a" * n
        left -= n
    yield closing


def chunked(pieces: Iterable[bytes]) -> Iterator[bytes]:
    for piece in pieces:
        yield f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    yield b"0\r\n\r\n"


def refused_harmlessly(
    live: LiveServer, path: str, headers: dict[str, str], chunks: Iterable[bytes], what: str
) -> dict[str, Any]:
    """Post ``what`` raw: it gets a 413 while the server's peak memory stays put, the
    refusal is one log line, not a traceback (an attacker could fill the log), and the
    server still answers. The problem document."""
    before_kib = live.peak_rss_kib()
    answer = raw_post(live.port, path, headers, chunks)
    assert answer.status == 413
    grown_mb = (live.peak_rss_kib() - before_kib) / 1024
    assert grown_mb < 10, f"{what}: the server's peak memory grew by {grown_mb:.0f} MB"
    log = live.wait_for_log(f"POST {path} from 127.0.0.1: body")
    assert "Traceback" not in log and "unexpected error" not in log, log
    assert requests.get(f"{live.url}/healthz", timeout=30).status_code == 200
    return answer.problem()


def test_a_50_mb_json_body_without_a_token_is_refused_before_it_is_read(
    live: LiveServer,
) -> None:
    problem = refused_harmlessly(
        live,
        "/api/v1/playlists",
        {"Content-Type": "application/json", "Content-Length": str(BIG)},
        json_string_body(BIG),
        "a 50 MB body with Content-Length",
    )
    assert problem["status"] == 413 and "at most 262144 bytes" in problem["detail"]


def test_a_50_mb_chunked_json_body_is_cut_off_at_the_limit(live: LiveServer) -> None:
    problem = refused_harmlessly(
        live,
        "/api/v1/playlists",
        {"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        chunked(json_string_body(BIG)),
        "a 50 MB chunked body",
    )
    assert problem["limit"] == 256 * 1024


def test_a_chunked_screenshot_over_its_cap_is_cut_off(live: LiveServer) -> None:
    problem = refused_harmlessly(
        live,
        "/api/v1/devices/adot-hall-1/screenshot",
        {
            "Content-Type": "image/png",
            "Transfer-Encoding": "chunked",
            "Authorization": f"Bearer {live.device_token}",
        },
        chunked(b"\x89PNG\r\n\x1a\n" + b"\0" * MB for _ in range(40)),
        "a 40 MB chunked screenshot",
    )
    assert problem["limit"] == 8 * MB


def test_a_batch_of_events_over_its_cap_is_refused_and_nothing_stored(
    live: LiveServer, settings: Settings
) -> None:
    event = {
        "id": "6f1f4d0e-0d8c-4d53-9d0e-2f9c4b1f7a10",
        "kind": "feedback",
        "ts": format_time(NOW),
        "note": "x" * (3 * MB),
    }
    r = requests.post(
        f"{live.url}/api/v1/devices/adot-hall-1/events",
        json={"events": [event]},
        headers={"Authorization": f"Bearer {live.device_token}"},
        timeout=60,
    )
    assert r.status_code == 413, r.text
    assert r.json()["limit"] == 2 * MB
    with sqlite3.connect(settings.db_path) as db:
        assert db.execute("SELECT count(*) FROM events").fetchone() == (0,)


def test_normal_requests_still_work_through_the_limit(live: LiveServer) -> None:
    auth = live.admin_auth()
    item = text_item("notice", vi=("Thông báo", "Nội dung"), lo=("ແຈ້ງການ", "ເນື້ອໃນ"))
    body = {"id": "adot-notice", **playlist_body("adot", [item])}
    r = requests.post(f"{live.url}/api/v1/playlists", json=body, headers=auth, timeout=30)
    assert r.status_code == 201, r.text
    # Chunked JSON under the limit.
    data = json.dumps({**body, "id": "adot-notice-2"}).encode()
    r = requests.post(
        f"{live.url}/api/v1/playlists",
        data=iter([data[:100], data[100:]]),
        headers={**auth, "Content-Type": "application/json"},
        timeout=30,
    )
    assert r.status_code == 201, r.text
    # An upload far above the JSON limit, within its own.
    big_png = image_bytes(".png", size=(800, 600))
    assert len(big_png) > 256 * 1024
    r = requests.post(
        f"{live.url}/api/v1/assets",
        params={"site_id": "adot"},
        files={"file": ("map.png", big_png)},
        headers=auth,
        timeout=60,
    )
    assert r.status_code == 201, r.text
    device = {"Authorization": f"Bearer {live.device_token}"}
    shot = png(640, 480)
    r = requests.post(
        f"{live.url}/api/v1/devices/adot-hall-1/screenshot",
        data=shot,
        headers={**device, "Content-Type": "image/png"},
        timeout=30,
    )
    assert r.status_code == 204, r.text
    event: dict[str, object] = {"id": "0b6c9c43-51a4-4b5e-9e51-6a1f1f0c2a11", "kind": "feedback"}
    event.update(rating=5, language="vi")
    event["ts"] = format_time(NOW)
    r = requests.post(
        f"{live.url}/api/v1/devices/adot-hall-1/events",
        json={"events": [event]},
        headers=device,
        timeout=30,
    )
    assert r.status_code == 200 and r.json()["accepted"] == 1
