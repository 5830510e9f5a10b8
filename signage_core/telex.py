"""Vietnamese typed with Telex, as people type it on their phones; pure, no UI.

``press(text, key)`` returns the text after one key press: a letter key may
change the word being typed instead of being added to it.

- ``aa`` → â, ``ee`` → ê, ``oo`` → ô, ``aw`` → ă, ``ow`` → ơ, ``uw`` → ư, ``uow`` → ươ,
  ``w`` with no vowel before it → ư, ``dd`` → đ (at the start of a word);
- tone keys ``s`` (sắc), ``f`` (huyền), ``r`` (hỏi), ``x`` (ngã), ``j`` (nặng); ``z``
  removes the tone. Tone and marks may come anywhere after the vowels
  ("tieengs" and "tieesng" both give "tiếng"); the tone moves to the right vowel as
  the word grows.
- a repeated key undoes and is typed as a letter: ``ass`` → "as", ``aaa`` → "aa",
  ``aww`` → "aw", ``ww`` → "w", ``ddd`` → "dd".
- a tone key is a letter when the word could not carry that tone (no vowel, an
  ending that is no Vietnamese final such as "as" + ``s``, or huyền/hỏi/ngã on a word
  ending in c, ch, p or t): "ass" + ``s`` is "asss", ``tocf`` is "tocf".

Tone placement follows the classic rule, as the gate content is written
("hóa đơn", "Quý khách", "túy"): a vowel with a mark (â ă ê ô ơ ư; ơ in ươ) takes
the tone; else, with a final consonant, the last vowel ("toán"); else the middle
of three vowels ("ngoài") or the first of two ("hòa", "thúy", "mía"). The u of
"qu" and the i of "gi" before another vowel belong to the consonant ("quý", "giá").

Output is NFC: every Vietnamese letter is one code point, so ``backspace``
(remove the last code point) removes one visible letter with its marks, as a
phone does. ``set_tone`` is what a tone key on the screen does for people who do
not know Telex. The keyboard widget decides where a word starts (here: the
letters at the end of the text).
"""

from __future__ import annotations

import unicodedata

TONE_KEYS = {"s": 1, "f": 2, "r": 3, "x": 4, "j": 5}
# Combining marks of the tones, in TONE_KEYS order (index 0: no tone).
TONE_MARKS = ("", "\u0301", "\u0300", "\u0309", "\u0303", "\u0323")
TONE_NAMES = ("", "sắc", "huyền", "hỏi", "ngã", "nặng")
VOWELS = frozenset("aăâeêioôơuưy")
MARKED = frozenset("ăâêôơư")
STOP_FINALS = frozenset({"c", "ch", "p", "t"})
FINALS = STOP_FINALS | {"", "m", "n", "ng", "nh"}

# Base vowel and its circumflex/breve/horn forms.
_CIRCUMFLEX = {"a": "â", "ă": "â", "e": "ê", "o": "ô", "ơ": "ô"}
_PLAIN = {"â": "a", "ă": "a", "ê": "e", "ô": "o", "ơ": "o", "ư": "u"}
_HORN = {"a": "ă", "â": "ă", "o": "ơ", "ô": "ơ", "u": "ư"}


def _split_tone(ch: str) -> tuple[str, int]:
    """A (lower- or upper-case) letter without its tone, and the tone."""
    decomposed = unicodedata.normalize("NFD", ch)
    tone = 0
    kept = []
    for c in decomposed:
        if c in TONE_MARKS[1:]:
            tone = TONE_MARKS.index(c)
        else:
            kept.append(c)
    return unicodedata.normalize("NFC", "".join(kept)), tone


def _with_case(letter: str, like: str) -> str:
    return letter.upper() if like.isupper() else letter


class _Word:
    """A word as plain letters (case kept, marks kept, no tone) and one tone."""

    def __init__(self, word: str) -> None:
        self.letters: list[str] = []
        self.tone = 0
        for ch in word:
            base, tone = _split_tone(ch)
            self.letters.append(base)
            self.tone = tone or self.tone

    def lower(self) -> list[str]:
        return [c.lower() for c in self.letters]

    def nucleus(self) -> tuple[int, int]:
        """``(start, end)`` of the vowel group that carries the tone; (n, n) if none."""
        low = self.lower()
        end = len(low)
        while end > 0 and low[end - 1] not in VOWELS:
            end -= 1
        start = end
        while start > 0 and low[start - 1] in VOWELS:
            start -= 1
        if end - start > 1 and start > 0:
            onset_glide = (low[start - 1] == "q" and low[start] == "u") or (
                low[start - 1] == "g" and low[start] == "i"
            )
            if onset_glide:
                start += 1
        if start == end:
            return len(low), len(low)
        return start, end

    def final(self) -> str:
        return "".join(self.lower()[self.nucleus()[1] :])

    def tone_position(self) -> int | None:
        start, end = self.nucleus()
        if start == end:
            return None
        low = self.lower()
        vowels = low[start:end]
        if "ơ" in vowels:
            return start + vowels.index("ơ")
        marked = [i for i, v in enumerate(vowels) if v in MARKED]
        if marked:
            return start + marked[-1]
        if end < len(low):
            return end - 1
        if len(vowels) >= 3:
            return start + 1
        return start

    def text(self) -> str:
        out = list(self.letters)
        where = self.tone_position()
        if self.tone and where is not None:
            out[where] = unicodedata.normalize("NFC", out[where] + TONE_MARKS[self.tone])
        return "".join(out)


