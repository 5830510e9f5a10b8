"""Vietnamese typed in Telex and Lao typed on the Kedmanee layout: what the kiosk's
on-screen keyboard writes into a traveller's comment."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from signage_core import lao_keys, telex

WORDS = [
    ("nguyeenx", "nguyễn"),
    ("Nguyeenx", "Nguyễn"),
    ("Vieetj Nam", "Việt Nam"),
    ("ddaats", "đất"),
    ("DDaays", "Đấy"),
    ("tuwowng", "tương"),
    ("tuongw", "tương"),
    ("hoaf", "hòa"),  # classic placement, as the gate content is written
    ("thuyr", "thủy"),
    ("ngoaif", "ngoài"),
    ("hoanf", "hoàn"),
    ("quys khachs", "quý khách"),
    ("giaf", "già"),
    ("gif", "gì"),
    ("tieengs", "tiếng"),
    ("tieesng", "tiếng"),
    ("muwaf", "mừa"),
    ("nguwowif", "người"),
    ("Camr own, thur tucj nhanh", "Cảm ơn, thủ tục nhanh"),
    ("VIEETJ", "VIỆT"),
    ("w", "ư"),
    ("nhw", "như"),
    ("hoas", "hóa"),
    ("ddoongf", "đồng"),
    ("cuwar khaaur", "cửa khẩu"),
    ("hooj chieeus", "hộ chiếu"),
    ("nuwowcs Laof", "nước Lào"),
    ("gioongs", "giống"),
    ("quaanf", "quần"),
    ("Hueess", "Huês"),  # ee, s, and s again undoes the tone
    ("hoasz", "hoa"),
    ("asj", "ạ"),
    # a repeated key undoes and types the letter
    ("ass", "as"),
    ("asss", "ass"),
    ("aaa", "aa"),
    ("aww", "aw"),
    ("ww", "w"),
    ("ddd", "dd"),
    # a tone the word cannot carry is a letter
    ("tocf", "tocf"),
    ("tocs", "tóc"),
    ("z", "z"),
    ("s", "s"),
    ("bus 12", "bú 12"),
]


@pytest.mark.parametrize(("keys", "expected"), WORDS)
def test_telex_words(keys: str, expected: str) -> None:
    assert telex.type_keys(keys) == expected


def test_tone_keys_on_screen_set_replace_and_take_off_the_tone() -> None:
    text = telex.type_keys("Vieet")
    assert telex.set_tone(text, 5) == "Việt"
    assert telex.set_tone("Việt", 1) == "Viết"
    assert telex.set_tone("Việt", 5) == "Viêt"  # the same tone again takes it off
    assert telex.set_tone("Cảm ơn, thu", 3) == "Cảm ơn, thủ"
    assert telex.set_tone("xyz ", 1) == "xyz "  # no word: nothing to put it on
    with pytest.raises(ValueError):
        telex.set_tone("a", 9)


def test_typing_continues_after_a_letter_typed_with_its_mark() -> None:
    # the screen's ê key, then Telex keys on the same word
    assert telex.type_keys("tj", "vi" + "ê") == "việt"


keys_typed = st.text(alphabet="abcdeghiklmnopqrstuvwxyzADEOUW ,.0", max_size=30)


@given(keys_typed)
def test_telex_output_is_nfc_with_every_letter_one_code_point(keys: str) -> None:
    text = telex.type_keys(keys)
    assert unicodedata.is_normalized("NFC", text)
    assert not any(unicodedata.combining(c) for c in text)


@given(keys_typed, st.text(alphabet="abcdeghiklmnopqrstuvwxyz", min_size=1, max_size=10))
def test_backspace_removes_exactly_one_visible_character(before: str, word: str) -> None:
    text = telex.type_keys(word, telex.type_keys(before))
    after = telex.backspace(text)
    assert len(after) == len(text) - 1
    assert text.startswith(after)
    assert unicodedata.is_normalized("NFC", after)


@given(keys_typed)
def test_non_letters_are_typed_as_they_are(keys: str) -> None:
    # separators and digits are never eaten by composition
    text = telex.type_keys(keys)
    assert [c for c in text if not c.isalpha()] == [c for c in keys if not c.isalpha()]


# -- Lao ----------------------------------------------------------------------------


def test_the_kedmanee_rows_have_the_standard_keys_where_lao_typists_expect_them() -> None:
    unshifted = lao_keys.keys(False)
    assert [len(r) for r in unshifted] == [12, 13, 11, 10]
    assert "".join(unshifted[0]) == "ຢຟໂຖຸູຄຕຈຂຊໍ"
    assert "".join(unshifted[1]) == "ົໄຳພະິີຮນຍບລໜ"
    assert "".join(unshifted[2]) == "ັຫກດເ້່າສວງ"
    assert "".join(unshifted[3]) == "ຜປແອຶືທມໃຝ"
    shifted = lao_keys.keys(True)
    assert "".join(shifted[0][:4]) == "໑໒໓໔"
    assert shifted[3][0] == "₭"


LAO_WORDS = [
    (["ສ", "ະ", "ບ", "າ", "ຍ", "ດ", "ີ"], "ສະບາຍດີ"),
    (["ຂ", "ອ", "ບ", "ໃ", "ຈ"], "ຂອບໃຈ"),
    # tone typed before the vowel: stored vowel first, as Lao is
    (["ນ", "້", "ຳ"], "ນ້ຳ"),
    (["ເ", "ຂ", "້", "ົ", "າ"], "ເຂົ້າ"),
    (["ດ", "່", "ີ"], "ດີ່"),
    # a second tone replaces the first
    (["ກ", "່", "້"], "ກ້"),
    # a mark with no letter to sit on is not typed
    (["້"], ""),
    (["ກ", " ", "ິ"], "ກ "),
    (["ຫ", "ຼ", "ວ", "ງ"], "ຫຼວງ"),
]


@pytest.mark.parametrize(("keys", "expected"), LAO_WORDS)
def test_lao_key_presses(keys: list[str], expected: str) -> None:
    assert lao_keys.type_keys(keys) == expected


lao_keys_typed = st.lists(
    st.sampled_from([k for row in lao_keys.ROWS for pair in row for k in pair] + [" "]),
    max_size=30,
)


@given(lao_keys_typed)
def test_lao_output_is_nfc_and_no_mark_stands_alone(keys: list[str]) -> None:
    text = lao_keys.type_keys(keys)
    assert unicodedata.is_normalized("NFC", text)
    for i, ch in enumerate(text):
        if ch in lao_keys.COMBINING:
            j = i
            while j > 0 and text[j - 1] in lao_keys.COMBINING:
                j -= 1
            assert j > 0 and lao_keys.is_lao_letter(text[j - 1]), text
    assert sum(ch in lao_keys.TONE_MARKS for ch in text) <= sum(
        lao_keys.is_lao_letter(ch) for ch in text
    )


@given(lao_keys_typed.filter(bool))
def test_lao_backspace_removes_exactly_one_character(keys: list[str]) -> None:
    text = lao_keys.type_keys(keys)
    if text:
        after = lao_keys.backspace(text)
        assert len(after) == len(text) - 1 and text.startswith(after)
