"""The video decoder on its own (no window): pacing against a monotonic clock, drops when
late, and broken files reported, not raised. Clips are made here with ffmpeg."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from signage_player.video import Picked, VideoStream
from tests.player.video_clips import make_clip, read_index

pytestmark = pytest.mark.live  # ffmpeg subprocesses and real waits


def rgb_to_bgr(frame: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(frame[:, :, 2::-1])  # RGBA → BGR


def wait_for(stream: VideoStream, states: tuple[str, ...], timeout: float = 10) -> str:
    deadline = time.monotonic() + timeout
    while (state := stream.state) not in states:
        assert time.monotonic() < deadline, f"still {state}"
        time.sleep(0.005)
    return state


def play(stream: VideoStream, timeout: float = 15) -> tuple[list[Picked], float]:
    """Start ``stream`` and take frames as the main thread does until it ends or fails."""
    assert wait_for(stream, ("ready", "failed")) == "ready", stream.error
    taken = [stream.take()]  # the first frame, before the start
    start = time.monotonic()
    stream.start()
    deadline = start + timeout
    while True:
        picked = stream.take()
        if picked.frame is not None:
            taken.append(picked)
        if picked.state in ("ended", "failed"):
            return taken, time.monotonic() - start
        assert time.monotonic() < deadline, "the video never ended"
        time.sleep(0.004)


def test_a_clip_plays_its_frames_in_order_in_its_own_time(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "c.mp4", fps=25, frames=50)
    stream = VideoStream(clip, "p/clip (vi)")
    taken, took = play(stream)
    assert stream.state == "ended" and stream.error is None
    assert stream.fps == 25 and stream.frame_count == 50 and stream.size == (320, 180)
    assert 1.9 <= took <= 3.0, took  # 50 frames at 25 fps: 2 s
    shown = [read_index(rgb_to_bgr(p.frame)) for p in taken if p.frame is not None]
    assert shown[0] == 0 and shown == sorted(shown) and shown[-1] == 49
    assert stream.decoded + stream.dropped == 50
    assert len(shown) >= 40  # a main thread polling every 4 ms misses few


def test_a_late_decoder_drops_frames_and_never_slows_down(tmp_path: Path) -> None:
    """The clock jumps 1 s ahead at the start (a decoder that fell behind): the frames due
    in that second are dropped, and the clip still ends 2 s after its start."""
    clip = make_clip(tmp_path / "c.mp4", fps=25, frames=50)
    offset = [0.0]

    def clock() -> float:
        return time.monotonic() + offset[0]

    stream = VideoStream(clip, "p/clip (vi)", clock=clock)
    wait_for(stream, ("ready",))
    jump: Callable[[], None] = stream.start
    stream.start = lambda: (jump(), offset.__setitem__(0, 1.0))  # type: ignore[method-assign]
    taken, took = play(stream)
    assert stream.state == "ended"
    assert stream.dropped >= 20, (stream.dropped, stream.decoded)
    assert took <= 1.7, took  # the second half only, not the whole 2 s
    shown = [read_index(rgb_to_bgr(p.frame)) for p in taken if p.frame is not None]
    assert shown[0] == 0 and min(shown[1:]) >= 20


def test_a_file_that_is_not_a_video_fails_with_a_message(tmp_path: Path) -> None:
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"x" * 4000)
    stream = VideoStream(bad, "p/bad (vi)")
    assert wait_for(stream, ("ready", "failed")) == "failed"
    assert stream.error is not None and "p/bad (vi)" in stream.error and "skipped" in stream.error
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    stream = VideoStream(empty, "p/empty (vi)")
    assert wait_for(stream, ("ready", "failed")) == "failed"
    assert "does not open" in (stream.error or "")


def test_a_file_cut_mid_way_plays_until_it_breaks_then_fails(tmp_path: Path) -> None:
    whole = make_clip(tmp_path / "w.mp4", fps=25, frames=75, codec="h264-faststart")
    data = whole.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) * 6 // 10])
    stream = VideoStream(cut, "p/cut (vi)")
    taken, _took = play(stream)
    assert stream.state == "failed"
    assert "cut short" in (stream.error or "")
    assert len(taken) > 10  # what was there was shown


def test_closing_before_the_start_ends_the_worker(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "c.webm", fps=25, frames=20, codec="vp8")
    stream = VideoStream(clip, "p/clip (vi)")
    wait_for(stream, ("ready",))
    stream.close()
    stream.join(timeout=5)
    assert not stream._thread.is_alive()


def test_frames_larger_than_the_screen_are_shrunk_on_the_worker(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "big.mp4", fps=25, frames=5, size=(640, 360))
    stream = VideoStream(clip, "p/big (vi)", max_size=(320, 240))
    taken, _took = play(stream)
    assert stream.size == (640, 360)  # the file's own size
    frames = [p.frame for p in taken if p.frame is not None]
    assert all(f.shape == (180, 320, 4) for f in frames)
    assert read_index(rgb_to_bgr(frames[-1])) == 4
