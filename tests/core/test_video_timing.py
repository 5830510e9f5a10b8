"""The video pacing rule: which frame is due when, and which are dropped when late."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from signage_core.video_timing import DEFAULT_FPS, due_at, due_index, pace, usable_fps


def test_frames_are_due_at_the_files_rate() -> None:
    assert due_at(0, 25) == 0
    assert due_at(25, 25) == pytest.approx(1.0)
    assert due_index(0.0, 30) == 0
    assert due_index(1.0, 30) == 30  # not 29 by rounding
    assert due_index(1 / 30 - 1e-6, 30) == 0
    assert due_index(-1.0, 30) == 0


def test_an_early_frame_waits_for_its_time() -> None:
    step = pace(10, 0.3, 25)  # frame 10 is due at 0.4 s
    assert step.show and step.wait_s == pytest.approx(0.1)


def test_late_frames_are_dropped_until_the_picture_catches_up() -> None:
    # 1 s in at 25 fps frame 25 is due: frames 1..24 are dropped, 25 is shown at once.
    decisions = [pace(i, 1.0, 25) for i in range(1, 27)]
    assert [d.index for d in decisions if not d.show] == list(range(1, 25))
    assert decisions[24].show and decisions[24].wait_s == 0  # frame 25, on time
    assert decisions[25].show and decisions[25].wait_s == pytest.approx(0.04)


def test_the_first_frame_is_never_dropped() -> None:
    assert pace(0, 5.0, 25).show


@given(
    index=st.integers(1, 100_000),
    elapsed=st.floats(0, 4000, allow_nan=False),
    fps=st.floats(1, 240, allow_nan=False),
)
def test_a_shown_frame_is_never_shown_after_the_next_one_is_due(
    index: int, elapsed: float, fps: float
) -> None:
    """Never slower than the file: a frame is shown only while it is the one due (or early)."""
    step = pace(index, elapsed, fps)
    if step.show:
        assert elapsed + step.wait_s < due_at(index + 1, fps) + 1e-6
    else:
        assert due_index(elapsed, fps) > index


@pytest.mark.parametrize("reported", [0.0, -1.0, math.nan, math.inf, 1000.0])
def test_a_file_without_a_usable_rate_plays_at_the_default(reported: float) -> None:
    assert usable_fps(reported) == DEFAULT_FPS


def test_a_usable_rate_is_kept() -> None:
    assert usable_fps(29.97) == 29.97
