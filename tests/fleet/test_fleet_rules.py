"""The pure rules: which alerts a device trusts and shows, and a device's health state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from content_server.health import DeviceHealth, apply_heartbeat, apply_status, state_at
from signage_core.alert import SCHEMA, AlertBoard, accept_alert
from signage_core.errors import RefusedError
from signage_core.signing import SigningKey, sign_envelope
from signage_core.timefmt import format_time

NOW = datetime(2026, 11, 26, 5, 0, tzinfo=UTC)
KEY = SigningKey.generate()
TRUSTED = {KEY.keyid: KEY.public}
HALL = ("adot-hall", "adot", "hue")


def alert(version: int = 1, site: str = "adot", **over: Any) -> dict[str, Any]:
    signed = {
        "schema": SCHEMA, "id": "a-1", "site_id": site, "version": version,
        "issued_at": format_time(NOW), "expires_at": format_time(NOW + timedelta(hours=1)),
        "state": "active", "severity": "warning",
        "texts": {"vi": {"title": "Đóng cửa", "body": ""}, "lo": {"title": "ປິດ", "body": ""}},
    }  # fmt: skip
    signed.update(over)
    return signed


def test_a_signed_alert_for_the_gate_above_is_trusted_and_shown() -> None:
    a = accept_alert(sign_envelope(alert(), [KEY]), TRUSTED, HALL, "adot")
    board = AlertBoard()
    assert board.apply(a)
    assert [x.id for x in board.showing(NOW)] == ["a-1"]
    assert board.next_change_at(NOW) == NOW + timedelta(hours=1)
    assert board.showing(NOW + timedelta(hours=1)) == []


@pytest.mark.parametrize(
    ("envelope", "sites", "topic", "reason"),
    [
        (sign_envelope(alert(), [SigningKey.generate()]), HALL, "adot", "unknown_key"),
        ({"signed": alert(), "signatures": []}, HALL, "adot", "unknown_key"),
        ({**sign_envelope(alert(), [KEY]), "signed": alert(severity="info")}, HALL, None,
         "bad_signature"),
        (sign_envelope(alert(site="hongvan"), [KEY]), HALL, "hongvan", "wrong_site"),
        (sign_envelope(alert(), [KEY]), HALL, "adot-hall", "wrong_site"),  # moved topic
        (sign_envelope(alert(state="gone"), [KEY]), HALL, "adot", "malformed"),
        ("not an envelope", HALL, "adot", "malformed"),
    ],
)  # fmt: skip
def test_untrusted_alerts_are_refused(envelope: Any, sites: Any, topic: Any, reason: str) -> None:
    with pytest.raises(RefusedError) as e:
        accept_alert(envelope, TRUSTED, sites, topic)
    assert e.value.reason == reason


def test_only_a_newer_signed_document_replaces_an_alert() -> None:
    board = AlertBoard()
    board.apply(accept_alert(sign_envelope(alert(2), [KEY]), TRUSTED, HALL))
    cancel = accept_alert(sign_envelope(alert(3, state="cancelled"), [KEY]), TRUSTED, HALL)
    assert board.apply(cancel) and board.showing(NOW) == []
    replay = accept_alert(sign_envelope(alert(2), [KEY]), TRUSTED, HALL)
    assert not board.apply(replay) and board.showing(NOW) == []
    emergency = accept_alert(
        sign_envelope(alert(4, site="hue", id="a-2", severity="emergency"), [KEY]), TRUSTED, HALL
    )
    board.apply(emergency)
    board.apply(accept_alert(sign_envelope(alert(5, id="a-3"), [KEY]), TRUSTED, HALL))
    assert [a.id for a in board.showing(NOW)] == ["a-2", "a-3"]  # most severe first


def t(seconds: float) -> datetime:
    return NOW + timedelta(seconds=seconds)


def test_health_goes_online_stale_offline_by_heartbeat_intervals() -> None:
    h = DeviceHealth("d")
    assert state_at(h, NOW, 30) == "unknown"
    h = apply_status(h, "online", 3, t(0)) or h
    h = apply_heartbeat(h, {}, t(0), 30.0)
    assert state_at(h, t(89), 99) == "online"
    assert state_at(h, t(91), 99) == "stale"
    assert state_at(h, t(301), 99) == "offline"
    offline = apply_status(h, "offline", 3, t(5))
    assert offline is not None and state_at(offline, t(6), 30) == "offline"


def test_a_status_of_an_older_session_is_ignored() -> None:
    h = apply_status(DeviceHealth("d"), "online", 8, t(0))
    assert h is not None
    assert apply_status(h, "offline", 7, t(1)) is None  # a late will of the last connection
    ended = apply_status(h, "offline", 8, t(2))
    assert ended is not None
    assert apply_status(ended, "online", 8, t(3)) is None  # a stale copy of that session
    assert apply_status(ended, "online", 9, t(4)) is not None
