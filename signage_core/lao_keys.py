"""The standard Lao (Kedmanee) keyboard as data, and what a key press does to a text.

``ROWS`` holds the four rows of keys, each key as ``(unshifted, shifted)``, in the
positions of a US keyboard (digits row, Q row, A row, Z row). The layout is the
one X11 ships as ``la`` ("Lao keyboard standard", as on Windows), with the key of
"i" typing ຮ and shift-i ຣ (the common letter unshifted, as Windows and
``la(stea)`` have it), and without the tilde key (X11 puts an invisible
zero-width joiner there). A few keys type two characters (none in this table).

``press(text, key)``: consonants, spacing vowels and signs are added as they
are. A vowel above or below (ັ ິ ີ ຶ ື ຸ ູ ົ ໍ), the semivowel ຼ, a tone mark
(່ ້ ໊ ໋) and ໌ combine with the consonant before them: they are kept in the
order Lao is stored (semivowel, vowel, tone, ໌) whatever order they are typed
in, a second tone replaces the first, and one with no Lao letter to sit on is
not typed (it would show as a dotted circle). ``backspace`` removes the last
code point: the tone mark first, then the vowel, then the consonant, as Lao
phone keyboards do. Pure: the keyboard widget decides what a key looks like.
"""

from __future__ import annotations

import unicodedata

Key = tuple[str, str]  # (unshifted, shifted)

ROWS: tuple[tuple[Key, ...], ...] = (
    (
        ("ຢ", "໑"),
        ("ຟ", "໒"),
        ("ໂ", "໓"),
        ("ຖ", "໔"),
        ("ຸ", "໌"),
        ("ູ", "ຼ"),
        ("ຄ", "໕"),
        ("ຕ", "໖"),
        ("ຈ", "໗"),
        ("ຂ", "໘"),
        ("ຊ", "໙"),
        ("ໍ", "ໍ"),
    ),
    (
        ("ົ", "ົ"),
        ("ໄ", "໐"),
        ("ຳ", "ຳ"),
        ("ພ", "_"),
        ("ະ", "+"),
        ("ິ", "ິ"),
        ("ີ", "ີ"),
        ("ຮ", "ຣ"),
        ("ນ", "ນ"),
        ("ຍ", "ຽ"),
        ("ບ", "-"),
        ("ລ", "}"),
        ("ໜ", "ໝ"),
    ),
    (
        ("ັ", "ັ"),
        ("ຫ", ";"),
        ("ກ", "."),
        ("ດ", ","),
        ("ເ", ":"),
        ("້", "໊"),
        ("່", "໋"),
        ("າ", "!"),
        ("ສ", "?"),
        ("ວ", "%"),
        ("ງ", "="),
    ),
    (
        ("ຜ", "₭"),
        ("ປ", "("),
        ("ແ", "ຯ"),
        ("ອ", "ອ"),
        ("ຶ", "ຶ"),
        ("ື", "ື"),
        ("ທ", "ໆ"),
        ("ມ", "`"),
        ("ໃ", "$"),
        ("ຝ", ")"),
    ),
)

SEMIVOWEL = frozenset("\u0ebc")
VOWEL_MARKS = frozenset("\u0eb1\u0eb4\u0eb5\u0eb6\u0eb7\u0eb8\u0eb9\u0ebb\u0ecd")
TONE_MARKS = frozenset("\u0ec8\u0ec9\u0eca\u0ecb")
CANCEL = frozenset("\u0ecc")
COMBINING = SEMIVOWEL | VOWEL_MARKS | TONE_MARKS | CANCEL


def _order(mark: str) -> int:
    if mark in SEMIVOWEL:
        return 0
    if mark in VOWEL_MARKS:
        return 1
    if mark in TONE_MARKS:
        return 2
    return 3


def is_lao_letter(ch: str) -> bool:
    """A Lao consonant or spacing vowel that marks can sit on."""
    return "\u0e81" <= ch <= "\u0eff" and unicodedata.category(ch) == "Lo"


def keys(shifted: bool) -> list[list[str]]:
    """The characters the keys type, row by row."""
    return [[k[1] if shifted else k[0] for k in row] for row in ROWS]


def press(text: str, key: str) -> str:
    """The text after typing ``key`` (what one Lao key types); NFC."""
    if not key or key[0] not in COMBINING:
        return unicodedata.normalize("NFC", text + key)
    i = len(text)
    while i > 0 and text[i - 1] in COMBINING:
        i -= 1
    if i == 0 or not is_lao_letter(text[i - 1]):
        return text  # nothing to sit on
    marks = [m for m in text[i:] if not (m in TONE_MARKS and key[0] in TONE_MARKS)]
    marks = [m for m in marks if m != key[0]]
    marks.extend(key)
    marks.sort(key=_order)  # stable: typed order within a class
    return unicodedata.normalize("NFC", text[:i] + "".join(marks))


def type_keys(keys_typed: list[str], text: str = "") -> str:
    for key in keys_typed:
        text = press(text, key)
    return text


def backspace(text: str) -> str:
    """The text without its last code point."""
    return unicodedata.normalize("NFC", text)[:-1]
