"""Ed25519 keys, and signing and verifying envelopes.

An envelope is ``{"signed": {...}, "signatures": [{"keyid": ..., "sig": ...}]}``;
each signature is ed25519 over ``canonical_json(signed)``, base64-encoded. A key
id is the first 16 hex digits of the sha256 of the raw 32-byte public key.
Trusted keys are written ``"<keyid>:<base64 public key>"`` in device configs.

Where keys are stored is left to the caller (the server keeps its private key
in its data folder; devices get public keys in their config).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from .canonical import canonical_json
from .errors import CanonicalFormError, ManifestError, SignatureError, TrustError

T = TypeVar("T")


def key_id(public_raw: bytes) -> str:
    return hashlib.sha256(public_raw).hexdigest()[:16]


@dataclass(frozen=True)
class PublicKey:
    keyid: str
    raw: bytes

    @classmethod
    def parse(cls, spec: str) -> PublicKey:
        """Read ``"<keyid>:<base64>"``; the key id must match the key."""
        keyid, sep, b64 = spec.strip().partition(":")
        if not sep:
            raise ValueError(f"trusted key {spec!r} is not written as '<keyid>:<base64 key>'")
        try:
            raw = base64.b64decode(b64, validate=True)
        except binascii.Error as e:
            raise ValueError(f"trusted key {keyid!r}: the key is not valid base64") from e
        if len(raw) != 32:
            raise ValueError(f"trusted key {keyid!r}: an ed25519 public key has 32 bytes")
        if key_id(raw) != keyid:
            raise ValueError(f"trusted key {keyid!r}: the key id does not match the key")
        return cls(keyid, raw)

    def spec(self) -> str:
        return f"{self.keyid}:{base64.b64encode(self.raw).decode('ascii')}"

    def verify(self, signature: bytes, data: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.raw).verify(signature, data)
        except InvalidSignature:
            return False
        return True


class SigningKey:
    """A private ed25519 key that signs envelopes."""

    def __init__(self, private: Ed25519PrivateKey) -> None:
        self._private = private
        raw = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.public = PublicKey(key_id(raw), raw)

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_bytes(cls, seed: bytes) -> SigningKey:
        return cls(Ed25519PrivateKey.from_private_bytes(seed))

    def to_bytes(self) -> bytes:
        return self._private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())

    @property
    def keyid(self) -> str:
        return self.public.keyid

    def sign(self, data: bytes) -> bytes:
        return self._private.sign(data)


def sign_envelope(signed: Mapping[str, Any], keys: list[SigningKey]) -> dict[str, Any]:
    """Wrap ``signed`` in an envelope signed by every key (two during a key rotation)."""
    data = canonical_json(signed)
    return {
        "signed": dict(signed),
        "signatures": [
            {"keyid": k.keyid, "sig": base64.b64encode(k.sign(data)).decode("ascii")} for k in keys
        ],
    }


def signed_envelope_bytes(signed: Mapping[str, Any], keys: list[SigningKey]) -> bytes:
    """``canonical_json(sign_envelope(signed, keys))``, with ``signed`` checked and encoded
    once instead of twice (a publish signs one manifest per screen)."""
    data = canonical_json(signed)
    signatures = [
        {"keyid": k.keyid, "sig": base64.b64encode(k.sign(data)).decode("ascii")} for k in keys
    ]
    # Sorted keys: "signatures" < "signed"; no whitespace, as canonical_json writes it.
    return b'{"signatures":' + canonical_json(signatures) + b',"signed":' + data + b"}"


def verify_envelope(envelope: Any, trusted: Mapping[str, PublicKey]) -> dict[str, Any]:
    """Return ``envelope["signed"]`` if a trusted key signed it; else raise ``SignatureError``.

    One valid signature by a trusted key is enough; signatures by unknown keys
    are ignored, so a manifest signed by both old and new keys is accepted by
    devices that know either.
    """
    if not isinstance(envelope, dict) or set(envelope) != {"signed", "signatures"}:
        raise ManifestError("not a signed envelope: expected exactly 'signed' and 'signatures'")
    signed, signatures = envelope["signed"], envelope["signatures"]
    if not isinstance(signed, dict) or not isinstance(signatures, list):
        raise ManifestError(
            "not a signed envelope: 'signed' must be an object, 'signatures' a list"
        )
    data = canonical_json(signed)
    seen_trusted = False
    for entry in signatures:
        if not isinstance(entry, dict):
            continue
        keyid, sig_b64 = entry.get("keyid"), entry.get("sig")
        if not isinstance(keyid, str) or not isinstance(sig_b64, str):
            continue
        key = trusted.get(keyid)
        if key is None:
            continue
        seen_trusted = True
        try:
            sig = base64.b64decode(sig_b64, validate=True)
        except binascii.Error:
            continue
        if key.verify(sig, data):
            return signed
    if not seen_trusted:
        raise SignatureError("unknown_key", "signed by no key this device trusts")
    raise SignatureError("bad_signature", "the signature does not match the content")


def open_envelope(
    envelope: Any, trusted: Mapping[str, PublicKey], parse: Callable[[dict[str, Any]], T], what: str
) -> T:
    """``parse(signed)`` of an envelope a trusted key signed.

    Raises ``SignatureError`` (``unknown_key``, ``bad_signature``) or ``TrustError``
    (``malformed``: not an envelope, or signed but not a valid ``what``).
    """
    try:
        signed = verify_envelope(envelope, trusted)
    except (ManifestError, CanonicalFormError) as e:
        raise TrustError("malformed", f"not a readable signed {what}: {e}") from e
    try:
        return parse(signed)
    except ManifestError as e:
        raise TrustError("malformed", f"signed but malformed: {e}") from e
