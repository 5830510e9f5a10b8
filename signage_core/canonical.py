"""Canonical JSON: the exact bytes that are signed and verified.

Sorted keys, no insignificant whitespace, UTF-8 (not ASCII escapes). Only
strings, integers, booleans, null, lists and objects with string keys are
allowed: floats have no single textual form, so a signed document uses integer
units (seconds, milliseconds, bytes) instead.
"""

from __future__ import annotations

import json
from typing import Any

from .errors import CanonicalFormError

_PLAIN = (str, int, bool, type(None))  # the common leaves, checked by exact type first


def _check(value: Any, path: str) -> None:
    if type(value) in _PLAIN:
        return
    if isinstance(value, dict):  # the common branch, before the rare ones
        for k, v in value.items():
            if type(v) in _PLAIN and type(k) is str:
                continue
            if not isinstance(k, str):
                raise CanonicalFormError(f"{path}: object keys must be strings, got {k!r}")
            _check(v, f"{path}.{k}")
        return
    if value is None or isinstance(value, bool | str):
        return
    if isinstance(value, int):
        return
    if isinstance(value, float):
        raise CanonicalFormError(f"{path}: floats are not allowed in signed documents ({value!r})")
    if isinstance(value, list | tuple):
        for i, v in enumerate(value):
            _check(v, f"{path}[{i}]")
        return
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                raise CanonicalFormError(f"{path}: object keys must be strings, got {k!r}")
            _check(v, f"{path}.{k}")
        return
    raise CanonicalFormError(f"{path}: {type(value).__name__} has no canonical JSON form")


def canonical_json(value: Any) -> bytes:
    """The canonical UTF-8 bytes of ``value``; ``CanonicalFormError`` if it has none."""
    _check(value, "$")
    text = json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as e:
        raise CanonicalFormError(f"text that is not valid Unicode (lone surrogate): {e}") from e
