"""Script runs and line wrapping: the pure decisions behind every line of text on a screen."""

from __future__ import annotations

import itertools
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from signage_core.text import (
    LAO_COMBINING,
    Run,
    Script,
    clusters,
    font_runs,
    script_runs,
    wrap,
)

# -- script runs ------------------------------------------------------------------


def test_lao_with_hyphen_and_digits_gets_latin_runs_for_what_the_lao_font_lacks() -> None:
    assert script_runs("ລາວ-ຫວຽດນາມ 2026") == [
        Run("ລາວ", "Laoo"),
        Run("-", "Latn"),
        Run("ຫວຽດນາມ ", "Laoo"),
        Run("2026", "Latn"),
    ]


def test_spaces_join_the_run_before_them_and_lead_into_the_first_run() -> None:
    assert script_runs("  ສະບາຍດີ Xin chào ລາວ") == [
        Run("  ສະບາຍດີ ", "Laoo"),
        Run("Xin chào ", "Latn"),
        Run("ລາວ", "Laoo"),
    ]


def test_vietnamese_is_one_latin_run() -> None:
    assert script_runs("Cửa khẩu A Đớt") == [Run("Cửa khẩu A Đớt", "Latn")]


def test_lao_digits_and_marks_stay_lao_and_only_shared_characters_are_neutral() -> None:
    assert script_runs("ປີ ໒໐໒໖") == [Run("ປີ ໒໐໒໖", "Laoo")]
    assert script_runs("   ") == [Run("   ", "Latn")]
    assert script_runs("") == []
    # With a font pair that shares nothing, even the space is a run of its own.
    assert script_runs("ລາວ ລາວ", shared=frozenset()) == [
        Run("ລາວ", "Laoo"),
        Run(" ", "Latn"),
        Run("ລາວ", "Laoo"),
    ]


@given(st.text(alphabet=st.sampled_from("ກຂຄາິີ່້ aZ1-.\u00a0\n"), max_size=40))
def test_runs_join_back_to_the_text_and_alternate_scripts(text: str) -> None:
    runs = script_runs(text)
    assert "".join(r.text for r in runs) == text
    assert all(r.text for r in runs)
    assert all(a.script != b.script for a, b in itertools.pairwise(runs))
    for r in runs:
        for ch in r.text:
            if "\u0e80" <= ch <= "\u0eff":
                assert r.script == "Laoo"
            elif ch.isalnum() or ch in "-.":
                assert r.script == "Latn"


# -- clusters ---------------------------------------------------------------------


def test_clusters_keep_lao_marks_with_their_consonant_and_preposed_vowels_with_the_next() -> None:
    assert clusters("ເກື້ອ") == ["ເກື້", "ອ"]
    assert clusters("ນ້ຳ") == ["ນ້ຳ"]
    assert clusters("Việt") == ["V", "i", "ệ", "t"]
    nfd = unicodedata.normalize("NFD", "ệ")
    assert clusters(nfd) == [nfd]


# -- wrap -------------------------------------------------------------------------


def spaces(text: str) -> list[int]:
    """Break opportunities after each run of spaces (what ICU gives for spaced scripts)."""
    return [i for i in range(1, len(text)) if text[i - 1] == " " and text[i] != " "]


def test_greedy_fill_breaks_at_spaces_and_drops_the_space_at_the_break() -> None:
    text = "Xin chào quý khách đến với Huế"
    assert wrap(text, 12, len, spaces(text)) == ["Xin chào quý", "khách đến", "với Huế"]


def test_hard_newlines_always_break_and_empty_paragraphs_stay() -> None:
    text = "Giờ mở cửa\n\n07:00 – 17:00\r\nThứ hai"
    assert wrap(text, 100, len, spaces(text)) == ["Giờ mở cửa", "", "07:00 – 17:00", "Thứ hai"]


def test_a_word_wider_than_the_line_is_split_between_clusters_only() -> None:
    word = "ເກື້ອກູນນ້ຳໃຈ"  # no break opportunity inside
    lines = wrap(word, 3, lambda s: len(clusters(s)), [])
    assert "".join(lines) == word
    assert all(len(clusters(line)) <= 3 for line in lines)
    for line in lines:
        assert ord(line[0]) not in LAO_COMBINING


def test_lao_breaks_only_at_the_given_word_boundaries() -> None:
    # ICU's Lao dictionary segments: ຍິນດີ|ຕ້ອນຮັບ|ສູ່|ປະເທດ|ລາວ
    text = "ຍິນດີຕ້ອນຮັບສູ່ປະເທດລາວ"
    words = ["ຍິນດີ", "ຕ້ອນຮັບ", "ສູ່", "ປະເທດ", "ລາວ"]
    edges = [sum(len(w) for w in words[:k]) for k in range(1, len(words))]
    lines = wrap(text, 15, len, edges)  # 15 code points: the first three words
    assert lines == ["ຍິນດີຕ້ອນຮັບສູ່", "ປະເທດລາວ"]


def test_greedy_takes_the_next_word_when_only_its_trailing_space_overflows() -> None:
    text = "abc def ghi"
    assert wrap(text, 7, len, spaces(text)) == ["abc def", "ghi"]


# -- wrap properties --------------------------------------------------------------

# Letters, Lao consonants, marks (Lao vowel and tone marks, a Vietnamese combining acute),
# a Lao preposed vowel, spaces and newlines.
ALPHABET = st.sampled_from([*"abcXYZ  ກຂຄງ", *"\u0eb5\u0ec8\u0ec9\u0301", "\u0ec0", "\n"])
WIDTHS = {" ": 1.0, "\n": 0.0}


