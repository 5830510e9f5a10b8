"""Video on a real X display (Xvfb), filmed with ``ffmpeg -f x11grab`` as a camera would.

The clips are made here (``video_clips.py``: H.264 MP4 and VP8 WebM with ffmpeg, mp4v
with OpenCV), never committed; each frame shows its own number, so the film tells
which frame of the file was on screen. A few filmed pictures and screenshots land in
``tests/artifacts/`` for a person to look at.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from tests.player.film import Film, blank, card_area
from tests.player.player_fakes import (
    LAO_PARAGRAPH,
    VI_BODY,
    image_item,
    playlist,
    signed_dict,
    store_asset,
)
from tests.player.player_fakes import text_item as make_text_item
from tests.player.test_player_display import (
    ARTIFACTS,
    check_layout,
    drawn_fraction,
    map_png,
    run_player,
)
from tests.player.video_clips import make_clip, read_index
from tests.support.xvfb import Display, xvfb

pytestmark = [pytest.mark.display, pytest.mark.live]


@pytest.fixture(scope="module")
def display(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Display]:
    with xvfb(tmp_path_factory.mktemp("xvfb")) as d:
        yield d


def video_item(item_id: str, sha: str, captions: dict[str, str]) -> dict[str, Any]:
    # duration_s is the author's estimate; a video plays to its own end.
    return {**image_item(item_id, sha, captions, duration_s=5), "kind": "video"}


def welcome_item(duration_s: int = 2) -> dict[str, Any]:
    return make_text_item(
        "welcome",
        {
            "vi": {"title": "Cửa khẩu A Đớt – Tà Vàng", "body": VI_BODY},
            "lo": {"title": "ດ່ານອາເດີດ", "body": LAO_PARAGRAPH},
        },
        duration_s=duration_s,
    )


def store_clip(cache: Path, tmp: Path, name: str, media_type: str, **kw: Any) -> tuple[str, Any]:
    path = make_clip(tmp / name, **kw)
    return store_asset(cache, path.read_bytes(), media_type)


def blank_frames(
    frames: np.ndarray, rect: tuple[int, int, int, int] | None = None
) -> tuple[list[int], int, int]:
    """Blank card areas between the first and the last drawn picture (before: the window
    is not up yet; after: it has closed). ``rect`` (x, y from the top, width, height in
    film pixels): the card area when a layout moved it; default: ``film.card_area``."""

    def area(f: np.ndarray) -> np.ndarray:
        if rect is None:
            return card_area(f)
        x, y, w, h = rect
        return f[y : y + h, x : x + w]

    flags = [blank(area(f)) for f in frames]
    drawn = [i for i, b in enumerate(flags) if not b]
    assert drawn, "the film shows nothing but blank pictures"
    first, last = drawn[0], drawn[-1]
    return [i for i in range(first, last + 1) if flags[i]], first, last


def save_film_frames(frames: np.ndarray, indices: list[int], prefix: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    for i in indices:
        cv2.imwrite(str(ARTIFACTS / f"{prefix}-{i:04d}.png"), frames[i])


# With a layout the header's clock ticks and the ticker scrolls all the time, so the
# whole picture is never blank: the film is judged on the card area alone.
SWITCH_LAYOUT = {
    "orientation": "landscape",
    "header": True,
    "ticker": True,
    "title": {"vi": "Cửa khẩu A Đớt", "lo": "ດ່ານ ອາເດີດ"},
    "notices": [
        {
            "id": "adot-notice-papers",
            "until": None,
            "texts": {
                "vi": "Xin chuẩn bị sẵn hộ chiếu hoặc giấy thông hành trước khi xếp hàng.",
                "lo": "ກະລຸນາກຽມໜັງສືຜ່ານແດນ ຫຼື ໃບຜ່ານແດນ ໃຫ້ພ້ອມກ່ອນເຂົ້າແຖວ.",
            },
        }
    ],
}


@pytest.mark.parametrize("with_layout", [False, True], ids=["full-screen", "header-ticker"])
def test_text_video_image_switches_never_show_a_blank_frame(
    display: Display, tmp_path: Path, with_layout: bool
) -> None:
    """Vietnamese and Lao text → H.264 video → image → WebM video → text, filmed:
    every filmed picture of the card area between start and exit has something drawn,
    with and without the header and the ticker around it."""
    cache = tmp_path / "cache"
    h264, h264_meta = store_clip(cache, tmp_path, "a.mp4", "video/mp4", fps=25, frames=50)
    webm, webm_meta = store_clip(
        cache, tmp_path, "b.webm", "video/webm", fps=25, frames=50, codec="vp8", start=500
    )
    img, img_meta = store_asset(cache, map_png(), "image/png")
    items = [
        welcome_item(),
        video_item("clip", h264, {"vi": "Hướng dẫn làm thủ tục xuất cảnh"}),
        image_item("gate-map", img, {"vi": "Sơ đồ khu vực cửa khẩu"}, duration_s=2),
        video_item("clip-webm", webm, {"lo": "ຄຳແນະນຳ"}),
    ]
    signed = signed_dict(
        [playlist("adot", items, fallback=True)],
        assets={h264: h264_meta, webm: webm_meta, img: img_meta},
    )
    prefix = "player"
    if with_layout:
        signed["layout"] = SWITCH_LAYOUT
        prefix = "player-layout"
    shots = {
        "video-before-lo": ("welcome", "lo", 1),
        "video-clip": ("clip", "vi", 1),
        "video-after-vi": ("welcome", "vi", 2),
        "video-after-lo": ("welcome", "lo", 2),
    }
    with Film(display.name, tmp_path / "film.gray", fps=20) as film:
        report = run_player(
            display,
            tmp_path,
            {
                "manifest": signed,
                "assets_dir": str(cache),
                "captures": [
                    {
                        "item": item,
                        "language": lang,
                        "nth": nth,
                        "path": str(ARTIFACTS / f"{prefix}-{name}.png"),
                    }
                    for name, (item, lang, nth) in shots.items()
                ],
                "run_to_exit": True,
                "exit_after_cards": 8,
                "exit_after": 60,
            },
        )
    order = [(c["item"], c["language"]) for c in report["cards"]]
    assert order == [
        ("welcome", "vi"),
        ("welcome", "lo"),
        ("clip", "vi"),
        ("gate-map", "vi"),
        ("clip-webm", "lo"),
        ("welcome", "vi"),
        ("welcome", "lo"),
        ("clip", "vi"),
    ], report["problems"]
    assert report["problems"] == []

    frames = film.frames()
    rect = None
    if with_layout:
        zones = report["captured"][str(ARTIFACTS / f"{prefix}-video-clip.png")]["zones"]
        assert "header" in zones and "ticker" in zones, zones
        x, y, w, h = (round(v * film.scale) for v in zones["card_area"])
        rect = (x + 2, y + 2, w - 4, h - 4)
        # The film shows the zones: the header and the ticker are drawn in every picture.
        ty = round(zones["ticker"]["rect"][1] * film.scale)
        assert all(not blank(f[ty + 2 :, :]) for f in frames[len(frames) // 4 : -len(frames) // 4])
    blanks, first, last = blank_frames(frames, rect)
    # The film covers the run: from the first card to past the second round of text.
    span_s = (last - first) / film.fps
    assert span_s > 8, f"only {span_s:.1f} s filmed"
    name = "film-layout" if with_layout else "film"
    save_film_frames(frames, list(range(first, last + 1, max(1, (last - first) // 12))), name)
    if blanks:
        save_film_frames(frames, blanks[:10], f"{name}-blank")
    assert not blanks, f"{len(blanks)} blank pictures, e.g. film frames {blanks[:10]}"

    # The text before and after a video is still right: drawn, wrapped, nothing clipped.
    for name in shots:
        png = ARTIFACTS / f"{prefix}-{name}.png"
        assert drawn_fraction(png) > 0.005, f"{name} is blank"
        check_layout(report["captured"][str(png)]["texts"])
    before = cv2.imread(str(ARTIFACTS / f"{prefix}-video-before-lo.png")).astype(int)
    after = cv2.imread(str(ARTIFACTS / f"{prefix}-video-after-lo.png")).astype(int)
    if rect is not None:  # the clock and the ticker moved on meanwhile: compare the card
        x, y, w, h = (round(v / film.scale) for v in rect)
        before, after = before[y : y + h, x : x + w], after[y : y + h, x : x + w]
    assert np.abs(before - after).mean() < 1, "the Lao card looks different after a video"

    # Proof of play: each video that played to its end is recorded once.
    played = [(p["item_id"], p["language"]) for p in report["plays"]]
    assert played[:6] == order[:6]
    clip = next(p for p in report["plays"] if p["item_id"] == "clip")
    assert 1500 <= clip["duration_ms"] <= 4000, clip  # 50 frames at 25 fps: 2 s


def shown_indices(frames: np.ndarray, rect: list[int], scale: float) -> list[int]:
    x, y, w, h = (round(v * scale) for v in rect)
    # A margin inside the picture: its edges are blurred by the film's scaling.
    return [read_index(f[y + 2 : y + h - 2, x + 2 : x + w - 2]) for f in frames]


@pytest.mark.parametrize(
    ("codec", "name", "media_type"),
    [("h264", "clip.mp4", "video/mp4"), ("vp8", "clip.webm", "video/webm")],
)
def test_a_video_shows_its_frames_at_the_files_rate(
    display: Display, tmp_path: Path, codec: str, name: str, media_type: str
) -> None:
    """A 25 fps clip (100 frames, 4 s) filmed at 50 fps: at least 80 % of its frames are
    seen on screen, and it takes its own time (dropped frames, never slower).

    The window is small (480×270): Xvfb draws with the CPU (llvmpipe), and on two busy
    cores a 1280×720 window redraws at about 10 frames a second whatever the player
    does; ``make bench`` measures the 720p case."""
    fps, count = 25, 100
    cache = tmp_path / "cache"
    sha, meta = store_clip(cache, tmp_path, name, media_type, fps=fps, frames=count, codec=codec)
    items = [
        make_text_item("before", {"vi": {"title": "Xin chào", "body": VI_BODY}}, duration_s=1),
        video_item("clip", sha, {"vi": "Hướng dẫn"}),
    ]
    signed = signed_dict([playlist("p", items, fallback=True)], assets={sha: meta})
    window = (480, 270)
    with Film(display.name, tmp_path / "film.gray", fps=50, size=window, scale=1) as film:
        report = run_player(
            display,
            tmp_path,
            {
                "manifest": signed,
                "assets_dir": str(cache),
                "window": list(window),
                "exit_after_cards": 3,  # before, clip, before again
                "exit_after": 40,
            },
        )
    assert report["problems"] == []
    cards = report["cards"]
    assert [c["item"] for c in cards] == ["before", "clip", "before"]
    video = report["videos"][0]
    assert video["fps"] == fps and video["frame_count"] == count
    assert video["state"] == "ended" and "rect" in video, video
    played_s = cards[2]["t"] - cards[1]["t"]
    assert count / fps - 0.3 <= played_s <= count / fps + 1.5, played_s  # never slower
    assert video["decoded"] + video["dropped"] == count, video
    assert video["shown"] >= 0.8 * count, video  # frames uploaded to the texture

    frames = film.frames()
    indices = shown_indices(frames, video["rect"], film.scale)
    seen = {i for i in indices if i < count}
    save_film_frames(frames, list(range(0, len(frames), max(1, len(frames) // 6))), f"film-{codec}")
    ratio = len(seen) / count
    print(f"{codec}: {len(seen)} distinct frames of {count} filmed; ratio {ratio:.2f}; {video}")
    assert ratio >= 0.8, f"only {len(seen)} of {count} frames were seen on screen"
    # Frames are shown in order: the film never goes back to an earlier frame.
    in_clip = [i for i in indices if i < count]
    assert sum(1 for a, b in itertools.pairwise(in_clip) if b < a) <= 2


def test_broken_videos_are_skipped_reported_and_the_loop_goes_on(
    display: Display, tmp_path: Path
) -> None:
    """Not a video, an empty file, and a file cut in the middle: the first two are never
    shown, the cut one is left where it breaks; each is reported, none is counted as
    played, and the screen is never blank."""
    cache = tmp_path / "cache"
    not_video = b"\x00\x00\x00\x18ftypmp42" + b"x" * 4000  # an MP4 header, then junk
    garbage, garbage_meta = store_asset(cache, not_video, "video/mp4")
    empty, empty_meta = store_asset(cache, b"", "video/mp4")
    whole = make_clip(tmp_path / "whole.mp4", fps=25, frames=75, codec="h264-faststart")
    data = whole.read_bytes()
    cut, cut_meta = store_asset(cache, data[: len(data) * 6 // 10], "video/mp4")
    items = [
        welcome_item(),
        video_item("garbage", garbage, {"vi": "Hỏng"}),
        video_item("empty", empty, {"vi": "Rỗng"}),
        video_item("cut", cut, {"vi": "Bị cắt"}),
        make_text_item("after", {"vi": {"title": "Tiếp tục", "body": VI_BODY}}, duration_s=2),
    ]
    assets = {garbage: garbage_meta, empty: empty_meta, cut: cut_meta}
    signed = signed_dict([playlist("p", items, fallback=True)], assets=assets)
    with Film(display.name, tmp_path / "film.gray", fps=20) as film:
        report = run_player(
            display,
            tmp_path,
            {
                "manifest": signed,
                "assets_dir": str(cache),
                "exit_after_cards": 6,
                "exit_after": 60,
            },
        )
    order = [(c["item"], c["language"]) for c in report["cards"]]
    # Round one: the cut video plays until it breaks. Round two: every broken file is
    # known and passed over at once.
    assert order == [
        ("welcome", "vi"),
        ("welcome", "lo"),
        ("cut", "vi"),
        ("after", "vi"),
        ("welcome", "vi"),
        ("welcome", "lo"),
    ], report["problems"]
    after = order.index(("after", "vi"))
    assert order[after + 1 :].count(("cut", "vi")) == 0
    problems = report["problems"]
    assert len(problems) == 3, problems
    for item in ("garbage", "empty", "cut"):
        assert any(f"p/{item} (vi)" in p and "skipped" in p for p in problems), (item, problems)
    assert "cut short" in next(p for p in problems if "p/cut" in p)
    assert "3 video(s) skipped" in report["status"]  # the technician's corner says so
    played = [p["item_id"] for p in report["plays"]]
    assert "cut" not in played and "garbage" not in played and "empty" not in played
    assert played[:3] == ["welcome", "welcome", "after"]

    blanks, first, last = blank_frames(film.frames())
    assert (last - first) / film.fps > 5
    assert not blanks, f"{len(blanks)} blank pictures, e.g. film frames {blanks[:10]}"


def test_a_video_cut_short_by_the_schedule_is_not_counted_as_played(
    display: Display, tmp_path: Path
) -> None:
    """At 07:00 the morning playlist takes over in the middle of a 6 s video: the video
    gives way at once and leaves no proof of play; the text that follows does."""
    cache = tmp_path / "cache"
    sha, meta = store_clip(cache, tmp_path, "long.mp4", "video/mp4", fps=25, frames=150)
    fallback = playlist("fallback", [video_item("clip", sha, {"vi": "Hướng dẫn"})], fallback=True)
    morning = playlist(
        "morning",
        [make_text_item("open", {"vi": {"title": "Cửa khẩu đã mở"}}, duration_s=1)],
        priority=10,
        schedule={"windows": [{"start": "07:00", "end": "17:00"}]},
    )
    start = datetime.fromisoformat("2026-11-26T06:59:57+07:00")
    report = run_player(
        display,
        tmp_path,
        {
            "manifest": signed_dict([fallback, morning], assets={sha: meta}),
            "assets_dir": str(cache),
            "clock_start": start.isoformat(),
            "window": [480, 270],
            "exit_after_cards": 3,  # clip, open, open again
            "exit_after": 40,
        },
    )
    cards = report["cards"]
    assert [c["item"] for c in cards] == ["clip", "open", "open"]
    assert cards[1]["t"] - cards[0]["t"] < 5, "the video was not cut at 07:00"
    assert report["videos"][0]["state"] == "playing"  # cut, not ended
    played = [p["item_id"] for p in report["plays"]]
    assert "clip" not in played and played[:1] == ["open"]


def test_a_4k_60fps_video_drops_frames_and_never_stalls_the_clock(
    display: Display, tmp_path: Path
) -> None:
    """A file too heavy for this machine (3840×2160 at 60 fps, H.264): it plays in its own
    time by dropping frames, and meanwhile the main loop keeps going: the header's clock
    ticks on time while the video is on screen, and the next card comes when the file
    ends."""
    fps, count = 60, 180  # 3 s
    cache = tmp_path / "cache"
    sha, meta = store_clip(
        cache, tmp_path, "heavy.mp4", "video/mp4", fps=fps, frames=count, size=(3840, 2160),
        drawn_at=(1280, 720),
    )  # fmt: skip
    items = [video_item("heavy", sha, {"vi": "Hướng dẫn"}), welcome_item(duration_s=2)]
    signed = signed_dict([playlist("p", items, fallback=True)], assets={sha: meta})
    signed["layout"] = {**SWITCH_LAYOUT, "ticker": False}
    report = run_player(
        display,
        tmp_path,
        {
            "manifest": signed,
            "assets_dir": str(cache),
            "window": [640, 360],
            # While the clip is on screen (it starts with the app): two pictures 1.5 s apart.
            "timed_captures": [
                {"after": 1.0, "path": str(tmp_path / "during-1.png")},
                {"after": 2.5, "path": str(tmp_path / "during-2.png")},
            ],
            "exit_after_cards": 2,  # the clip, then the welcome card
            "run_to_exit": True,
            "exit_after": 40,
        },
    )
    assert report["problems"] == []
    cards = report["cards"]
    assert [c["item"] for c in cards] == ["heavy", "welcome"]
    video = report["videos"][0]
    assert (video["fps"], video["frame_count"], video["size"]) == (fps, count, [3840, 2160])
    assert video["state"] == "ended", video
    assert video["decoded"] + video["dropped"] == count, video
    assert video["dropped"] > 0, f"this machine decoded 4K at 60 fps in time: {video}"
    played_s = cards[1]["t"] - cards[0]["t"]
    assert played_s <= count / fps + 1.5, f"the video slowed the show down: {played_s:.2f} s"
    first, second = (report["captured"][str(tmp_path / f"during-{i}.png")] for i in (1, 2))
    assert second["t"] - first["t"] <= 2.1, (first["t"], second["t"])  # the loop kept time
    assert first["t"] < cards[1]["t"] and second["t"] < cards[1]["t"] + 0.5
    assert first["zones"]["header"]["clock"] != second["zones"]["header"]["clock"]
