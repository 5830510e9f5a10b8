"""What the feedback form and its on-screen keyboard decide, without Kivy.

``Typist`` is the keyboard's state: the text typed so far, the layout (Vietnamese
with Telex composition and tone keys, Lao Kedmanee, English), shift (one key,
as on a phone), and the rows of keys to draw, each key a label and an action.
The text never grows past ``limit`` characters (500: the server's limit) and the
caret is always at its end.

``FeedbackDraft`` is the form: rating 1–5 (required), a kiosk page (optional), the
comment (optional). ``fields()`` is what goes into the record queue. Nothing here
logs, and nothing asks for who the traveller is.

``WORDS`` holds the form's words per language (vi, lo, en); other languages
use their fallback chain (the minority languages read Vietnamese).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Any

from signage_core import lao_keys, telex
from signage_core.languages import LANGUAGES, chain

MAX_COMMENT = 500
LAYOUTS = ("vi", "lo", "en")
DOTTED_CIRCLE = "\u25cc"  # what a combining mark is drawn on, on its key

WORDS: dict[str, dict[str, str]] = {
    "vi": {
        "button": "Góp ý",
        "title": "Góp ý cho chúng tôi",
        "rating": "Bạn hài lòng thế nào?",
        "r1": "Rất tệ",
        "r2": "Tệ",
        "r3": "Bình thường",
        "r4": "Tốt",
        "r5": "Rất tốt",
        "about": "Về mục (không bắt buộc)",
        "general": "Chung",
        "comment": "Ý kiến (không bắt buộc)",
        "privacy": "Xin đừng ghi tên, số điện thoại hay số hộ chiếu.",
        "send": "Gửi",
        "cancel": "Hủy",
        "need_rating": "Hãy chọn một mức đánh giá trước khi gửi.",
        "thanks": "Cảm ơn bạn đã góp ý!",
        "thanks_more": "Ý kiến của bạn sẽ được gửi đến cửa khẩu.",
        "space": "dấu cách",
        "full": "Đã đủ 500 ký tự.",
        "failed": "Không lưu được góp ý. Xin báo nhân viên cửa khẩu.",
    },
    "lo": {
        "button": "ສະແດງຄຳເຫັນ",
        "title": "ສະແດງຄຳເຫັນຕໍ່ພວກເຮົາ",
        "rating": "ທ່ານພໍໃຈພຽງໃດ?",
        "r1": "ບໍ່ດີຫຼາຍ",
        "r2": "ບໍ່ດີ",
        "r3": "ພໍໃຊ້ໄດ້",
        "r4": "ດີ",
        "r5": "ດີຫຼາຍ",
        "about": "ກ່ຽວກັບຫົວຂໍ້ (ບໍ່ບັງຄັບ)",
        "general": "ທົ່ວໄປ",
        "comment": "ຄຳເຫັນ (ບໍ່ບັງຄັບ)",
        "privacy": "ກະລຸນາຢ່າຂຽນຊື່, ເບີໂທ ຫຼື ເລກໜັງສືຜ່ານແດນ.",
        "send": "ສົ່ງ",
        "cancel": "ຍົກເລີກ",
        "need_rating": "ກະລຸນາເລືອກລະດັບຄວາມພໍໃຈກ່ອນສົ່ງ.",
        "thanks": "ຂອບໃຈສຳລັບຄຳເຫັນຂອງທ່ານ!",
        "thanks_more": "ຄຳເຫັນຂອງທ່ານຈະຖືກສົ່ງໄປຫາດ່ານ.",
        "space": "ຍະຫວ່າງ",
        "full": "ຄົບ 500 ຕົວອັກສອນແລ້ວ.",
        "failed": "ບໍ່ສາມາດບັນທຶກຄຳເຫັນໄດ້. ກະລຸນາແຈ້ງພະນັກງານດ່ານ.",
    },
    "en": {
        "button": "Feedback",
        "title": "Tell us what you think",
        "rating": "How satisfied are you?",
        "r1": "Very bad",
        "r2": "Bad",
        "r3": "OK",
        "r4": "Good",
        "r5": "Very good",
        "about": "About (optional)",
        "general": "General",
        "comment": "Comment (optional)",
        "privacy": "Please do not write your name, phone or passport number.",
        "send": "Send",
        "cancel": "Cancel",
        "need_rating": "Choose a rating before sending.",
        "thanks": "Thank you for your feedback!",
        "thanks_more": "It will reach the border gate.",
        "space": "space",
        "full": "500 characters: that is the most.",
        "failed": "Your feedback could not be saved. Please tell the gate staff.",
    },
}
# What the layout key shows: each layout by its own name.
LAYOUT_NAMES = {"vi": "Tiếng Việt", "lo": "ລາວ", "en": "ABC"}


def words(language: str) -> dict[str, str]:
    """The form's words in ``language``, else along its fallback chain, else Vietnamese."""
    codes = chain(language) if language in LANGUAGES else ()
    for code in (*codes, "vi"):
        if code in WORDS:
            return WORDS[code]
    return WORDS["vi"]


