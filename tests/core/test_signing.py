"""Canonical JSON and ed25519 envelopes: a flipped byte anywhere is refused."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from signage_core.canonical import canonical_json
from signage_core.errors import CanonicalFormError, ManifestError, SignatureError
from signage_core.signing import PublicKey, SigningKey, sign_envelope, verify_envelope

KEY = SigningKey.from_bytes(bytes(range(32)))
TRUSTED = {KEY.keyid: KEY.public}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


def test_canonical_form_is_sorted_compact_utf8() -> None:
    value = {"b": 1, "a": ["Lào", "ລາວ"], "c": {"z": None, "y": True}}
    assert canonical_json(value) == '{"a":["Lào","ລາວ"],"b":1,"c":{"y":true,"z":null}}'.encode()


@given(json_values)
def test_canonical_form_round_trips_and_is_stable(value: Any) -> None:
    data = canonical_json(value)
    assert canonical_json(json.loads(data)) == data


@pytest.mark.parametrize("bad", [1.5, float("nan"), {1: "x"}, {"a": {1, 2}}, "\ud800"])
def test_values_without_a_canonical_form_are_refused(bad: Any) -> None:
    with pytest.raises(CanonicalFormError):
        canonical_json(bad)


def test_signed_envelope_verifies() -> None:
    env = sign_envelope({"x": "Cửa khẩu A Đớt"}, [KEY])
    assert verify_envelope(env, TRUSTED) == {"x": "Cửa khẩu A Đớt"}


def test_a_flipped_byte_anywhere_in_the_serialised_envelope_is_refused() -> None:
    env = sign_envelope(
        {"device_id": "adot-hall-1", "version": 7, "text": "ລາວ-ຫວຽດນາມ 2026"}, [KEY]
    )
    raw = json.dumps(env, ensure_ascii=False).encode()
    refused = 0
    for i in range(len(raw)):
        for bit in (0x01, 0x20):
            flipped = bytearray(raw)
            flipped[i] ^= bit
            try:
                doc = json.loads(flipped.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError):
                refused += 1  # the device cannot even read it
                continue
            if doc == env:
                continue  # the flip changed nothing the signature covers (e.g. whitespace case)
            try:
                verify_envelope(doc, TRUSTED)
            except (SignatureError, ManifestError, CanonicalFormError):
                refused += 1
            else:
                pytest.fail(f"accepted a manifest with byte {i} flipped by {bit:#x}: {flipped!r}")
    assert refused > len(raw)


def test_unknown_key_and_bad_signature_have_distinct_reasons() -> None:
    other = SigningKey.generate()
    env = sign_envelope({"a": 1}, [other])
    with pytest.raises(SignatureError) as e:
        verify_envelope(env, TRUSTED)
    assert e.value.reason == "unknown_key"
    env = sign_envelope({"a": 1}, [KEY])
    env["signed"]["a"] = 2
    with pytest.raises(SignatureError) as e:
        verify_envelope(env, TRUSTED)
    assert e.value.reason == "bad_signature"


def test_key_rotation_envelope_is_accepted_by_old_and_new_keys() -> None:
    new = SigningKey.generate()
    env = sign_envelope({"a": 1}, [KEY, new])
    assert verify_envelope(env, {KEY.keyid: KEY.public}) == {"a": 1}
    assert verify_envelope(env, {new.keyid: new.public}) == {"a": 1}


@settings(max_examples=50)
@given(st.binary(min_size=64, max_size=64))
def test_random_signatures_are_refused(sig: bytes) -> None:
    env = sign_envelope({"a": 1}, [KEY])
    env["signatures"][0]["sig"] = base64.b64encode(sig).decode()
    with pytest.raises(SignatureError):
        verify_envelope(env, TRUSTED)


def test_public_key_spec_round_trips_and_checks_its_id() -> None:
    spec = KEY.public.spec()
    assert PublicKey.parse(spec) == KEY.public
    wrong = "0" * 16 + spec[16:]
    with pytest.raises(ValueError, match="does not match"):
        PublicKey.parse(wrong)
    with pytest.raises(ValueError, match="base64"):
        PublicKey.parse(KEY.keyid + ":not base64!")
