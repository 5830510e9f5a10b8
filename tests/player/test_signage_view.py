"""``SignageView`` embedded and removed again and again, as the kiosk's attract loop does,
on a real X display (Xvfb)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.player.player_fakes import VI_BODY, playlist, signed_dict
from tests.player.player_fakes import text_item as make_text_item
from tests.player.player_kit import HERE, ROOT
from tests.player.test_player_video import store_clip, video_item
from tests.support.xvfb import Display, xvfb

pytestmark = [pytest.mark.display, pytest.mark.live]


@pytest.fixture(scope="module")
def display(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Display]:
    with xvfb(tmp_path_factory.mktemp("xvfb")) as d:
        yield d


def test_start_and_stop_again_and_again_release_video_threads_and_clock_events(
    display: Display, tmp_path: Path
) -> None:
    """Three rounds of start → a video on screen → stop → removed: each round plays from
    the first card again, and after each stop() no video thread is alive and no Clock
    event of the widget is left (the attract loop must not leak a decoder per touch)."""
    cache = tmp_path / "cache"
    sha, meta = store_clip(cache, tmp_path, "a.mp4", "video/mp4", fps=25, frames=125)
    items = [
        make_text_item("welcome", {"vi": {"title": "Xin chào", "body": VI_BODY}}, duration_s=1),
        video_item("clip", sha, {"vi": "Hướng dẫn làm thủ tục"}),
    ]
    signed = signed_dict(
        [playlist("p", items, fallback=True)], languages=("vi",), assets={sha: meta}
    )
    scenario = {
        "manifest": signed,
        "assets_dir": str(cache),
        "cycles": 3,
        "report": str(tmp_path / "report.json"),
    }
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps(scenario, ensure_ascii=False), encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, str(HERE / "signage_view_driver.py"), str(path)],
        env=display.env(PYTHONPATH=str(ROOT)),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    cycles = report["cycles"]
    assert len(cycles) == 3, (cycles, proc.stderr[-3000:])
    for cycle in cycles:
        assert cycle["cards"][:2] == [["welcome", "vi"], ["clip", "vi"]], cycle
        assert cycle["threads_playing"], "the video's decoder thread was not running"
        assert cycle["threads_after_stop"] == [], cycle
        assert cycle["events_after_stop"] == [], cycle
    # The welcome card ended by its timer each round; the videos were cut short.
    assert report["plays"] == 3
