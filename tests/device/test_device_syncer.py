"""One sync pass against the in-memory server: downloads, no-ops, attacks, failures."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from device_runtime.cache import AssetCache, file_sha256
from device_runtime.content import Content
from device_runtime.state import TrustState
from device_runtime.syncer import Syncer
from signage_core.signing import SigningKey
from tests.device.fake_signage_server import DEVICE, NOW, FakeServer, make_signed, sha

MAP = b"PNG map of the A Dot - Ta Vang gate " * 100
HOURS = b"PNG opening hours " * 300
FORMS = b"PNG customs forms " * 200


class Device:
    """A syncer and everything it writes, rebuilt from disk like after a reboot."""

    def __init__(
        self,
        root: Path,
        server: FakeServer,
        clock: Callable[[], datetime],
        quota_bytes: int | None = None,
        **options: Any,
    ) -> None:
        self.root, self.server, self.clock, self.quota_bytes = root, server, clock, quota_bytes
        self.options = options
        self.announced: list[Content] = []
        self.sleeps: list[float] = []  # backoff waits between tries, recorded, not slept
        self.syncer = self.boot()

    def boot(self) -> Syncer:
        trust = TrustState(
            self.root / "state", DEVICE, {self.server.key.keyid: self.server.key.public}
        )
        self.cache = AssetCache(self.root / "cache")
        syncer = Syncer(
            device_id=DEVICE,
            fetcher=self.server,
            cache=self.cache,
            trust=trust,
            quota_bytes=self.quota_bytes,
            clock=self.clock,
            sleep=self.sleeps.append,
            on_new=self.announced.append,
            **self.options,
        )
        syncer.load()
        return syncer

    def sync(self) -> Content | None:
        self.syncer.run_once()
        return self.syncer.current


@pytest.fixture
def server() -> FakeServer:
    return FakeServer()


@pytest.fixture
def device(tmp_path: Path, server: FakeServer) -> Device:
    return Device(tmp_path, server, lambda: NOW)


def test_sync_downloads_exactly_the_manifests_assets(device: Device, server: FakeServer) -> None:
    signed = server.publish_assets(1, MAP, HOURS)
    server.add(FORMS)  # on the server, but not in this device's manifest

    current = device.sync()

    assert current is not None and current.manifest.version == 1
    assert device.cache.hashes() == set(signed["assets"]) == {sha(MAP), sha(HOURS)}
    for h in signed["assets"]:
        assert file_sha256(current.asset_path(h)) == h
    assert sorted(server.asset_fetches()) == sorted(signed["assets"])
    assert device.announced == [current]
    assert device.syncer.status.state == "idle" and device.syncer.status.last_ok == NOW


def test_second_pass_is_a_no_op(device: Device, server: FakeServer) -> None:
    server.publish_assets(1, MAP, HOURS)
    first = device.sync()
    fetched = len(server.asset_fetches())

    second = device.sync()

    assert server.manifest_statuses() == [200, 304]
    assert len(server.asset_fetches()) == fetched
    assert second is first and device.announced == [first]


def test_last_good_manifest_survives_a_reboot(device: Device, server: FakeServer) -> None:
    server.publish_assets(3, MAP)
    device.sync()
    server.offline = True

    rebooted = device.boot()

    assert rebooted.current is not None and rebooted.current.manifest.version == 3
    assert not rebooted.current.expired
    rebooted.run_once()
    assert rebooted.status.state == "offline" and rebooted.status.offline_since == NOW
    assert rebooted.current.manifest.version == 3


def test_new_manifest_switches_and_old_assets_go_a_pass_later(
    device: Device, server: FakeServer
) -> None:
    server.publish_assets(1, MAP, HOURS)
    device.sync()
    server.publish_assets(2, HOURS, FORMS)

    current = device.sync()

    assert current is not None and current.manifest.version == 2
    assert [c.manifest.version for c in device.announced] == [1, 2]
    assert sha(HOURS) not in server.asset_fetches()[2:]  # reused, not fetched again
    assert sha(MAP) in device.cache.hashes()  # the screen may still show it this instant
    device.sync()
    assert device.cache.hashes() == {sha(HOURS), sha(FORMS)}


# -- attacks: each refused, the last good manifest keeps playing --------------------------


def _good_then(device: Device, server: FakeServer) -> Content:
    server.publish_assets(2, MAP)
    good = device.sync()
    assert good is not None
    return good


def _assert_refused(device: Device, good: Content, reason: str) -> None:
    assert device.sync() is good
    status = device.syncer.status
    assert status.state == "error" and status.refused_reason == reason
    assert reason in (status.last_error or "")
    assert device.announced == [good]
    rebooted = device.boot()  # nothing of the attack reached the disk either
    assert rebooted.current is not None and rebooted.current.manifest == good.manifest


def test_tampered_manifest_is_refused(device: Device, server: FakeServer) -> None:
    good = _good_then(device, server)
    server.publish_assets(3, MAP, HOURS, title="Welcome")
    assert server.body is not None and b"Welcome" in server.body
    server.body = server.body.replace(b"Welcome", b"Welcomf")  # one flipped byte

    _assert_refused(device, good, "bad_signature")
    assert sha(HOURS) not in server.asset_fetches()


def test_manifest_for_another_device_is_refused(device: Device, server: FakeServer) -> None:
    good = _good_then(device, server)
    server.publish(make_signed(device_id="hongvan-hall-2", version=3))

    _assert_refused(device, good, "wrong_device")


def test_rollback_to_a_lower_version_is_refused(device: Device, server: FakeServer) -> None:
    good = _good_then(device, server)
    server.publish(make_signed(version=1))

    _assert_refused(device, good, "rollback")


def test_rollback_after_reboot_is_refused(device: Device, server: FakeServer) -> None:
    good = _good_then(device, server)
    device.syncer = device.boot()
    server.publish(make_signed(version=1))

    assert device.sync() is not None
    assert device.syncer.status.refused_reason == "rollback"
    assert device.syncer.current is not None
    assert device.syncer.current.manifest == good.manifest


def test_expired_manifest_is_refused(device: Device, server: FakeServer) -> None:
    good = _good_then(device, server)
    server.publish(make_signed(version=3, expires_at=NOW - timedelta(minutes=1)))

    _assert_refused(device, good, "expired")


def test_expired_manifest_is_refused_even_when_the_device_clock_is_reset(
    tmp_path: Path, server: FakeServer
) -> None:
    device = Device(tmp_path, server, lambda: datetime(1970, 1, 1, tzinfo=UTC))
    server.publish(make_signed(version=2, issued_at=NOW))  # signed: the time is NOW at least
    good = device.sync()
    assert good is not None
    server.publish(
        make_signed(
            version=3, issued_at=NOW - timedelta(hours=2), expires_at=NOW - timedelta(minutes=1)
        )
    )

    _assert_refused(device, good, "expired")


def test_manifest_signed_by_an_unknown_key_is_refused(device: Device, server: FakeServer) -> None:
    good = _good_then(device, server)
    server.publish(make_signed(version=3), keys=[SigningKey.generate()])

    _assert_refused(device, good, "unknown_key")


def test_a_signed_manifest_with_a_malformed_schedule_is_refused(
    device: Device, server: FakeServer
) -> None:
    good = _good_then(device, server)
    doc = make_signed(version=3)
    doc["playlists"][0]["schedule"] = {"windows": [{"start": "07:00", "end": "31:00"}]}
    server.publish(doc)

    _assert_refused(device, good, "malformed")
    assert "schedule" in (device.syncer.status.last_error or "")


def test_garbage_instead_of_a_manifest_is_refused(device: Device, server: FakeServer) -> None:
    good = _good_then(device, server)
    server.body, server.etag = b"<html>captive portal</html>", None

    _assert_refused(device, good, "malformed")


# -- assets that are not what the manifest says -------------------------------------------


def test_asset_with_wrong_bytes_is_rejected_and_not_made_current(
    device: Device, server: FakeServer
) -> None:
    good = _good_then(device, server)
    server.publish_assets(3, MAP, HOURS)
    server.blobs[sha(HOURS)] = HOURS.replace(b"opening", b"OPENING")  # same size, other bytes

    assert device.sync() is good
    assert sha(HOURS) not in device.cache.hashes()
    assert not list(device.cache.tmp.iterdir())  # the bad part file is gone
    status = device.syncer.status
    assert status.state == "error" and "another hash" in (status.last_error or "")


def test_asset_larger_than_declared_is_aborted(device: Device, server: FakeServer) -> None:
    good = _good_then(device, server)
    server.publish_assets(3, MAP, HOURS)
    flood = b"\0" * 1_000_000
    server.blobs[sha(HOURS)] = HOURS[:-1] + b"!" + flood  # wrong bytes, and far too many

    assert device.sync() is good
    assert sha(HOURS) not in device.cache.hashes()
    # Aborted at the declared size on every try: at most one chunk more each time.
    tries = server.asset_fetches().count(sha(HOURS))
    assert server.total_sent[sha(HOURS)] <= tries * (len(HOURS) + server.chunk)
    assert "more than" in (device.syncer.status.last_error or "")


def test_one_failed_asset_does_not_stop_the_others(device: Device, server: FakeServer) -> None:
    good = _good_then(device, server)
    server.publish_assets(3, MAP, HOURS, FORMS)
    del server.blobs[sha(FORMS)]  # the smallest new asset comes first, and fails

    assert device.sync() is good
    assert sha(HOURS) in device.cache.hashes()  # fetched despite the failure before it

    server.add(FORMS)
    current = device.sync()
    assert current is not None and current.manifest.version == 3
    assert device.cache.hashes() == {sha(MAP), sha(HOURS), sha(FORMS)}


def test_an_interrupted_download_resumes_where_it_stopped(
    device: Device, server: FakeServer
) -> None:
    server.publish_assets(1, MAP)
    server.offline = True
    device.sync()
    part = device.cache.part_path(sha(MAP))
    part.write_bytes(MAP[:1500])  # what a cut link left behind
    server.offline = False

    current = device.sync()

    assert current is not None and file_sha256(current.asset_path(sha(MAP))) == sha(MAP)
    assert ("asset", sha(MAP), 1500) in server.log
    assert server.sent_bytes[sha(MAP)] == len(MAP) - 1500


def test_a_cached_file_lost_is_fetched_again(device: Device, server: FakeServer) -> None:
    server.publish_assets(1, MAP)
    current = device.sync()
    assert current is not None
    current.asset_path(sha(MAP)).write_bytes(b"truncated")

    device.sync()  # 304: the manifest is the same, the file is repaired
    assert file_sha256(current.asset_path(sha(MAP))) == sha(MAP)


def test_a_stored_manifest_that_has_expired_keeps_playing_flagged(
    tmp_path: Path, server: FakeServer
) -> None:
    now = [NOW]
    device = Device(tmp_path, server, lambda: now[0])
    server.publish_assets(1, MAP, expires_at=NOW + timedelta(days=1))
    device.sync()
    now[0] = NOW + timedelta(days=1)  # its expiry, after a day without a link
    server.offline = True

    rebooted = device.boot()

    assert rebooted.current is not None and rebooted.current.expired
    assert rebooted.current.asset_path(sha(MAP)).is_file()
    assert not rebooted.trust.trusted(now[0]).clock_suspect

    now[0] = NOW + timedelta(days=31)  # a month: as far as a clock a month ahead
    rebooted = device.boot()
    assert rebooted.current is not None and rebooted.current.asset_path(sha(MAP)).is_file()
    assert rebooted.trust.trusted(now[0]).clock_suspect  # it cannot tell: it says so


def test_a_device_clock_a_year_ahead_takes_fresh_manifests_and_is_reported_suspect(
    tmp_path: Path, server: FakeServer
) -> None:
    ahead = NOW + timedelta(days=365)
    device = Device(tmp_path, server, lambda: ahead)
    server.publish_assets(1, MAP)  # issued an hour before NOW, for 30 days

    first = device.sync()  # nothing held: judged by its own issued_at

    assert first is not None and first.manifest.version == 1 and not first.expired
    assert device.syncer.trust.trusted(ahead).clock_suspect
    server.publish_assets(2, MAP, HOURS, issued_at=NOW)
    second = device.sync()
    assert second is not None and second.manifest.version == 2
    # Every old protection holds: a lower version is still refused.
    server.publish_assets(1, MAP)
    assert device.sync() is second
    assert device.syncer.status.refused_reason == "rollback"
    rebooted = device.boot()  # and after a reboot it still plays, unexpired
    assert rebooted.current is not None and rebooted.current.manifest.version == 2
    assert not rebooted.current.expired


def test_a_correct_clock_still_refuses_an_expired_manifest(
    tmp_path: Path, server: FakeServer
) -> None:
    device = Device(tmp_path, server, lambda: NOW)
    server.publish_assets(5, MAP)
    assert device.sync() is not None
    # A newer version, but signed 40 days ago for 30: the clock is within a lifetime of
    # the newest signed time (an hour), so it judges expiry.
    old = NOW - timedelta(days=40)
    server.publish_assets(6, MAP, HOURS, issued_at=old, expires_at=old + timedelta(days=30))
    held = device.sync()
    assert held is not None and held.manifest.version == 5
    assert device.syncer.status.refused_reason == "expired"
    assert not device.syncer.trust.trusted(NOW).clock_suspect


def test_the_server_date_only_measures_the_skew(device: Device, server: FakeServer) -> None:
    # An unsigned Date far ahead (a proxy, a captive portal) must not expire anything.
    server.date = NOW + timedelta(days=400)
    server.publish(make_signed(version=1, expires_at=NOW + timedelta(days=30)))

    assert device.sync() is not None
    assert device.syncer.status.refused_reason is None
    assert device.syncer.status.clock_skew_s == -400 * 86400
    assert device.syncer.trust.trusted_now(NOW) == NOW
    trust = json.loads((device.root / "state" / "trust.json").read_bytes())
    assert "server_date" not in trust


def test_manifest_stored_as_received(device: Device, server: FakeServer) -> None:
    server.publish_assets(1, MAP)
    device.sync()

    stored = (device.root / "state" / "manifest.json").read_bytes()
    assert stored == server.body
    trust = json.loads((device.root / "state" / "trust.json").read_bytes())
    assert trust["held_version"] == 1 and trust["etag"] == '"1"'


def test_content_over_the_cache_quota_is_not_fetched(tmp_path: Path, server: FakeServer) -> None:
    device = Device(tmp_path, server, lambda: NOW, quota_bytes=len(MAP) + len(HOURS))
    good = _good_then(device, server)
    server.publish_assets(3, MAP, HOURS, FORMS)

    assert device.sync() is good
    assert server.asset_fetches() == [sha(MAP)]
    assert "cache_quota_bytes" in (device.syncer.status.last_error or "")


def test_a_file_that_rotted_while_the_device_was_off_is_never_handed_to_the_player(
    tmp_path: Path, server: FakeServer
) -> None:
    server.publish_assets(1, MAP, HOURS)
    Device(tmp_path, server, lambda: NOW).sync()
    (tmp_path / "cache" / sha(MAP)).write_bytes(b"bit rot " + MAP[8:])  # same size, wrong bytes

    server.offline = True
    rebooted = Device(tmp_path, server, lambda: NOW)  # loads the held manifest, no network
    current = rebooted.syncer.current
    assert current is not None

    # Asked before any background pass: the bad file is hashed, deleted and refused.
    with pytest.raises(KeyError, match="corrupt"):
        current.asset_path(sha(MAP))
    assert not (tmp_path / "cache" / sha(MAP)).exists()
    assert current.asset_path(sha(HOURS)).read_bytes() == HOURS

    server.offline = False
    rebooted.sync()  # fetched again on the next pass
    assert file_sha256(tmp_path / "cache" / sha(MAP)) == sha(MAP)
    assert current.asset_path(sha(MAP)).read_bytes() == MAP
