"""Layouts on a real X display (Xvfb): the header with the site's name, the local date
and a ticking clock, the ticker of notices, landscape and portrait, and two languages
side by side. Screenshots land in ``tests/artifacts/player-layout-*.png``: look at them
(Vietnamese and Lao in every zone, no box, no clipped line, the ticker included)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from tests.player.player_fakes import LAO_PARAGRAPH, VI_BODY, playlist, signed_dict, text_item
from tests.player.player_kit import run_player
from tests.support.xvfb import Display, xvfb

pytestmark = [pytest.mark.display, pytest.mark.live]

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"

TITLE = {"vi": "Cửa khẩu A Đớt", "lo": "ດ່ານ ອາເດີດ", "en": "A Dot Border Gate"}
NOTICES = [
    {
        "id": "adot-notice-papers",
        "until": None,
        "texts": {
            "vi": "Xin chuẩn bị sẵn hộ chiếu hoặc giấy thông hành trước khi xếp hàng.",
            "lo": "ກະລຸນາກຽມໜັງສືຜ່ານແດນ ຫຼື ໃບຜ່ານແດນ ໃຫ້ພ້ອມກ່ອນເຂົ້າແຖວ.",
            "en": "Please have your passport or border pass ready before you queue.",
        },
    },
    {
        "id": "adot-notice-emergency",
        "until": None,
        "texts": {
            "vi": "Khẩn cấp: 113 Công an, 114 Cứu hỏa và cứu nạn, 115 Cấp cứu y tế.",
            "lo": "ສຸກເສີນ: 113 ຕຳຫຼວດ, 114 ດັບເພີງ ແລະ ກູ້ໄພ, 115 ການແພດສຸກເສີນ.",
            "en": "Emergency: 113 Police, 114 Fire and rescue, 115 Ambulance.",
        },
    },
]
LAO_TITLE = "ຍິນດີຕ້ອນຮັບສູ່ດ່ານອາເດີດ"


@pytest.fixture(scope="module")
def display(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Display]:
    # Square, so a portrait window fits on the screen as well as a landscape one.
    with xvfb(tmp_path_factory.mktemp("xvfb"), 1280, 1280) as d:
        yield d


def layout(orientation: str = "landscape", **kw: Any) -> dict[str, Any]:
    return {"orientation": orientation, "header": True, "ticker": True, "title": TITLE,
            "notices": NOTICES, **kw}  # fmt: skip


def welcome(duration_s: int = 3) -> dict[str, Any]:
    return text_item(
        "welcome",
        {
            "vi": {"title": "Chào mừng Quý khách đến Cửa khẩu A Đớt", "body": VI_BODY},
            "lo": {"title": LAO_TITLE, "body": LAO_PARAGRAPH},
            "en": {"title": "Welcome to A Dot Border Gate", "body": "Have your papers ready."},
        },
        duration_s=duration_s,
    )


def manifest(lay: dict[str, Any] | None, *, bilingual: str | None = None) -> dict[str, Any]:
    p = playlist("adot-welcome", [welcome()], fallback=True)
    if bilingual:
        p["bilingual"] = bilingual
    signed = signed_dict([p])
    if lay is not None:
        signed["layout"] = lay
    return signed


def inside(inner: list[float], outer: list[float], slack: float = 1.0) -> bool:
    x, y, w, h = inner
    ox, oy, ow, oh = outer
    return (
        x >= ox - slack
        and y >= oy - slack
        and x + w <= ox + ow + slack
        and (y + h <= oy + oh + slack)
    )


def check_zones(zones: dict[str, Any]) -> None:
    """Every text of the header sits inside it, laid out within its box (nothing clipped);
    the ticker's texts are one line each, as tall as they need and inside the zone's
    height (their left-right place moves: the zone clips them while they scroll)."""
    header = zones["header"]
    assert header["texts"], "the header shows nothing"
    for t in header["texts"]:
        assert inside(t["rect"], header["rect"]), (t, header["rect"])
        assert t["content_height"] <= t["height"] + 1, t
        assert t["content_width"] <= t["width"] + 1, t
    ticker = zones["ticker"]
    texts = [t for t in ticker["texts"] if t["text"] != "•"]
    assert len({t["text"] for t in texts}) == 6, [t["text"] for t in texts]  # 2 × vi, lo, en
    copies = len(texts) // 6
    assert copies * ticker["strip_width"] >= ticker["rect"][2] + ticker["strip_width"]
    _, ty, _, th = ticker["rect"]
    for t in texts:
        assert len(t["lines"]) == 1, t
        assert t["width"] >= t["content_width"] - 1, t  # whole: never cut to its box
        assert ty - 1 <= t["rect"][1] and t["rect"][1] + t["height"] <= ty + th + 1, (t, ticker)
    card = zones["card_area"]
    assert card[1] >= header["rect"][1] + header["rect"][3] - 1  # the card below the header
    assert card[1] + card[3] <= ty + 1  # and above the ticker


def shots(report: dict[str, Any], names: dict[str, str]) -> dict[str, dict[str, Any]]:
    return {name: report["captured"][path] for name, path in names.items()}


@pytest.mark.parametrize(
    ("name", "window", "orientation", "bilingual"),
    [
        ("landscape", (1280, 720), "landscape", None),
        ("portrait", (720, 1280), "portrait", None),
        ("side-by-side", (1280, 720), "landscape", "side_by_side"),
        ("side-by-side-portrait", (720, 1280), "portrait", "side_by_side"),
        # A screen hung vertically that X still drives as 1280×720: the picture is turned.
        ("portrait-turned", (1280, 720), "portrait", None),
    ],
)
def test_each_layout_in_vietnamese_and_lao_keeps_every_text_in_its_zone(
    display: Display,
    tmp_path: Path,
    name: str,
    window: tuple[int, int],
    orientation: str,
    bilingual: str | None,
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    first = "vi"
    second = "lo" if bilingual is None else "en"  # side by side: vi | lo, then en alone
    paths = {lang: str(ARTIFACTS / f"player-layout-{name}-{lang}.png") for lang in (first, second)}
    report = run_player(
        display,
        tmp_path,
        {
            "manifest": manifest(layout(orientation), bilingual=bilingual),
            "window": list(window),
            "captures": [
                {"item": "welcome", "language": lang, "path": path, "delay": 1.2}
                for lang, path in paths.items()
            ],
            "exit_after": 40,
        },
    )
    got = shots(report, paths)
    for lang, shot in got.items():
        check_zones(shot["zones"])
        header_texts = " ".join(t["text"] for t in shot["zones"]["header"]["texts"])
        assert TITLE["vi"] in header_texts and TITLE["lo"] in header_texts, header_texts
        assert "ວັນ" in header_texts  # the weekday in Lao
        card_texts = [t for t in shot["texts"] if t["rect"][1] < shot["zones"]["card_area"][1] + 5
                      or True]  # fmt: skip
        assert card_texts
        img = cv2.imread(shot["file"])
        upright = window if orientation == "landscape" else (min(window), max(window))
        assert img is not None and img.shape[1::-1] == upright, (lang, img.shape)
    if bilingual:
        texts = [t["text"] for t in got["vi"]["texts"]]
        assert LAO_TITLE in texts and "Chào mừng Quý khách đến Cửa khẩu A Đớt" in texts
        pair = [(p["item_id"], p["language"]) for p in report["plays"]][:2]
        assert pair == [("welcome", "vi"), ("welcome", "lo")]  # both halves are recorded
    else:
        assert LAO_TITLE in [t["text"] for t in got["lo"]["texts"]]


def test_the_header_clock_ticks_and_nothing_else_changes(display: Display, tmp_path: Path) -> None:
    """Two screenshots 1.5 s apart on the same card: they differ, and only inside the
    clock's box."""
    lay = layout(ticker=False)
    paths = [str(ARTIFACTS / f"player-layout-clock-{i}.png") for i in (1, 2)]
    signed = manifest(lay)
    signed["playlists"][0]["items"][0]["duration_s"] = 30
    report = run_player(
        display,
        tmp_path,
        {
            "manifest": signed,
            "timed_captures": [{"after": 4.0, "path": paths[0]}, {"after": 5.5, "path": paths[1]}],
            "run_to_exit": True,
            "exit_after": 8,
        },
    )
    a, b = (report["captured"][p] for p in paths)
    assert a["zones"]["header"]["clock"] != b["zones"]["header"]["clock"]
    one, two = (cv2.imread(p).astype(int) for p in paths)
    changed = np.argwhere(np.abs(one - two).sum(axis=2) > 30)
    assert len(changed), "the two screenshots are the same: the clock does not tick"
    clock = next(
        t for t in b["zones"]["header"]["texts"] if t["text"] == b["zones"]["header"]["clock"]
    )
    x, y, w, h = clock["rect"]
    ys, xs = changed[:, 0], changed[:, 1]
    assert xs.min() >= x - 2 and xs.max() <= x + w + 2, (xs.min(), xs.max(), clock["rect"])
    assert ys.min() >= y - 2 and ys.max() <= y + h + 2, (ys.min(), ys.max(), clock["rect"])


