"""Manifest polls per second: the real route against a bare ASGI app with the same bytes.

Both are served by uvicorn on loopback in this run, one after the other; the
load comes from separate processes, each an ``http.client`` keep-alive loop.
Three cases for the real app: a poll with ``If-None-Match`` of the current
version (304), one without (200, the envelope), and the bare app returning
the same envelope bytes (the ceiling). Prints requests/s and the ratios;
the aim is ≥ 0.8 (precomputed bytes from memory, token checked in a dict).
Not a test: numbers depend on the machine. ``python -m bench manifest_polls``.
"""

from __future__ import annotations

import http.client
import multiprocessing as mp
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORKERS = 4
SECONDS = 4.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _load(port: int, path: str, headers: dict[str, str], seconds: float, out: mp.Queue) -> None:  # type: ignore[type-arg]
    conn = http.client.HTTPConnection("127.0.0.1", port)
    done = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        conn.request("GET", path, headers=headers)
        r = conn.getresponse()
        r.read()
        if r.status not in (200, 304):
            raise RuntimeError(f"{path}: {r.status}")
        done += 1
    out.put(done)


def _rate(port: int, path: str, headers: dict[str, str]) -> float:
    out: mp.Queue = mp.Queue()  # type: ignore[type-arg]
    procs = [
        mp.Process(target=_load, args=(port, path, headers, SECONDS, out)) for _ in range(WORKERS)
    ]
    for p in procs:
        p.start()
    total = sum(out.get() for _ in procs)
    for p in procs:
        p.join()
    return total / SECONDS


def _wait(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


BARE_APP = """
import sys
body = open(sys.argv[1], "rb").read()
headers = [(b"content-type", b"application/json"), (b"etag", b'"1"'),
           (b"content-length", str(len(body)).encode())]
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})
import uvicorn
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
"""


def _serve(argv: list[str], port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait(port)
    return proc


def main() -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "content_server"))
    from content_server_kit import NOW, add_device, import_folder, write_content

    from content_server.datadir import initialise
    from content_server.settings import Settings
    from content_server.store import Store

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        settings = Settings(data_dir=tmp / "data")
        initialise(settings, "admin", "bench password 1", NOW)
        import_folder(settings, write_content(tmp / "content"))
        token = add_device(settings, "adot-hall-1", "adot-hall")
        store = Store.open(settings.db_path)
        version, _ = store.latest_manifest_versions()["adot-hall-1"]
        body = store.manifest_envelope("adot-hall-1", version) or b""
        store.close()
        (tmp / "body.json").write_bytes(body)

        path = "/api/v1/devices/adot-hall-1/manifest"
        auth = {"Authorization": f"Bearer {token}"}
        rates = {}
        port = _free_port()
        server = _serve(
            [sys.executable, "-m", "content_server", "serve", "--data-dir", str(settings.data_dir),
             "--port", str(port)],
            port,
        )  # fmt: skip
        try:
            rates["304 (If-None-Match)"] = _rate(
                port, path, {**auth, "If-None-Match": f'"{version}"'}
            )
            rates["200 (full manifest)"] = _rate(port, path, auth)
        finally:
            server.terminate()
            server.wait(10)
        port = _free_port()
        bare = _serve([sys.executable, "-c", BARE_APP, str(tmp / "body.json"), str(port)], port)
        try:
            rates["bare ASGI, same bytes"] = _rate(port, path, {})
        finally:
            bare.terminate()
            bare.wait(10)
    ceiling = rates["bare ASGI, same bytes"]
    print(f"manifest of {len(body)} bytes, {WORKERS} load processes × {SECONDS:.0f} s")
    for name, rate in rates.items():
        print(f"  {name:<24} {rate:>9.0f} req/s   ratio {rate / ceiling:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
