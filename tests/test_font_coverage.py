"""Every character a screen will draw has a glyph in the font of its script run.

Noto Sans Lao has no Latin letters, digits or punctuation, and the player's text
renderer has no per-glyph fallback: a character missing from its run's font is
drawn as a box. This checks the playlists and kiosk pages in ``playlists/`` (all
strings under ``text``, ``caption`` and ``name`` keys) and the player's own words.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from content_server import fonts
from signage_core import languages
from signage_core.coverage import FALLBACK_FONTS, load_cmap, missing_glyphs, shared_characters
from signage_core.text import LAO_FONT_SHARED, FontRun, font_runs
from signage_player import strings

ROOT = Path(__file__).resolve().parent.parent
FONTS = ROOT / "assets" / "fonts"
PLAYLISTS = ROOT / "playlists"
TEXT_KEYS = frozenset({"text", "caption", "name"})


@pytest.fixture(scope="module")
def cmaps() -> dict[str, frozenset[int]]:
    return {
        "lao": load_cmap(FONTS / "NotoSansLao-Regular.ttf"),
        "latin": load_cmap(FONTS / "NotoSans-Regular.ttf"),
        "lao_bold": load_cmap(FONTS / "NotoSansLao-Bold.ttf"),
        "latin_bold": load_cmap(FONTS / "NotoSans-Bold.ttf"),
        **{name: load_cmap(FONTS / name) for name in FALLBACK_FONTS},
    }


def fallbacks(cmaps: dict[str, frozenset[int]]) -> tuple[frozenset[int], ...]:
    return tuple(cmaps[name] for name in FALLBACK_FONTS)


def strings_under(node: Any, collecting: bool = False) -> Iterator[str]:
    """String values found under a ``text``, ``caption`` or ``name`` key, at any depth."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from strings_under(value, collecting or key in TEXT_KEYS)
    elif isinstance(node, list):
        for value in node:
            yield from strings_under(value, collecting)
    elif isinstance(node, str) and collecting:
        yield node


def playlist_strings(folder: Path) -> list[tuple[str, str]]:
    """(file, string) for every displayable string in the YAML files under ``folder``."""
    out = []
    for path in sorted(folder.rglob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        out.extend((str(path.relative_to(folder)), s) for s in strings_under(data))
    return out


def problems(items: list[tuple[str, str]], cmaps: dict[str, frozenset[int]]) -> list[str]:
    """One line per string that would show a box, with the missing characters."""
    out = []
    for where, text in items:
        for lao, latin in (("lao", "latin"), ("lao_bold", "latin_bold")):
            missing = missing_glyphs(text, cmaps[lao], cmaps[latin], fallbacks(cmaps))
            if missing:
                codes = ", ".join(f"U+{ord(c):04X}" for c in missing)
                out.append(f"{where}: {text[:60]!r} cannot draw {codes} ({lao}/{latin})")
    return out


def test_every_playlist_string_can_be_drawn(cmaps: dict[str, frozenset[int]]) -> None:
    items = playlist_strings(PLAYLISTS)
    assert items, f"no strings found under {PLAYLISTS}: the collector or the content is broken"
    assert any(any("\u0e80" <= ch <= "\u0eff" for ch in text) for _, text in items), (
        "no Lao text found in the playlists"
    )
    # Kiosk pages keep their words under ``text`` too (docs/playlist-format.md).
    assert any(where.endswith("pages.yaml") for where, _ in items), "kiosk pages not collected"
    assert problems(items, cmaps) == []


def test_every_player_ui_string_can_be_drawn(cmaps: dict[str, frozenset[int]]) -> None:
    ui = [("signage_player.strings", s) for s in strings.ALL]
    ui += [("language names", lang.name) for lang in languages.LANGUAGES.values()]
    assert problems(ui, cmaps) == []


def test_the_check_fails_on_a_character_no_font_has(
    tmp_path: Path, cmaps: dict[str, frozenset[int]]
) -> None:
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "bad.yaml").write_text(
        "playlist:\n"
        "  id: bad\n"
        "  name: {vi: 'Bình thường'}\n"
        "  items:\n"
        "    - id: x\n"
        "      kind: image\n"
        '      caption: {lo: "ແຜນທີ່ \\uE000"}\n'  # a YAML escape
        "      text: {vi: {title: 'ok', body: 'private \ue001 use'}}\n",  # the character
        encoding="utf-8",
    )
    found = problems(playlist_strings(tmp_path), cmaps)
    assert any("U+E000" in p and "bad.yaml" in p for p in found)
    assert any("U+E001" in p for p in found)


