"""The feedback form's decisions without a display: keys, typing, the 500-character
limit, the words in each language and the record's fields."""

from __future__ import annotations

import unicodedata

import pytest

from kiosk_app.feedback_model import (
    MAX_COMMENT,
    WORDS,
    FeedbackDraft,
    Typist,
    layout_for,
    words,
)
from signage_core import lao_keys
from tests.kiosk.feedback_kit import lao_actions, latin_actions


def type_all(typist: Typist, actions: list[str]) -> str:
    for action in actions:
        typist.act(action)
    return typist.text


def test_vietnamese_with_telex_shift_and_a_tone_key() -> None:
    typist = Typist("vi")
    assert type_all(typist, latin_actions("Camr own, thu{3} tucj nhanh")) == (
        "Cảm ơn, thủ tục nhanh"
    )
    assert not typist.shift  # shift is for one key


def test_the_mark_keys_serve_people_who_do_not_know_telex() -> None:
    typist = Typist("vi")
    actions = ["char:t", "char:ư", "char:ơ", "char:n", "char:g", "tone:2"]
    assert type_all(typist, actions) == "tường"
    typist.act("shift")
    typist.act("char:Đ")
    assert typist.text == "tườngĐ"


def test_lao_with_shift_for_the_semivowel() -> None:
    text = "ເຈົ້າໜ້າທີ່ດີຫຼາຍ"
    assert type_all(Typist("lo"), lao_actions(text)) == text


def test_english_types_letters_as_they_are() -> None:
    assert type_all(Typist("en"), latin_actions("Ass ddd")) == "Ass ddd"


def test_backspace_removes_one_letter_with_its_marks() -> None:
    typist = Typist("vi", text="Việt")
    assert typist.act("back") and typist.text == "Việ"
    assert typist.act("back") and typist.text == "Vi"
    empty = Typist("vi")
    assert not empty.act("back") and empty.text == ""


def test_the_comment_stops_at_500_characters_and_says_so() -> None:
    typist = Typist("vi", text="a" * (MAX_COMMENT - 1))
    assert typist.act("char:b") and len(typist.text) == MAX_COMMENT
    assert not typist.act("char:c") and typist.full
    assert not typist.act("space") and len(typist.text) == MAX_COMMENT
    assert typist.act("back") and not typist.full


def test_every_layout_has_shift_layout_space_and_backspace_and_cycles() -> None:
    typist = Typist("vi")
    seen = []
    for _ in range(3):
        rows = typist.rows()
        assert [k.action for k in rows[-1]] == ["shift", "layout", "space", "back"]
        seen.append(typist.layout)
        typist.act("layout")
    assert seen == ["vi", "lo", "en"] and typist.layout == "vi"


def test_lao_keys_are_the_kedmanee_rows_with_marks_on_a_dotted_circle() -> None:
    for shifted in (False, True):
        typist = Typist("lo", shift=shifted)
        rows = typist.rows()[:-1]
        assert [[k.action[5:] for k in row] for row in rows] == lao_keys.keys(shifted)
        for row in rows:
            for key in row:
                ch = key.action[5:]
                if unicodedata.category(ch) == "Mn":
                    assert key.label == "\u25cc" + ch


def test_vietnamese_has_tone_keys_and_english_has_none() -> None:
    vi = [k.action for row in Typist("vi").rows() for k in row]
    en = [k.action for row in Typist("en").rows() for k in row]
    assert [a for a in vi if a.startswith("tone:")] == [f"tone:{n}" for n in range(1, 6)]
    assert not [a for a in en if a.startswith("tone:")]


@pytest.mark.parametrize(
    ("language", "layout", "button"),
    [
        ("vi", "vi", "Góp ý"),
        ("lo", "lo", "ສະແດງຄຳເຫັນ"),
        ("en", "en", "Feedback"),
        ("tth", "vi", "Góp ý"),  # Tà Ôi reads Vietnamese, writes with its marks
        ("xx", "vi", "Góp ý"),
    ],
)
def test_language_picks_words_and_keyboard(language: str, layout: str, button: str) -> None:
    assert words(language)["button"] == button
    assert layout_for(language) == layout


def test_every_language_has_every_word() -> None:
    keys = set(WORDS["vi"])
    for language, table in WORDS.items():
        assert set(table) == keys, language
        assert all(v.strip() for v in table.values())


def test_the_record_has_what_the_traveller_chose_and_nothing_more() -> None:
    draft = FeedbackDraft("lo")
    assert not draft.ready()
    with pytest.raises(ValueError):
        draft.fields()
    draft.rating = 4
    assert draft.fields() == {"rating": 4, "language": "lo"}
    draft.comment = "   "
    assert draft.fields() == {"rating": 4, "language": "lo"}
    draft.page_id = "adot-kiosk-customs"
    draft.comment = " Vie\u0323\u0302t  "  # combining marks: stored NFC
    assert draft.fields() == {
        "rating": 4,
        "language": "lo",
        "page_id": "adot-kiosk-customs",
        "comment": "Việt",
    }
