"""The player from a warm cache with the network down: start to first frame, and memory.

A real server (``scripts/loopback/stack.py``: ``init``, ``import playlists/``,
``add-device``) gets a mixed playlist for the whole city (a 10 s H.264 video, a JPEG, a
Vietnamese/Lao text card, at the top priority) and publishes; one device syncs in-process
(``device_runtime.Runtime``) until its cache is warm and verified. Then the server is
stopped and the device's ``server_url`` and ``mqtt_url`` point at 192.0.2.1 (TEST-NET-1:
no route, as a post whose link is down).

1. **Start to first frame**, ``BENCH_START_RUNS`` (default 10) times: the real player
   (``python -m signage_player.main --config ...``, full screen on a 1280×720 Xvfb)
   is started as a subprocess, and the time to its ``READY=1`` on ``NOTIFY_SOCKET``
   is taken: the player sends it on the first frame of its main loop, after
   ``on_start`` has put the first card of the held manifest on screen (what systemd
   waits for). The median must be under 3 s (issue 12).
2. **Resident memory over a mixed loop**: one player runs ``BENCH_RSS_LOOP_S`` (default
   60) s over that playlist; its ``VmRSS`` is printed right after the first frame and
   at the end, with the peak (``VmHWM``). It saves a screenshot every 7 s to
   ``tests/artifacts/bench-player-loop-<n>.png`` (look at them: the video, the image,
   the Vietnamese and Lao text).

Xvfb draws with the CPU; on a shared machine both figures include waiting for a core.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from device_runtime import Runtime
from device_runtime.settings import load_settings
from scripts.loopback.stack import ROOT, Stack
from scripts.loopback.xvfb import xvfb

from . import load

RUNS = int(os.environ.get("BENCH_START_RUNS", "10"))
LOOP_S = float(os.environ.get("BENCH_RSS_LOOP_S", "60"))
TARGET_S = 3.0
DEVICE = "bench-player-1"
NOWHERE = "192.0.2.1"  # TEST-NET-1: never routed


def make_clip(path: Path) -> bytes:
    """A 10 s 640×360 25 fps H.264 MP4 of moving colour (ffmpeg's test source)."""
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi",
         "-i", "testsrc2=size=640x360:rate=25:duration=10",
         "-c:v", "libx264", "-pix_fmt", "yuv420p", "-movflags", "+faststart", str(path)],
        check=True,
    )  # fmt: skip
    return path.read_bytes()


def publish_mix(stack: Stack, root: Path) -> None:
    api = f"{stack.server_url}/api/v1"
    with requests.Session() as s:
        r = s.post(
            f"{api}/auth/token", data={"username": "admin", "password": stack.admin_password}
        )
        r.raise_for_status()
        s.headers["Authorization"] = f"Bearer {r.json()['access_token']}"

        def upload(name: str, data: bytes, media_type: str) -> str:
            files = {"file": (name, data, media_type)}
            r = s.post(f"{api}/assets", params={"site_id": "hue"}, files=files, timeout=300)
            r.raise_for_status()
            return str(r.json()["sha256"])

        video = upload("mix.mp4", make_clip(root / "mix.mp4"), "video/mp4")
        image = upload("mix.jpg", load.new_image(300), "image/jpeg")
        playlist = {
            "id": "bench-mix", "site_id": "hue", "priority": 90,
            "name": {"vi": "Thử nghiệm", "lo": "ທົດລອງ"},
            "items": [
                {"id": "clip", "kind": "video", "duration_s": 10,
                 "variants": {"vi": {"asset": video}, "lo": {"asset": video}}},
                {"id": "photo", "kind": "image", "duration_s": 5,
                 "variants": {"vi": {"asset": image}, "lo": {"asset": image}}},
                {"id": "notice", "kind": "text", "duration_s": 5, "variants": {
                    "vi": {"title": "Chào mừng đến cửa khẩu A Đớt",
                           "body": "Vui lòng chuẩn bị hộ chiếu."},
                    "lo": {"title": "ຍິນດີຕ້ອນຮັບສູ່ດ່ານອາເດີດ",
                           "body": "ກະລຸນາກຽມໜັງສືຜ່ານແດນ."}}},
            ],
        }  # fmt: skip
        r = s.post(f"{api}/playlists", json=playlist, timeout=60)
        r.raise_for_status()
        r = s.post(f"{api}/playlists/bench-mix/publish", timeout=120)
        r.raise_for_status()