def layout_for(language: str) -> str:
    """The keyboard a traveller of ``language`` starts with."""
    if language in LAYOUTS:
        return language
    script = LANGUAGES[language].script if language in LANGUAGES else "Latn"
    return "lo" if script == "Laoo" else "vi"  # minority languages write with Vietnamese marks


@dataclass(frozen=True)
class Key:
    """One key: what it shows, what it does (``char:x``, ``tone:n``, ``shift``,
    ``layout``, ``space``, ``back``) and how many normal keys wide it is."""

    label: str
    action: str
    width: float = 1.0


def _char_key(ch: str) -> Key:
    label = DOTTED_CIRCLE + ch if ch and unicodedata.category(ch[0]) == "Mn" else ch
    return Key(label, f"char:{ch}")


VI_ROWS = ("1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm,.?")
VI_MARKS = "âăêôơưđ"
TONE_LABELS = ("á", "à", "ả", "ã", "ạ")  # sắc, huyền, hỏi, ngã, nặng


@dataclass
class Typist:
    layout: str = "vi"
    limit: int = MAX_COMMENT
    text: str = ""
    shift: bool = False
    full: bool = field(default=False, init=False)  # the last key was refused: at the limit

    def rows(self) -> list[list[Key]]:
        """The keys to draw, top row first; the last row: shift, layout, space, backspace."""
        rows: list[list[Key]] = []
        if self.layout == "lo":
            for lao_row in lao_keys.keys(self.shift):
                rows.append([_char_key(ch) for ch in lao_row])
        else:
            for latin_row in VI_ROWS:
                chars = latin_row.upper() if self.shift else latin_row
                rows.append([_char_key(ch) for ch in chars])
            if self.layout == "vi":
                marks = VI_MARKS.upper() if self.shift else VI_MARKS
                tones = [Key(lbl, f"tone:{n}") for n, lbl in enumerate(TONE_LABELS, start=1)]
                rows.append([_char_key(ch) for ch in marks] + tones)
        space = words(self.layout)["space"]
        rows.append(
            [
                Key("⇧", "shift", 1.5),
                Key(LAYOUT_NAMES[self.next_layout()], "layout", 2.0),
                Key(space, "space", 5.0),
                Key("⌫", "back", 1.5),
            ]
        )
        return rows

    def next_layout(self) -> str:
        return LAYOUTS[(LAYOUTS.index(self.layout) + 1) % len(LAYOUTS)]

    def _set(self, text: str) -> bool:
        text = unicodedata.normalize("NFC", text)
        if len(text) > self.limit:
            self.full = True
            return False
        self.full = False
        self.text = text
        return True

    def act(self, action: str) -> bool:
        """Do what a key does; False if it changed nothing (a refused key)."""
        kind, _, arg = action.partition(":")
        if kind == "char":
            changed = self._set(self._type(arg))
            self.shift = False
            return changed
        if kind == "tone":
            return self._set(telex.set_tone(self.text, int(arg)))
        if kind == "space":
            return self._set(self.text + " ")
        if kind == "back":
            self.full = False
            if not self.text:
                return False
            self.text = telex.backspace(self.text)
            return True
        if kind == "shift":
            self.shift = not self.shift
            return True
        if kind == "layout":
            self.layout = self.next_layout()
            self.shift = False
            return True
        raise ValueError(f"unknown key action {action!r}")

    def _type(self, ch: str) -> str:
        if self.layout == "lo":
            return lao_keys.press(self.text, ch)
        if self.layout == "vi":
            return telex.press(self.text, ch)
        return self.text + ch


@dataclass
class FeedbackDraft:
    """The form being filled in at the kiosk."""

    language: str
    rating: int | None = None
    page_id: str | None = None
    comment: str = ""

    def ready(self) -> bool:
        return self.rating is not None

    def fields(self) -> dict[str, Any]:
        """The record's fields for ``runtime.record("feedback", now, **fields)``."""
        if self.rating is None or not 1 <= self.rating <= 5:
            raise ValueError("a feedback needs a rating from 1 to 5")
        out: dict[str, Any] = {"rating": self.rating, "language": self.language}
        if self.page_id:
            out["page_id"] = self.page_id
        comment = unicodedata.normalize("NFC", self.comment).strip()
        if comment:
            out["comment"] = comment[:MAX_COMMENT]
        return out
