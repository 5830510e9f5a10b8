"""Video: frames the player shows per second, for a 720p30 H.264 clip under Xvfb.

The real player app (``tests/player/player_driver.py``, a fake runtime) plays
a 10 s 1280×720 30 fps clip full window; the count of frames it put on screen (each
a texture upload in its own Kivy frame) over the clip's playing time is compared with
the file's rate (aim ≥ 0.95) and with what OpenCV alone decodes per second in the same
run (decode + colour conversion, no drawing): the second ratio says how much of the
shortfall is drawing, not decoding. Xvfb draws with the CPU (llvmpipe): each 1280×720
buffer swap costs about 100 ms on two busy cores, whatever is drawn, so there the
drawing is the limit (a device with a GPU does not have it). The same clip in a
480×270 window is printed too: the decoder and its pacing when drawing is cheap.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2

from tests.player.player_fakes import playlist, signed_dict, store_asset, text_item
from tests.player.video_clips import make_clip
from tests.support.xvfb import xvfb

ROOT = Path(__file__).resolve().parent.parent
PLAYER_TESTS = ROOT / "tests" / "player"

FPS, SECONDS, SIZE = 30, 10, (1280, 720)


def opencv_alone(path: Path) -> float:
    """Frames per second OpenCV decodes (and converts to RGB) with nothing else to do."""
    cap = cv2.VideoCapture(str(path))
    frames = 0
    t0 = time.monotonic()
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
        frames += 1
    took = time.monotonic() - t0
    cap.release()
    return frames / took


def play(tmp: Path, sha: str, meta: dict[str, object], window: tuple[int, int]) -> float | None:
    """Frames shown per second while the clip plays in a ``window``-sized player."""
    items = [
        text_item("before", {"vi": {"title": "Xin chào"}}, duration_s=1),
        {
            "id": "clip",
            "kind": "video",
            "duration_s": SECONDS,
            "variants": {"vi": {"asset": sha, "caption": ""}},
        },
    ]
    scenario = {
        "manifest": signed_dict([playlist("p", items, fallback=True)], assets={sha: meta}),
        "assets_dir": str(tmp / "cache"),
        "window": list(window),
        "exit_after_cards": 3,
        "exit_after": 60,
        "report": str(tmp / "report.json"),
    }
    (tmp / "scenario.json").write_text(json.dumps(scenario, ensure_ascii=False))
    with xvfb(tmp / "xvfb") as display:
        proc = subprocess.run(
            [sys.executable, str(PLAYER_TESTS / "player_driver.py"), str(tmp / "scenario.json")],
            env=display.env(PYTHONPATH=str(ROOT)),
            cwd=tmp,
            capture_output=True,
            text=True,
            timeout=120,
        )
    if proc.returncode != 0:
        print(proc.stderr[-3000:])
        return None
    report = json.loads((tmp / "report.json").read_text())
    cards, video = report["cards"], report["videos"][0]
    played_s = cards[2]["t"] - cards[1]["t"]
    shown_fps = float(video["shown"]) / played_s
    print(
        f"window {window[0]}×{window[1]}: played in {played_s:.2f} s, frames shown "
        f"{video['shown']} of {video['frame_count']} (decoded {video['decoded']}, "
        f"dropped {video['dropped']}): {shown_fps:.1f} per second"
    )
    return shown_fps


def main() -> int:
    tmp = Path(tempfile.mkdtemp(prefix="bench-video-"))
    clip = make_clip(tmp / "clip.mp4", fps=FPS, frames=FPS * SECONDS, size=SIZE)
    sha, meta = store_asset(tmp / "cache", clip.read_bytes(), "video/mp4")
    decode_fps = opencv_alone(clip)
    print(f"720p{FPS} H.264, {SECONDS} s, under Xvfb")
    print(f"OpenCV alone decodes {decode_fps:.1f} frames per second")
    full = play(tmp, sha, meta, SIZE)
    # The same file in a small window (frames shrunk on the decoder thread): what the
    # decoding and pacing give when drawing costs little.
    small = play(tmp, sha, meta, (480, 270))
    if full is None or small is None:
        return 1
    print(f"ratio shown / file rate: {full / FPS:.2f} (aim ≥ 0.95)")
    print(f"ratio shown / OpenCV alone: {full / decode_fps:.2f}")
    print(f"ratio shown / file rate in a 480×270 window: {small / FPS:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
