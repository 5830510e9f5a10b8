"""The envelope bytes a publish stores are exactly the canonical JSON of the envelope."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from signage_core.canonical import canonical_json
from signage_core.errors import CanonicalFormError
from signage_core.signing import SigningKey, sign_envelope, signed_envelope_bytes, verify_envelope

from .manifests import signed_manifest

KEYS = [SigningKey.generate(), SigningKey.generate()]

leaves = st.none() | st.booleans() | st.integers() | st.text()
documents = st.recursive(
    leaves,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


def test_a_manifest_envelope_is_byte_for_byte_the_canonical_one() -> None:
    signed = signed_manifest(issued_at=datetime(2026, 11, 26, 5, 0, tzinfo=UTC))
    signed["note"] = "Cửa khẩu A Đớt – ດ່ານສາກົນ"
    for keys in (KEYS[:1], KEYS):
        raw = signed_envelope_bytes(signed, keys)
        assert raw == canonical_json(sign_envelope(signed, keys))


@given(st.dictionaries(st.text(), documents, max_size=6))
def test_any_signed_document_gives_the_canonical_bytes(signed: dict[str, Any]) -> None:
    raw = signed_envelope_bytes(signed, KEYS[:1])
    assert raw == canonical_json(sign_envelope(signed, KEYS[:1]))
    import json

    assert verify_envelope(json.loads(raw), {KEYS[0].keyid: KEYS[0].public}) == signed


@pytest.mark.parametrize(
    "bad",
    [{"a": 1.5}, {"a": {"b": [1, {"c": 0.1}]}}, {"a": {1: "x"}}, {"a": {"b": {2: 3}}}, {"a": b"x"}],
)
def test_what_has_no_canonical_form_is_still_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(CanonicalFormError):
        signed_envelope_bytes(bad, KEYS[:1])
