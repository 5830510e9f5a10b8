"""Trust rules, one test per attack a device must refuse."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from signage_core.errors import RefusedError
from signage_core.signing import SigningKey, sign_envelope
from signage_core.trust import TrustContext, accept_manifest, rotated_keys, trusted_now

from .manifests import KEY, envelope, signed_manifest

T0 = datetime(2026, 11, 26, 5, 0, tzinfo=UTC)


def ctx(held: int | None = None, at: datetime = T0) -> TrustContext:
    return TrustContext("adot-hall-1", {KEY.keyid: KEY.public}, held, at)


def refused(env: object, context: TrustContext) -> str:
    with pytest.raises(RefusedError) as e:
        accept_manifest(env, context)
    return e.value.reason


def test_a_good_manifest_is_accepted() -> None:
    m = accept_manifest(envelope(issued_at=T0), ctx(held=3))
    assert (m.device_id, m.version, m.languages) == ("adot-hall-1", 3, ("vi", "lo", "en"))


def test_rollback_attack_lower_version_is_refused() -> None:
    assert refused(envelope(issued_at=T0, version=2), ctx(held=3)) == "rollback"


def test_foreign_device_manifest_is_refused() -> None:
    assert refused(envelope(issued_at=T0, device_id="hongvan-hall-1"), ctx()) == "wrong_device"


def test_expired_manifest_is_refused() -> None:
    env = envelope(issued_at=T0 - timedelta(days=31))
    assert refused(env, ctx()) == "expired"


def test_clock_reset_to_1970_cannot_revive_an_expired_manifest() -> None:
    newest_seen = T0
    device_clock = datetime(1970, 1, 1, tzinfo=UTC)
    when = trusted_now(device_clock, newest_seen, None)
    assert refused(envelope(issued_at=T0 - timedelta(days=31)), ctx(at=when)) == "expired"


def test_unknown_key_is_refused() -> None:
    assert refused(envelope(SigningKey.generate(), issued_at=T0), ctx()) == "unknown_key"


def test_bit_flipped_manifest_is_refused() -> None:
    env = envelope(issued_at=T0)
    env["signed"]["playlists"][0]["items"][0]["variants"]["vi"]["title"] = "Chào mừnh"
    assert refused(env, ctx()) == "bad_signature"


def test_signed_but_malformed_manifest_is_refused() -> None:
    doc = signed_manifest(issued_at=T0)
    doc["playlists"][0]["items"][0]["kind"] = "flash"
    assert refused(sign_envelope(doc, [KEY]), ctx()) == "malformed"


@pytest.mark.parametrize(
    "schedule",
    [
        {"windows": [{"start": "25:00", "end": "26:00"}]},
        {"weekdays": ["someday"]},
        {"start_date": "2026-02-30"},
        {"windows": "all day"},
        "always",
    ],
)
def test_a_signed_manifest_with_a_malformed_schedule_is_refused_as_malformed(
    schedule: object,
) -> None:
    doc = signed_manifest(issued_at=T0)
    doc["playlists"][0]["schedule"] = schedule
    assert refused(sign_envelope(doc, [KEY]), ctx()) == "malformed"


@pytest.mark.parametrize("junk", [None, [], "x", {"signed": {}}, {"signed": 1, "signatures": []}])
def test_junk_is_refused_as_malformed(junk: object) -> None:
    assert refused(junk, ctx()) == "malformed"


def test_replay_attack_old_manifest_reserved_is_refused() -> None:
    old = envelope(issued_at=T0 - timedelta(days=2), version=2)
    assert accept_manifest(old, ctx(held=2)).version == 2  # it was good once
    # The device moved on to version 3; the same old bytes, served again, are refused.
    assert refused(old, ctx(held=3)) == "rollback"


# -- key rotation ---------------------------------------------------------------------------

NEW = SigningKey.from_bytes(bytes(range(1, 33)))


def test_key_rotation_manifest_signed_by_both_teaches_the_new_key() -> None:
    doc = signed_manifest(issued_at=T0)
    doc["keys"] = [KEY.public.spec(), NEW.public.spec()]
    env = sign_envelope(doc, [KEY, NEW])
    accept_manifest(env, ctx())

    learned = rotated_keys(env, {KEY.keyid: KEY.public})

    assert learned == {KEY.keyid: KEY.public, NEW.keyid: NEW.public}


def test_key_rotation_a_listed_key_that_did_not_sign_is_not_learned() -> None:
    doc = signed_manifest(issued_at=T0)
    doc["keys"] = [KEY.public.spec(), NEW.public.spec()]
    env = sign_envelope(doc, [KEY])  # no proof that the server holds NEW

    assert rotated_keys(env, {KEY.keyid: KEY.public}) == {KEY.keyid: KEY.public}


def test_key_rotation_by_an_unknown_key_is_refused() -> None:
    doc = signed_manifest(issued_at=T0)
    doc["keys"] = [NEW.public.spec()]
    assert refused(sign_envelope(doc, [NEW]), ctx()) == "unknown_key"


@pytest.mark.parametrize("keys", [[], "x", ["0011:AAAA"], [1]])
def test_a_malformed_key_list_is_refused(keys: object) -> None:
    doc = signed_manifest(issued_at=T0)
    doc["keys"] = keys
    assert refused(sign_envelope(doc, [KEY]), ctx()) == "malformed"
