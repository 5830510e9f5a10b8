"""Manifest polls per second: the real route against a bare ASGI app with the same bytes.

Both are served by uvicorn on loopback with the same options (``uvicorn.run``,
log level ``info``, and the access log on or off on both sides); the load
comes from separate processes, each an ``http.client`` keep-alive loop with
the same request headers. Cases for the real app: a poll with
``If-None-Match`` of the current version (304), one without (200, the
envelope); the bare app returns the same envelope bytes and headers, nothing
else (the ceiling). Both servers run at once and the cases take turns for
``ROUNDS`` rounds (the machine's drift hits all alike); the median is shown.
The whole is done with the access log on (the default) and off
(``serve --no-access-log``). The aim is ≥ 0.8 for the 200 case.
Not a test: numbers depend on the machine. ``python -m bench manifest_polls``.
"""

from __future__ import annotations

import http.client
import multiprocessing as mp
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORKERS = 4
SECONDS = 3.0
ROUNDS = 3


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


# The same response headers as the real one (etag, cache-control, type, length).
BARE_APP = """
import sys
body = open(sys.argv[1], "rb").read()
headers = [(b"etag", f'"{sys.argv[4]}"'.encode()), (b"cache-control", b"no-cache"),
           (b"content-type", b"application/json"),
           (b"content-length", str(len(body)).encode())]
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})
import logging
import uvicorn
logging.basicConfig(level=logging.INFO)  # as `content-server serve` does
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="info",
            access_log=sys.argv[3] == "on")
"""


def _serve(argv: list[str], port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait(port)
    return proc


def main() -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "content_server"))
    from content_server.datadir import initialise
    from content_server.settings import Settings
    from content_server.store import Store
    from tests.server.content_server_kit import NOW, add_device, import_folder, write_content

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
        results = {log: _measure(settings.data_dir, tmp / "body.json", path, auth, version, log)
                   for log in ("on", "off")}  # fmt: skip
    print(f"manifest of {len(body)} bytes, {WORKERS} load processes × {SECONDS:.0f} s, "
          f"median of {ROUNDS} rounds")  # fmt: skip
    for log, rates in results.items():
        ceiling = rates["bare ASGI, same bytes"]
        print(f"access log {log} (both sides):")
        for name, rate in rates.items():
            print(f"  {name:<24} {rate:>9.0f} req/s   ratio {rate / ceiling:.2f}")
    return 0


def _measure(
    data_dir: Path, body: Path, path: str, auth: dict[str, str], version: int, log: str
) -> dict[str, float]:
    """Median requests/s of each case, both servers running, the cases taking turns."""
    port, bare_port = _free_port(), _free_port()
    server_argv = [sys.executable, "-m", "content_server", "serve", "--data-dir", str(data_dir),
                   "--port", str(port), *(["--no-access-log"] if log == "off" else [])]  # fmt: skip
    server = _serve(server_argv, port)
    try:
        bare = _serve(
            [sys.executable, "-c", BARE_APP, str(body), str(bare_port), log, str(version)],
            bare_port,
        )
        try:
            cases = {
                "304 (If-None-Match)": (port, {**auth, "If-None-Match": f'"{version}"'}),
                "200 (full manifest)": (port, auth),
                # The same Authorization header, which the bare app ignores.
                "bare ASGI, same bytes": (bare_port, auth),
            }
            seen: dict[str, list[float]] = {name: [] for name in cases}
            for _ in range(ROUNDS):
                for name, (p, headers) in cases.items():
                    seen[name].append(_rate(p, path, headers))
        finally:
            bare.terminate()
            bare.wait(10)
    finally:
        server.terminate()
        server.wait(10)
    return {name: statistics.median(rates) for name, rates in seen.items()}


if __name__ == "__main__":
    sys.exit(main())
