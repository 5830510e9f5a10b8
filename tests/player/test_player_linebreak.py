"""ICU break opportunities feed the wrapper: Lao lines end between words, never inside one."""

from __future__ import annotations

from icu4py.breakers import WordBreaker

from signage_core.text import clusters, wrap
from signage_player.linebreak import break_opportunities
from tests.player.player_fakes import LAO_MIXED, LAO_PARAGRAPH


def icu_word_boundaries(text: str) -> set[int]:
    return {end for _start, end in WordBreaker(text, "lo").segments()} | {0}


def test_lao_opportunities_are_word_boundaries_from_the_dictionary() -> None:
    text = "ຍິນດີຕ້ອນຮັບສູ່ປະເທດລາວ"
    cuts = break_opportunities(text)
    assert cuts, "ICU found no break in a Lao sentence without spaces"
    assert set(cuts) <= icu_word_boundaries(text)
    assert "ລາວ" in [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]


def test_the_mixed_title_breaks_after_the_hyphen_and_before_the_year() -> None:
    assert [LAO_MIXED[i:] for i in break_opportunities(LAO_MIXED)] == ["ຫວຽດນາມ 2026", "2026"]


def test_a_wrapped_lao_paragraph_never_splits_an_icu_word() -> None:
    words = icu_word_boundaries(LAO_PARAGRAPH)
    cuts = break_opportunities(LAO_PARAGRAPH)
    for width in (12, 20, 31, 45):
        lines = wrap(LAO_PARAGRAPH, width, lambda s: len(clusters(s)), cuts)
        assert len(lines) > 1
        pos = 0
        for line in lines:
            pos = LAO_PARAGRAPH.index(line, pos)
            assert pos in words, f"line starts inside a word at width {width}: {line!r}"
            pos += len(line)


def test_indexes_are_python_indexes_even_after_characters_outside_the_bmp() -> None:
    text = "𝐀𝐁 ລາວ 𝐂 Huế"
    cuts = break_opportunities(text)
    assert [text[i:] for i in cuts] == ["ລາວ 𝐂 Huế", "𝐂 Huế", "Huế"]
    assert break_opportunities("") == []
