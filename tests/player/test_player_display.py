"""The player on a real X display (Xvfb): what a traveller at the gate would see.

Each app run is a subprocess (``player_driver.py``) with a fake runtime; screenshots
land in ``tests/artifacts/`` for a person to look at, and are checked here for being
drawn at all, for differing between Vietnamese and Lao, and (from the laid-out lines
the driver reports) for Lao wrapping only between ICU words and never overflowing.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from signage_core.signing import SigningKey
from signage_player.linebreak import break_opportunities
from tests.player.player_fakes import (
    LAO_MIXED,
    LAO_PARAGRAPH,
    VI_BODY,
    image_item,
    playlist,
    signed_dict,
    store_asset,
    text_item,
)
from tests.player.player_kit import run_player
from tests.support.xvfb import Display, xvfb

pytestmark = pytest.mark.display

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"
BACKGROUND_BGR = (74, 41, 13)  # playback.kv BACKGROUND (0.05, 0.16, 0.29) in 8-bit BGR


@pytest.fixture(scope="module")
def display(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Display]:
    with xvfb(tmp_path_factory.mktemp("xvfb")) as d:
        yield d


def map_png() -> bytes:
    """A small stand-in for a gate map: roads, a river, a border line."""
    img = np.full((540, 960, 3), (225, 236, 240), np.uint8)
    cv2.line(img, (0, 400), (960, 140), (60, 60, 200), 14)
    cv2.line(img, (480, 0), (480, 540), (40, 40, 40), 4)
    cv2.circle(img, (480, 280), 36, (30, 140, 30), -1)
    cv2.rectangle(img, (80, 80), (300, 200), (200, 120, 40), -1)
    ok, data = cv2.imencode(".png", img)
    assert ok
    return bytes(data.tobytes())


def drawn_fraction(png: Path) -> float:
    """Share of pixels that are not the background colour."""
    img = cv2.imread(str(png))
    assert img is not None, png
    diff = np.abs(img.astype(int) - np.array(BACKGROUND_BGR)).sum(axis=2)
    return float((diff > 40).mean())


def check_layout(texts: list[dict[str, Any]]) -> None:
    for t in texts:
        assert t["lines"], t["text"]
        if t["wrap"]:
            assert t["content_width"] <= t["width"] + 1, t
        if t["fit"]:
            assert t["content_height"] <= t["height"] + 1, t  # nothing clipped or overflowing


def test_vietnamese_and_lao_cards_on_screen(display: Display, tmp_path: Path) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    sha, meta = store_asset(tmp_path / "cache", map_png(), "image/png")
    welcome = text_item(
        "welcome",
        {
            "vi": {"title": "Cửa khẩu A Đớt – Tà Vàng", "body": VI_BODY},
            "lo": {"title": LAO_MIXED, "body": LAO_PARAGRAPH},
        },
        duration_s=2,
    )
    gate_map = image_item(
        "gate-map",
        sha,
        {"vi": "Sơ đồ khu vực cửa khẩu", "lo": "ແຜນທີ່ເຂດດ່ານ"},
        duration_s=2,
    )
    signed = signed_dict(
        [playlist("adot-welcome", [welcome, gate_map], fallback=True)], assets={sha: meta}
    )
    shots = {
        "empty": (None, None),
        "vi": ("welcome", "vi"),
        "lo": ("welcome", "lo"),
        "image-lo": ("gate-map", "lo"),
    }
    report = run_player(
        display,
        tmp_path,
        {
            "manifest": signed,
            "assets_dir": str(tmp_path / "cache"),
            "publish_after": 1.5,
            "captures": [
                {"item": item, "language": lang, "path": str(ARTIFACTS / f"player-{name}.png")}
                for name, (item, lang) in shots.items()
            ],
            "exit_after": 40,
        },
    )

    order = [(c["item"], c["language"]) for c in report["cards"]]
    # Empty until the worker thread delivers content; then each item in vi, then lo
    # (the manifest lists en, but no item has English and vi was just shown).
    assert order[:5] == [
        (None, None),
        ("welcome", "vi"),
        ("welcome", "lo"),
        ("gate-map", "vi"),
        ("gate-map", "lo"),
    ]

    pngs = {name: ARTIFACTS / f"player-{name}.png" for name in shots}
    for name, png in pngs.items():
        assert drawn_fraction(png) > 0.005, f"{name} screenshot is blank"
    vi, lo = (cv2.imread(str(pngs[n])).astype(int) for n in ("vi", "lo"))
    assert np.abs(vi - lo).mean() > 2, "the Vietnamese and Lao cards look the same"

    captured = report["captured"]
    lo_texts = {t["text"]: t for t in captured[str(pngs["lo"])]["texts"]}
    check_layout(list(lo_texts.values()))
    body = lo_texts[LAO_PARAGRAPH]
    assert len(body["lines"]) >= 3, body["lines"]  # the long paragraph wraps
    opportunities = set(break_opportunities(LAO_PARAGRAPH))
    pos = 0
    for line in body["lines"][:-1]:
        pos = LAO_PARAGRAPH.index(line, pos) + len(line)
        while LAO_PARAGRAPH[pos].isspace():
            pos += 1
        assert pos in opportunities, f"line broken inside a word: {line!r}"
    assert lo_texts[LAO_MIXED]["lines"] == [LAO_MIXED]
    check_layout(captured[str(pngs["vi"])]["texts"])
    check_layout(captured[str(pngs["image-lo"])]["texts"])

    # Proof of play: each card that left the screen was recorded, with its version.
    played = [(p["item_id"], p["language"]) for p in report["plays"]]
    assert played[:3] == [("welcome", "vi"), ("welcome", "lo"), ("gate-map", "vi")]
    for p in report["plays"][:3]:
        assert p["manifest_version"] == signed["version"]
        assert 1500 <= p["duration_ms"] <= 3500, p
    assert report["now_playing"][0] == ["adot-welcome", "welcome", "vi"]


def test_schedule_change_switches_without_waiting_for_the_card(
    display: Display, tmp_path: Path
) -> None:
    """At 07:00 the morning playlist takes over at once, from the one schedule timer."""
    fallback = playlist(
        "fallback",
        [text_item("idle", {"vi": {"title": "Xin chào"}, "lo": {"title": "ສະບາຍດີ"}}, 60)],
        fallback=True,
    )
    morning = playlist(
        "morning",
        [text_item("open", {"vi": {"title": "Cửa khẩu đã mở"}, "lo": {"title": "ດ່ານເປີດແລ້ວ"}})],
        priority=10,
        schedule={"windows": [{"start": "07:00", "end": "17:00"}]},
    )
    # The player's clock starts three seconds before 07:00 in Huế.
    start = datetime.fromisoformat("2026-11-26T06:59:57+07:00")
    report = run_player(
        display,
        tmp_path,
        {
            "manifest": signed_dict([fallback, morning]),
            "clock_start": start.isoformat(),
            "captures": [
                {"item": "open", "language": "vi", "path": str(tmp_path / "open.png"), "delay": 0.2}
            ],
            "exit_after": 20,
        },
    )
    cards = report["cards"]
    assert [(c["playlist"], c["item"]) for c in cards[:2]] == [
        ("fallback", "idle"),
        ("morning", "open"),
    ]
    switched_at = datetime.fromisoformat(cards[1]["now"])
    assert start + timedelta(seconds=3) <= switched_at < start + timedelta(seconds=6)
    # The fallback card was cut short by the schedule, and its play recorded as such.
    first = report["plays"][0]
    assert first["item_id"] == "idle" and first["duration_ms"] < 6000


def test_signage_player_command_starts_with_the_real_runtime_and_shows_the_empty_state(
    display: Display, tmp_path: Path
) -> None:
    """`signage-player --config` on a device with no content yet and no server in reach."""
    key = SigningKey.from_bytes(bytes(range(32)))
    config = tmp_path / "device.toml"
    config.write_text(
        'device_id = "adot-hall-1"\n'
        'token = "test-token"\n'
        'server_url = "http://127.0.0.1:9"\n'  # nothing listens: the device is offline
        f'trusted_keys = ["{key.public.spec()}"]\n'
        'mqtt_url = "mqtt://127.0.0.1:9"\n'
        'mqtt_password = "secret"\n'
        'data_dir = "data"\n',
        encoding="utf-8",
    )
    shot = ARTIFACTS / "player-command-empty.png"
    shot.unlink(missing_ok=True)
    ARTIFACTS.mkdir(exist_ok=True)
    command = ["signage_player.main", "--config", str(config), "--windowed"]
    demo = ["--screenshot", str(shot), "--screenshot-after", "1.5", "--exit-after", "3"]
    proc = subprocess.run(
        [sys.executable, "-m", *command, *demo],
        env=display.env(PYTHONPATH=str(ROOT)),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert drawn_fraction(shot) > 0.005, "the empty state was not drawn"
    assert (tmp_path / "data" / "state").is_dir()  # the runtime really started


SIGNS_TITLE = "Lối ra → Cổng 2 ≈ 50 m ✓ ⚠"
SIGNS_BODY = "Cửa khẩu A Đớt ← ດ່ານອາເດີດ → Tà Vàng ≤ 5 phút ≥ 2 người ×3"


def test_signs_and_symbols_are_drawn_with_the_fallback_fonts(
    display: Display, tmp_path: Path
) -> None:
    """A card with Vietnamese, Lao and → ≈ ✓ ⚠: every glyph drawn, none a box.

    The second card holds private-use characters that no font has, in the same
    places: had the symbols no glyph either, both titles would be the same row of
    boxes (the font's .notdef), pixel for pixel.
    """
    ARTIFACTS.mkdir(exist_ok=True)
    signs = text_item("signs", {"vi": {"title": SIGNS_TITLE, "body": SIGNS_BODY}}, duration_s=2)
    tofu_title = "".join("\ue000" if c in "→≈✓⚠" else c for c in SIGNS_TITLE)
    tofu = text_item("tofu", {"vi": {"title": tofu_title, "body": SIGNS_BODY}}, duration_s=2)
    signed = signed_dict([playlist("signs", [signs, tofu], fallback=True)])
    pngs = {name: ARTIFACTS / f"player-{name}.png" for name in ("signs", "tofu")}
    report = run_player(
        display,
        tmp_path,
        {
            "manifest": signed,
            "publish_after": 1.5,  # once the window is up
            "captures": [
                {"item": name, "language": "vi", "path": str(png)} for name, png in pngs.items()
            ],
            "exit_after": 30,
        },
    )
    texts = {t["text"]: t for t in report["captured"][str(pngs["signs"])]["texts"]}
    assert texts[SIGNS_TITLE]["lines"] and texts[SIGNS_BODY]["lines"]
    check_layout(list(texts.values()))
    for png in pngs.values():
        assert drawn_fraction(png) > 0.005, f"{png.name} is blank"
    signs_img, tofu_img = (cv2.imread(str(p)).astype(int) for p in pngs.values())
    differs = np.abs(signs_img - tofu_img).sum(axis=2) > 40
    # Had → ≈ ✓ ⚠ no glyph, they would be the same boxes as the private-use characters.
    assert differs.sum() > 200, "→ ≈ ✓ ⚠ are drawn as boxes, like characters no font has"