def warm_device(root: Path) -> Path:
    """A device config whose cache holds the published mix, verified; the server gone."""
    stack = Stack.running(root, {DEVICE: "adot-hall"})
    config = root / "devices" / f"{DEVICE}.toml"
    try:
        publish_mix(stack, root)
        rt = Runtime(load_settings(config), enable_mqtt=False)
        rt.start()
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                current = rt.current
                ids = {p["id"] for p in current.manifest.playlists} if current else set()
                if "bench-mix" in ids and rt.status().state == "idle":
                    break
                time.sleep(0.2)
            else:
                raise RuntimeError(f"the device did not get the mix: {rt.status()}")
        finally:
            rt.stop()
    finally:
        stack.stop()
    text = config.read_text()
    text = re.sub(r'server_url = "[^"]*"', f'server_url = "http://{NOWHERE}:8000"', text)
    text = re.sub(r'mqtt_url = "[^"]*"', f'mqtt_url = "mqtt://{NOWHERE}:1883"', text)
    config.write_text(text)
    return config


def rss_kib(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) of ``pid`` in KiB."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


def start_player(
    config: Path, env: dict[str, str], *extra: str
) -> tuple[subprocess.Popen[bytes], float]:
    """Start the player; (process, seconds to its READY=1)."""
    sock_path = env["NOTIFY_SOCKET"]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(sock_path)
        sock.settimeout(60)
        t0 = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-m", "signage_player.main", "--config", str(config), *extra],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            while sock.recv(4096) != b"READY=1":
                pass
        except TimeoutError:
            stop_player(proc)
            raise
        took = time.monotonic() - t0
    os.unlink(sock_path)
    return proc, took


def stop_player(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def main() -> int:
    root = Path(tempfile.mkdtemp(prefix="signage-bench-player-"))
    try:
        config = warm_device(root / "stack")
        print(f"warm cache: the mix held and verified; network down ({NOWHERE})", flush=True)
        with xvfb(root / "x") as display:
            env = display.env(NOTIFY_SOCKET=str(root / "notify"))
            env.pop("WATCHDOG_USEC", None)
            env.pop("WATCHDOG_PID", None)
            times = []
            for _ in range(RUNS):
                proc, took = start_player(config, env)
                stop_player(proc)
                times.append(took)
            median = statistics.median(times)
            print(
                f"start to first frame, warm cache, network down: median {median:.2f} s over "
                f"{RUNS} starts (min {min(times):.2f}, max {max(times):.2f}; "
                f"target < {TARGET_S:.0f} s, ratio {median / TARGET_S:.2f})",
                flush=True,
            )
            shots = ROOT / "tests" / "artifacts"
            shots.mkdir(parents=True, exist_ok=True)
            proc, _ = start_player(
                config, env, "--screenshot", str(shots / "bench-player-loop-{n}.png"),
                "--screenshot-after", "2", "--screenshot-every", "7",
            )  # fmt: skip
            try:
                start_rss, _ = rss_kib(proc.pid)
                time.sleep(LOOP_S)
                alive = proc.poll() is None
                end_rss, peak = rss_kib(proc.pid) if alive else (0, 0)
            finally:
                stop_player(proc)
            print(
                f"resident memory over a {LOOP_S:.0f} s loop (video, image, text): start "
                f"{start_rss / 1024:.1f} MiB, end {end_rss / 1024:.1f} MiB, peak "
                f"{peak / 1024:.1f} MiB; end ÷ start {end_rss / max(start_rss, 1):.2f}",
                flush=True,
            )
        ok = median < TARGET_S and alive
        print(f"bench_player_start: runs={RUNS} loop_s={LOOP_S:g} {'ok' if ok else 'FAILED'}")
        return 0 if ok else 1
    finally:
        shutil.rmtree(root, ignore_errors=True)
