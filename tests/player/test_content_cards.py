"""The real gate content, drawn by the player on a real X display (Xvfb).

There is no kiosk app yet: the customs, documents and emergency kiosk pages of
``playlists/`` are played as text cards (title and body, as the player draws a card),
in Vietnamese and in Lao, with the longest screen items on the same topics.
Screenshots land in ``tests/artifacts/content-*.png`` for a person to look at; the
test checks from the laid-out lines that every page fits its card (nothing clipped)
at a readable size, and that every character has a glyph.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
import yaml

from signage_core.coverage import load_cmap, missing_glyphs
from tests.player.player_fakes import playlist, signed_dict, text_item
from tests.player.player_kit import run_player
from tests.support.xvfb import xvfb

pytestmark = [pytest.mark.display, pytest.mark.live]

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"
FONTS = ROOT / "assets" / "fonts"
BACKGROUND_BGR = (74, 41, 13)  # playback.kv BACKGROUND in 8-bit BGR
# The kiosk pages a traveller most relies on: customs, documents, emergency.
PAGES = {
    "adot": (
        "adot-kiosk-duty-free",
        "adot-kiosk-declare",
        "adot-kiosk-prohibited",
        "adot-kiosk-documents",
        "adot-kiosk-emergency-numbers",
        "adot-kiosk-contacts",
        "adot-kiosk-lost-documents",
    ),
    "hongvan": ("hongvan-kiosk-documents",),  # the one whose words differ from A Đớt's
}
# The longest screen items of the same topics (playlists/adot/*.yaml).
ITEMS = ("adot-customs-other", "adot-customs-gold", "adot-docs-who", "adot-emergency-laos")


def kiosk_pages(gate: str) -> dict[str, dict[str, Any]]:
    data = yaml.safe_load((ROOT / "playlists" / gate / "pages.yaml").read_text(encoding="utf-8"))
    out = {}
    for category in data["page"]:
        for page in category.get("pages", []):
            out[page["id"]] = page
    return out


def card_items() -> list[dict[str, Any]]:
    items = []
    for gate, ids in PAGES.items():
        pages = kiosk_pages(gate)
        for page_id in ids:
            text = pages[page_id]["text"]
            items.append(text_item(page_id, {"vi": text["vi"], "lo": text["lo"]}, duration_s=2))
    for path in sorted((ROOT / "playlists" / "adot").glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for item in data.get("playlist", {}).get("items", []):
            if item["id"] in ITEMS:
                text = item["text"]
                variants = {"vi": text["vi"], "lo": text["lo"]}
                items.append(text_item(item["id"], variants, duration_s=2))
    assert len(items) == sum(map(len, PAGES.values())) + len(ITEMS)
    return items


def drawn_fraction(png: Path) -> float:
    img = cv2.imread(str(png))
    assert img is not None, png
    diff = np.abs(img.astype(int) - np.array(BACKGROUND_BGR)).sum(axis=2)
    return float((diff > 40).mean())


def test_customs_documents_and_emergency_pages_fit_their_cards_in_vietnamese_and_lao(
    tmp_path: Path,
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    items = card_items()
    shots = {
        (item["id"], lang): ARTIFACTS / f"content-{item['id']}-{lang}.png"
        for item in items
        for lang in ("vi", "lo")
    }
    scenario = {
        "manifest": signed_dict([playlist("kiosk-pages", items, fallback=True)]),
        "assets_dir": str(tmp_path / "cache"),
        "publish_after": 1.5,  # as the sync worker delivers it: after the window is up
        "next_after_capture": True,  # 22 cards: not 2 s each once photographed
        "captures": [
            {"item": item_id, "language": lang, "path": str(path)}
            for (item_id, lang), path in shots.items()
        ],
        "exit_after": 200,
    }
    with xvfb(tmp_path / "xvfb") as display:
        report = run_player(display, tmp_path, scenario, timeout=240)

    lao, latin = (
        load_cmap(FONTS / "NotoSansLao-Regular.ttf"),
        load_cmap(FONTS / "NotoSans-Regular.ttf"),
    )
    lao_bold = load_cmap(FONTS / "NotoSansLao-Bold.ttf")
    latin_bold = load_cmap(FONTS / "NotoSans-Bold.ttf")
    for (item_id, lang), png in shots.items():
        assert drawn_fraction(png) > 0.01, f"{png.name} is blank"
        texts = {t["text"]: t for t in report["captured"][str(png)]["texts"]}
        page = next(i for i in items if i["id"] == item_id)["variants"][lang]
        title, body = texts[page["title"]], texts[page["body"]]
        for t in (title, body):
            assert t["lines"], (png.name, t["text"][:40])
            assert t["content_width"] <= t["width"] + 1, (png.name, t["lines"])
            # Nothing clipped: the lines fit the card's height at the size they were drawn.
            assert t["content_height"] <= t["height"] + 1, (png.name, t["used_font_size"])
        # Readable from a queue: the body is not shrunk below 60 % of its design size.
        assert body["used_font_size"] >= 0.6 * body["font_size"], (png.name, body)
        # Every word of the page is on screen, in order.
        assert "".join(body["lines"]).replace(" ", "") == page["body"].replace("\n", "").replace(
            " ", ""
        ), png.name
        assert missing_glyphs(page["body"], lao, latin) == [], png.name
        assert missing_glyphs(page["title"], lao_bold, latin_bold) == [], png.name
    # Vietnamese and Lao cards differ (the Lao text is really drawn in Lao).
    vi = cv2.imread(str(shots[("adot-kiosk-declare", "vi")])).astype(int)
    lo = cv2.imread(str(shots[("adot-kiosk-declare", "lo")])).astype(int)
    assert np.abs(vi - lo).mean() > 2