def test_missing_glyphs_checks_each_run_against_its_own_font(
    cmaps: dict[str, frozenset[int]],
) -> None:
    lao, latin = cmaps["lao"], cmaps["latin"]
    assert missing_glyphs("ລາວ-ຫວຽດນາມ 2026", lao, latin) == []
    assert missing_glyphs("Cửa khẩu A Đớt\nTà Vàng", lao, latin) == []
    # Each missing character once, in order; a Lao code point the font lacks is caught too.
    assert missing_glyphs("\ue000 ລາວ \u0e80 \ue000", lao, latin) == ["\ue000", "\u0e80"]
    # Had the Latin font no hyphen, the hyphen in a Lao title would be a box.
    assert missing_glyphs("ລາວ-ຫວຽດ", lao, latin - {ord("-")}) == ["-"]
    # A space both fonts draw is fine in either run; one only Latin draws is not Lao's.
    assert missing_glyphs("ລາວ ລາວ", lao - {0x20}, latin) == []


def test_the_default_shared_characters_match_the_shipped_fonts(
    cmaps: dict[str, frozenset[int]],
) -> None:
    assert shared_characters(cmaps["lao"], cmaps["latin"]) == LAO_FONT_SHARED
    assert shared_characters(cmaps["lao_bold"], cmaps["latin_bold"]) == LAO_FONT_SHARED
    assert "-" not in LAO_FONT_SHARED and "2" not in LAO_FONT_SHARED


SIGNS = "→ ← ↑ ↓ ⇒ ≈ ≤ ≥ ≠ × ÷ ± ° ✓ ✗ ⚠ ☎ ♿ ⛔ ✈ ★ ● ■ ▲ ►"


def test_arrows_math_and_pictographic_signs_are_drawn_by_a_shipped_font(
    cmaps: dict[str, frozenset[int]],
) -> None:
    lao, latin = cmaps["lao"], cmaps["latin"]
    text = f"Lối ra {SIGNS} ລາວ → ຫວຽດ"
    # Without the fallback fonts every sign outside Noto Sans would be a box ...
    assert "→" in missing_glyphs(text, lao, latin) and "✓" in missing_glyphs(text, lao, latin)
    # ... with them, none is; in bold too (bold text borrows their regular glyphs).
    assert missing_glyphs(text, lao, latin, fallbacks(cmaps)) == []
    assert missing_glyphs(text, cmaps["lao_bold"], cmaps["latin_bold"], fallbacks(cmaps)) == []
    # A character no shipped font has is still refused, wherever it stands.
    assert missing_glyphs("→ \ue000 ≈ ລາວ\U0001f600", lao, latin, fallbacks(cmaps)) == [
        "\ue000",
        "\U0001f600",
    ]


def test_font_runs_keep_script_runs_and_send_only_the_missing_glyphs_to_a_fallback(
    cmaps: dict[str, frozenset[int]],
) -> None:
    own = {"Laoo": cmaps["lao"], "Latn": cmaps["latin"]}
    runs = font_runs("Cổng → ດ່ານ ≈ 2 ✓", own, fallbacks(cmaps))
    assert runs == [
        FontRun("Cổng ", "Latn"),
        FontRun("→", "Latn", 0),
        FontRun(" ", "Latn"),
        FontRun("ດ່ານ ", "Laoo"),
        FontRun("≈", "Latn", 0),
        FontRun(" 2 ", "Latn"),
        FontRun("✓", "Latn", 1),
    ]
    assert "".join(r.text for r in runs) == "Cổng → ດ່ານ ≈ 2 ✓"
    # Lao keeps its own font and HarfBuzz script: marks stay with their consonant.
    assert font_runs("ນ້ຳ", own, fallbacks(cmaps)) == [FontRun("ນ້ຳ", "Laoo")]
    # A mark after a fallback sign stays in the sign's font when that font has it.
    arrow_mark = "→\u20d7"  # COMBINING RIGHT ARROW ABOVE, in Noto Sans Math
    assert font_runs(arrow_mark, own, fallbacks(cmaps)) == [FontRun(arrow_mark, "Latn", 0)]


def test_the_fallback_fonts_are_shipped_with_their_licence() -> None:
    licence = (FONTS / "OFL.txt").read_text(encoding="utf-8")
    assert "SIL Open Font License" in licence
    for name in FALLBACK_FONTS:
        assert (FONTS / name).is_file(), name
    assert "Noto Sans Math" in licence.splitlines()[0]
    assert "Noto Sans Symbols 2" in licence.splitlines()[0]


def test_a_fonts_folder_without_the_fallbacks_refuses_the_signs(tmp_path: Path) -> None:
    """Devices packaged with only Noto Sans and Noto Sans Lao cannot draw →: refuse it."""
    for name in ("NotoSans-Regular.ttf", "NotoSans-Bold.ttf"):
        (tmp_path / name).write_bytes((FONTS / name).read_bytes())
    for name in ("NotoSansLao-Regular.ttf", "NotoSansLao-Bold.ttf"):
        (tmp_path / name).write_bytes((FONTS / name).read_bytes())
    assert fonts.coverage(tmp_path).missing("Lối ra → ລາວ") == ["→"]
    assert fonts.coverage(FONTS).missing("Lối ra → ລາວ") == []