def test_zones_keep_their_share_of_the_screen_at_every_size(
    display: Display, tmp_path: Path
) -> None:
    """A 640×360 and a 1280×720 window show the same picture, scaled: the zones take the
    same share of the height and the ticker's text the same share of its zone (so 720p,
    1080p and 4K read the same from 3–5 m)."""
    shares = []
    for window in ((640, 360), (1280, 720)):
        path = str(tmp_path / f"size-{window[0]}.png")
        report = run_player(
            display,
            tmp_path,
            {
                "manifest": manifest(layout()),
                "window": list(window),
                "captures": [{"item": "welcome", "language": "vi", "path": path, "delay": 1}],
                "exit_after": 30,
            },
        )
        zones = report["captured"][path]["zones"]
        check_zones(zones)
        ticker_text = next(t for t in zones["ticker"]["texts"] if t["text"] != "•")
        shares.append(
            (
                zones["header"]["rect"][3] / window[1],
                zones["ticker"]["rect"][3] / window[1],
                ticker_text["font_size"] / window[1],
            )
        )
    assert shares[0] == pytest.approx(shares[1], rel=0.03), shares
    assert shares[1][2] >= 0.04  # the ticker's type: 4 % of the screen's height at least


def test_the_maintenance_overlay_comes_with_a_key_or_a_command_and_hides_by_itself(
    display: Display, tmp_path: Path
) -> None:
    """F2 pressed on the X display shows the overlay, F2 again hides it; the server's
    ``overlay`` command (from another thread, as paho calls) shows it, and it hides by
    itself after its time, while the content goes on under it."""
    signed = manifest(layout())
    signed["playlists"][0]["items"][0]["duration_s"] = 30
    at = {"key": 3.0, "key_again": 5.0, "command": 7.0}
    paths = {
        name: str(ARTIFACTS / f"player-maintenance-{name}.png")
        for name in ("key", "key-again", "command", "after")
    }
    report = run_player(
        display,
        tmp_path,
        {
            "manifest": signed,
            "keys": [{"after": at["key"], "key": "F2"}, {"after": at["key_again"], "key": "F2"}],
            "maintenance": {"after": at["command"], "seconds": 4.0},
            "timed_captures": [
                {"after": at["key"] + 1.0, "path": paths["key"]},
                {"after": at["key_again"] + 1.0, "path": paths["key-again"]},
                {"after": at["command"] + 1.0, "path": paths["command"]},
                {"after": at["command"] + 6.5, "path": paths["after"]},
            ],
            "run_to_exit": True,
            "exit_after": 15,
        },
        timeout=120,
    )
    shown = {name: report["captured"][p]["zones"]["maintenance"] for name, p in paths.items()}
    assert shown["key"] is not None, "F2 did not show the maintenance overlay"
    assert "Thiết bị · Device: adot-hall-1" in shown["key"]
    assert "Nội dung · Manifest: v7" in shown["key"] and "14 tệp · files, 50.0 MB" in shown["key"]
    assert "Địa chỉ · Addresses" in shown["key"] and "Tự ẩn sau 30 giây" in shown["key"]
    assert shown["key-again"] is None, "F2 again did not hide it"
    assert shown["command"] is not None and "Tự ẩn sau 4 giây" in shown["command"]
    assert shown["after"] is None, "the overlay did not hide by itself"
    texts = report["captured"][paths["command"]]["texts"]
    overlay = next(t for t in texts if t["text"].startswith("Bảo trì"))
    assert overlay["content_height"] <= overlay["height"] + 1  # nothing clipped
    assert [c["item"] for c in report["cards"]] == ["welcome"]  # the card played on under it