def width(s: str) -> float:
    """A measure where marks take no room and letters have different widths."""
    total = 0.0
    for ch in s:
        if unicodedata.category(ch).startswith("M"):
            continue
        total += WIDTHS.get(ch, 1.0 + (ord(ch) % 3) / 2)
    return total


@st.composite
def wrap_cases(draw: st.DrawFn) -> tuple[str, float, list[int]]:
    text = draw(st.text(alphabet=ALPHABET, max_size=60))
    max_width = draw(st.floats(min_value=0, max_value=30))
    indexes = list(range(1, len(text))) if len(text) > 1 else []
    opportunities = draw(st.lists(st.sampled_from(indexes), unique=True)) if indexes else []
    return text, max_width, opportunities


def positions(text: str, lines: list[str]) -> list[int]:
    """Where each non-empty line starts in ``text``; fails if lines are not in order with
    only whitespace between them."""
    pos = 0
    starts = []
    for line in filter(None, lines):
        while not text.startswith(line, pos):
            assert text[pos].isspace(), (text, lines, pos)
            pos += 1
        starts.append(pos)
        pos += len(line)
    assert text[pos:].strip() == ""
    return starts


@settings(max_examples=400)
@given(wrap_cases())
def test_wrap_gives_back_the_text_in_order_modulo_whitespace_at_breaks(
    case: tuple[str, float, list[int]],
) -> None:
    text, max_width, opportunities = case
    lines = wrap(text, max_width, width, opportunities)
    positions(text, lines)
    assert "".join("".join(lines).split()) == "".join(text.split())
    assert all(line == line.strip() for line in lines)
    # One line at least per paragraph; with room enough, exactly the paragraphs.
    assert len(lines) >= text.count("\n") + 1
    assert wrap(text, 1e9, width, opportunities) == [p.strip() for p in text.split("\n")]


@settings(max_examples=400)
@given(wrap_cases())
def test_no_line_is_wider_than_the_width_unless_it_is_one_cluster(
    case: tuple[str, float, list[int]],
) -> None:
    text, max_width, opportunities = case
    for line in wrap(text, max_width, width, opportunities):
        assert width(line) <= max_width or len(clusters(line)) == 1, (line, max_width)


@settings(max_examples=400)
@given(wrap_cases())
def test_breaks_fall_on_opportunities_or_newlines_when_every_word_fits(
    case: tuple[str, float, list[int]],
) -> None:
    text, max_width, opportunities = case
    edges = sorted({0, len(text), *opportunities})
    words = [text[a:b].strip() for a, b in itertools.pairwise(edges)]
    pieces = [p.strip() for w in words for p in w.split("\n")]
    if any(width(p) > max_width for p in pieces):
        return  # a word wider than the line may be split: covered above
    lines = wrap(text, max_width, width, opportunities)
    allowed = set(opportunities)
    for start in positions(text, lines)[1:]:
        gap = start  # the break may sit anywhere in the whitespace before the line
        while gap > 0 and text[gap - 1] == " ":
            gap -= 1
        at_opportunity = any(i in allowed for i in range(gap, start + 1))
        after_newline = gap > 0 and text[gap - 1] == "\n"
        assert at_opportunity or after_newline, (text, lines)


@given(wrap_cases())
def test_never_breaks_between_a_consonant_and_its_mark(case: tuple[str, float, list[int]]) -> None:
    text, max_width, opportunities = case
    lines = wrap(text, max_width, width, opportunities)
    for start, line in zip(positions(text, lines), filter(None, lines), strict=True):
        if start > 0 and not text[start - 1].isspace():
            first = line[0]
            assert not unicodedata.category(first).startswith("M") or start in opportunities
            assert not ("\u0ec0" <= text[start - 1] <= "\u0ec4") or start in opportunities


_CMAP_CHARS = "aáb ờ→≈✓\u0301ລາ\u0ec8-2"


@given(
    st.text(alphabet=_CMAP_CHARS + "\ue000\n", max_size=30),
    st.sets(st.sampled_from(_CMAP_CHARS)),
    st.sets(st.sampled_from(_CMAP_CHARS)),
    st.lists(st.sets(st.sampled_from(_CMAP_CHARS)), max_size=3),
)
@settings(max_examples=300)
def test_font_runs_give_back_the_text_and_use_a_fallback_only_for_its_glyphs(
    text: str, lao: set[str], latin: set[str], fallbacks: list[set[str]]
) -> None:
    own: dict[Script, set[int]] = {"Laoo": {ord(c) for c in lao}, "Latn": {ord(c) for c in latin}}
    cmaps = [{ord(c) for c in f} for f in fallbacks]
    runs = font_runs(text, own, cmaps)
    assert "".join(r.text for r in runs) == text
    assert all(r.text for r in runs)
    for run in runs:
        if run.fallback is not None:
            # Only characters the script's font lacks, each drawn by the chosen fallback.
            assert all(ord(c) in cmaps[run.fallback] for c in run.text), run
            assert all(ord(c) not in own[run.script] for c in run.text), run
        else:
            # Kept in the script's font: it has the glyph, or no fallback has it either.
            for c in run.text:
                assert (
                    c in "\n" or ord(c) in own[run.script] or not any(ord(c) in f for f in cmaps)
                ), run
    # Joined back per script, the runs are exactly the script runs.
    merged = [
        (k, "".join(r.text for r in g)) for k, g in itertools.groupby(runs, lambda r: r.script)
    ]
    assert merged == [(r.script, r.text) for r in script_runs(text)]
