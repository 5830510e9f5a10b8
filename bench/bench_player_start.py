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
2. **Resident memory over a mixed loop** (issue 9: 30 minutes, flat): one player runs
   ``BENCH_RSS_LOOP_S`` (default 1800) s over that playlist (a 20 s round: video, image,
   text); its ``VmRSS`` is read every ``BENCH_RSS_EVERY_S`` (60) s and printed right after
   the first frame, once warm (after three rounds, when the decoder, the textures and
   the fonts have been used once), half-way and at the end, with the peak (``VmHWM``).
   It is flat when the second half does not grow: a line fitted to its samples rises
   by at most 2 % of the half-way figure over that half (the slope is printed). The player's
   screenshots every 47 s go to ``tests/artifacts/bench-player-loop-<n>.png`` (look at
   them: the video, the image, the Vietnamese and Lao text).

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
LOOP_S = float(os.environ.get("BENCH_RSS_LOOP_S", "1800"))
EVERY_S = float(os.environ.get("BENCH_RSS_EVERY_S", "60"))
WARM_S = 60.0  # three rounds of the 20 s playlist
FLAT = 0.02  # fitted growth over the second half, share of the half-way level
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


def rss_over(
    proc: subprocess.Popen[bytes], seconds: float, every: float
) -> list[tuple[float, int, int]]:
    """(seconds since start, VmRSS KiB, VmHWM KiB) every ``every`` s for ``seconds``,
    the first at once; stops early if the player exits."""
    t0 = time.monotonic()
    samples: list[tuple[float, int, int]] = []
    while True:
        elapsed = time.monotonic() - t0
        if proc.poll() is not None:
            samples.append((elapsed, 0, 0))
            return samples
        samples.append((elapsed, *rss_kib(proc.pid)))
        if elapsed >= seconds:
            return samples
        time.sleep(min(every, max(0.0, seconds - elapsed)))


def print_memory(samples: list[tuple[float, int, int]]) -> bool:
    """Print the loop's memory; True when its second half is flat.

    The first minutes are warm-up (the decoder, textures, fonts and the libraries' pages
    are met once); a leak shows as growth that goes on, so the judgement is on the
    second half: a straight line fitted to its samples (least squares: single samples
    swing by a few MiB) may rise by at most 2 % of the half-way level over that half.
    """
    mib = [(t, rss / 1024) for t, rss, _ in samples]
    start = mib[0][1]
    warm_t, warm = next(((t, m) for t, m in mib if t >= WARM_S), mib[-1])
    end_t, end = mib[-1]
    half = [(t, m) for t, m in mib if t >= end_t / 2]
    middle_t, middle = half[0]
    peak = max(hwm for _, _, hwm in samples) / 1024
    slope = 0.0
    if len(half) > 2:
        mean_t = statistics.fmean(t for t, _ in half)
        mean_m = statistics.fmean(m for _, m in half)
        var = sum((t - mean_t) ** 2 for t, _ in half)
        slope = sum((t - mean_t) * (m - mean_m) for t, m in half) / var * 3600
    growth = slope * (end_t - middle_t) / 3600
    flat = growth <= FLAT * middle
    print(
        f"resident memory every {EVERY_S:.0f} s (MiB): " + " ".join(f"{m:.0f}" for _, m in mib),
        flush=True,
    )
    print(
        f"resident memory over a {end_t:.0f} s loop (video, image, text): start "
        f"{start:.1f} MiB, warm ({warm_t:.0f} s) {warm:.1f} MiB, middle ({middle_t:.0f} s) "
        f"{middle:.1f} MiB, end {end:.1f} MiB, peak {peak:.1f} MiB; second half: "
        f"{slope:+.1f} MiB/h, fitted growth {growth:+.1f} MiB = {growth / middle:+.1%} "
        f"({'flat' if flat else 'GROWING'}, limit {FLAT:.0%})",
        flush=True,
    )
    return flat


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
                "--screenshot-after", "2", "--screenshot-every", "47",
            )  # fmt: skip
            try:
                samples = rss_over(proc, LOOP_S, EVERY_S)
            finally:
                stop_player(proc)
        alive = samples[-1][1] > 0
        flat = print_memory(samples) if alive else False
        if not alive:
            print(f"the player died {samples[-1][0]:.0f} s into the memory loop", flush=True)
        ok = median < TARGET_S and alive and flat
        print(f"bench_player_start: runs={RUNS} loop_s={LOOP_S:g} {'ok' if ok else 'FAILED'}")
        return 0 if ok else 1
    finally:
        shutil.rmtree(root, ignore_errors=True)
