"""The language registry and fallback chains.

Languages are data: a site names the ones it shows and the ones a publish
requires (default vi + lo). Each language has a fallback chain used when an
item lacks that variant. Minority languages of the A Lưới highlands fall back
to Vietnamese, which their speakers read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from .errors import LanguageError

T = TypeVar("T")


@dataclass(frozen=True)
class Language:
    code: str
    name: str  # the name in the language itself
    name_vi: str
    script: str  # "Latn" or "Laoo"
    fallback: tuple[str, ...]


LANGUAGES: dict[str, Language] = {
    lang.code: lang
    for lang in (
        Language("vi", "Tiếng Việt", "Tiếng Việt", "Latn", ("en",)),
        Language("lo", "ພາສາລາວ", "Tiếng Lào", "Laoo", ("en", "vi")),
        Language("en", "English", "Tiếng Anh", "Latn", ("vi",)),
        Language("tth", "Tà Ôi", "Tiếng Tà Ôi", "Latn", ("vi",)),
        Language("pac", "Pa Kô", "Tiếng Pa Kô", "Latn", ("vi",)),
        Language("ktv", "Cơ Tu", "Tiếng Cơ Tu", "Latn", ("vi",)),
    )
}
DEFAULT_REQUIRED = ("vi", "lo")


def get(code: str) -> Language:
    try:
        return LANGUAGES[code]
    except KeyError:
        known = ", ".join(LANGUAGES)
        raise LanguageError(f"unknown language {code!r}; known languages: {known}") from None


def chain(code: str) -> tuple[str, ...]:
    """``code`` followed by its fallbacks."""
    return (code, *get(code).fallback)


def pick(variants: Mapping[str, T], code: str) -> tuple[str, T] | None:
    """The variant to show for ``code``: its own, else the first fallback present."""
    for c in chain(code):
        if c in variants:
            return c, variants[c]
    return None


def missing(variants: Mapping[str, Any], required: tuple[str, ...]) -> list[str]:
    return [c for c in required if c not in variants]