def _split_word(text: str) -> tuple[str, str]:
    """The text before the word being typed, and that word (letters at the end)."""
    i = len(text)
    while i > 0 and text[i - 1].isalpha():
        i -= 1
    return text[:i], text[i:]


def _tone(word: _Word, key: str, tone: int) -> str | None:
    start, end = word.nucleus()
    final = word.final()
    if start == end or final not in FINALS:
        return None
    if tone in (2, 3, 4) and final in STOP_FINALS:
        return None
    if word.tone == tone:  # the same tone key again: undo, and type the letter
        word.tone = 0
        word.letters.append(key)
        return word.text()
    word.tone = tone
    return word.text()


def _double(word: _Word, key: str) -> str | None:
    """aa, ee, oo: the circumflex on the vowel group, or undo it."""
    start, end = word.nucleus()
    low = word.lower()
    k = key.lower()
    for i in range(end - 1, start - 1, -1):
        if low[i] == _CIRCUMFLEX[k]:  # already there: undo
            word.letters[i] = _with_case(k, word.letters[i])
            word.letters.append(key)
            return word.text()
    for i in range(end - 1, start - 1, -1):
        if low[i] in _CIRCUMFLEX and _CIRCUMFLEX[low[i]] == _CIRCUMFLEX[k]:
            word.letters[i] = _with_case(_CIRCUMFLEX[low[i]], word.letters[i])
            return word.text()
    return None


def _horn(word: _Word, key: str) -> str | None:
    """w: ă, ơ, ư, ươ; ư on its own; or undo."""
    start, end = word.nucleus()
    if start == end:
        word.letters.append(_with_case("ư", key))
        return word.text()
    low = word.lower()
    if low == ["ư"]:  # "ww": the lone ư becomes the letter w
        word.letters[0] = key
        return word.text()
    for i in range(start, end - 1):
        pair = low[i] + low[i + 1]
        if pair == "ươ":
            word.letters[i] = _with_case("u", word.letters[i])
            word.letters[i + 1] = _with_case("o", word.letters[i + 1])
            word.letters.append(key)
            return word.text()
        if pair in ("uo", "ưo", "uơ", "uô", "ưô"):
            word.letters[i] = _with_case("ư", word.letters[i])
            word.letters[i + 1] = _with_case("ơ", word.letters[i + 1])
            return word.text()
    for wanted in ("aâ", "oô", "u"):
        for i in range(end - 1, start - 1, -1):
            if low[i] in wanted:
                word.letters[i] = _with_case(_HORN[low[i]], word.letters[i])
                return word.text()
    for i in range(end - 1, start - 1, -1):
        if low[i] in "ăơư":  # already there: undo
            word.letters[i] = _with_case(_PLAIN[low[i]], word.letters[i])
            word.letters.append(key)
            return word.text()
    return None


def _stroke(word: _Word, key: str) -> str | None:
    """dd → đ at the start of a word, ddd → dd."""
    low = word.lower()
    if low == ["d"]:
        word.letters[0] = _with_case("đ", word.letters[0])
        return word.text()
    if low == ["đ"]:
        word.letters[0] = _with_case("d", word.letters[0])
        word.letters.append(key)
        return word.text()
    return None


def press(text: str, key: str) -> str:
    """The text after typing ``key`` (one character) in Telex; NFC."""
    text = unicodedata.normalize("NFC", text)
    if len(key) != 1 or not ("a" <= key.lower() <= "z"):
        return unicodedata.normalize("NFC", text + key)
    head, tail = _split_word(text)
    word = _Word(tail)
    low = key.lower()
    result: str | None = None
    if low in TONE_KEYS:
        result = _tone(word, key, TONE_KEYS[low])
    elif low == "z":
        if word.tone:
            word.tone = 0
            result = word.text()
    elif low in "aeo":
        result = _double(word, key)
    elif low == "w":
        result = _horn(word, key)
    elif low == "d":
        result = _stroke(word, key)
    if result is None:
        return unicodedata.normalize("NFC", text + key)
    return head + unicodedata.normalize("NFC", result)


def type_keys(keys: str, text: str = "") -> str:
    """The text after typing every key of ``keys`` in turn."""
    for key in keys:
        text = press(text, key)
    return text


def set_tone(text: str, tone: int) -> str:
    """A tone key on the screen: put tone 1..5 (0: none) on the word being typed, or
    take it off if it has it already. Without a vowel to carry it, nothing changes."""
    if not 0 <= tone < len(TONE_MARKS):
        raise ValueError(f"tone must be 0..5, not {tone}")
    text = unicodedata.normalize("NFC", text)
    head, tail = _split_word(text)
    word = _Word(tail)
    if word.tone_position() is None:
        return text
    word.tone = 0 if word.tone == tone else tone
    return head + unicodedata.normalize("NFC", word.text())


def backspace(text: str) -> str:
    """The text without its last visible character (one code point of the NFC text)."""
    return unicodedata.normalize("NFC", text)[:-1]
