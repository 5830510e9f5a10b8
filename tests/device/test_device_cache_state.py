"""The cache and the trust state on disk, as a power cut or a bad disk leaves them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from device_runtime.cache import AssetCache
from device_runtime.errors import DownloadError, IntegrityError
from device_runtime.state import SessionCounter, TrustState
from signage_core.manifest import parse_manifest
from tests.device.fake_signage_server import DEVICE, NOW, FakeServer, make_signed, sha

DATA = b"video frames " * 500


def test_verify_all_removes_corrupt_and_stray_files(tmp_path: Path) -> None:
    cache = AssetCache(tmp_path / "cache")
    good, bad = b"good bytes", b"bytes that were"
    cache.path(sha(good)).write_bytes(good)
    cache.path(sha(bad)).write_bytes(b"bytes that rot")  # bit rot: content is not its name
    (cache.root / "notes.txt").write_text("left by a technician")
    (cache.tmp / "x.tmp").write_bytes(b"stray")
    resumable = cache.part_path(sha(DATA))
    resumable.write_bytes(DATA[:100])

    removed = cache.verify_all()

    assert cache.hashes() == {sha(good)}
    assert set(removed) == {sha(bad), "notes.txt", "tmp/x.tmp"}
    assert resumable.exists()  # a partial download named by its hash is kept to resume


def test_download_aborts_when_the_server_sends_too_much(tmp_path: Path) -> None:
    cache, server = AssetCache(tmp_path / "cache"), FakeServer()
    server.blobs[sha(DATA)] = DATA[:-1] + b"!" + DATA * 9  # wrong, and a flood behind

    with pytest.raises(IntegrityError, match="more than"):
        cache.download(server, sha(DATA), len(DATA))

    assert not cache.has(sha(DATA)) and not cache.part_path(sha(DATA)).exists()
    assert server.sent_bytes[sha(DATA)] <= len(DATA) + server.chunk


def test_a_flood_behind_the_right_bytes_is_cut_at_the_declared_size(tmp_path: Path) -> None:
    cache, server = AssetCache(tmp_path / "cache"), FakeServer()
    server.blobs[sha(DATA)] = DATA * 10  # the asset, then garbage the manifest did not declare

    path = cache.download(server, sha(DATA), len(DATA))

    assert path.read_bytes() == DATA  # the declared bytes are the asset: the hash says so
    assert server.sent_bytes[sha(DATA)] <= len(DATA) + server.chunk


def test_a_cut_transfer_keeps_the_part_file(tmp_path: Path) -> None:
    cache, server = AssetCache(tmp_path / "cache"), FakeServer()
    server.blobs[sha(DATA)] = DATA[:2500]  # the link drops after 2500 bytes

    with pytest.raises(DownloadError, match="2500 of"):
        cache.download(server, sha(DATA), len(DATA))

    assert cache.part_path(sha(DATA)).stat().st_size == 2500
    assert not cache.has(sha(DATA))


def test_a_download_stopped_by_shutdown_resumes(tmp_path: Path) -> None:
    cache, server = AssetCache(tmp_path / "cache"), FakeServer()
    server.add(DATA)
    calls = iter(range(100))

    with pytest.raises(DownloadError, match="stopped"):
        cache.download(server, sha(DATA), len(DATA), should_stop=lambda: next(calls) >= 3)
    cache.download(server, sha(DATA), len(DATA))

    assert server.log[-1] == ("asset", sha(DATA), 3 * server.chunk)
    assert cache.path(sha(DATA)).read_bytes() == DATA


# -- trust state --------------------------------------------------------------------------


def _stored(tmp_path: Path, **kw: object) -> tuple[FakeServer, TrustState]:
    server = FakeServer()
    signed = make_signed(version=4, **kw)  # type: ignore[arg-type]
    body = server.publish(signed)
    state = TrustState(tmp_path / "state", DEVICE, {server.key.keyid: server.key.public})
    state.store_manifest(body, parse_manifest(signed), '"4"')
    return server, TrustState(tmp_path / "state", DEVICE, state.trusted_keys)


def test_state_reverifies_the_stored_manifest(tmp_path: Path) -> None:
    _, state = _stored(tmp_path)

    loaded = state.load(NOW)

    assert loaded.manifest is not None and loaded.manifest.version == 4
    assert not loaded.expired and loaded.problems == ()
    assert state.record.held_version == 4 and state.record.etag == '"4"'


def test_a_corrupt_manifest_file_is_ignored_and_reported(tmp_path: Path) -> None:
    _, state = _stored(tmp_path)
    state.manifest_path.write_bytes(b'{"signed": {"trunc')

    loaded = state.load(NOW)

    assert loaded.manifest is None
    assert "stored manifest was refused" in loaded.problems[0]


def test_an_edited_manifest_file_is_refused(tmp_path: Path) -> None:
    _, state = _stored(tmp_path)
    doc = json.loads(state.manifest_path.read_bytes())
    doc["signed"]["device_id"] = "someone-else"
    state.manifest_path.write_text(json.dumps(doc))

    loaded = state.load(NOW)

    assert loaded.manifest is None and "bad_signature" in loaded.problems[0]


def test_a_corrupt_trust_file_is_ignored_and_reported(tmp_path: Path) -> None:
    _, state = _stored(tmp_path)
    state.trust_path.write_bytes(b"\x00\x00\x00")

    loaded = state.load(NOW)

    assert loaded.manifest is not None and loaded.manifest.version == 4
    assert "trust.json" in loaded.problems[0]
    assert state.record.held_version == 4  # rebuilt from the manifest itself


def test_an_expired_stored_manifest_loads_flagged(tmp_path: Path) -> None:
    # Issued an hour before NOW for a day. After a reboot the device clock is all there
    # is to count the time: it is trusted up to a lifetime past the signed issued_at,
    # which is the expiry itself (beyond, see the next test).
    _, state = _stored(tmp_path, expires_at=NOW + timedelta(days=1))

    loaded = state.load(NOW + timedelta(days=1))

    assert loaded.manifest is not None and loaded.expired
    assert not state.trusted(NOW + timedelta(days=1)).clock_suspect


def test_after_a_reboot_a_clock_past_a_lifetime_is_suspect_and_the_manifest_plays(
    tmp_path: Path,
) -> None:
    # A month later by the device clock, nothing signed since, and no way to count the
    # time: a clock a month ahead and a month offline look the same. Keep playing (the
    # held manifest plays either way) and say the clock is suspect.
    _, state = _stored(tmp_path, expires_at=NOW + timedelta(days=1))

    loaded = state.load(NOW + timedelta(days=30))

    assert loaded.manifest is not None and not loaded.expired
    judged = state.trusted(NOW + timedelta(days=30))
    assert judged.clock_suspect
    assert timedelta(0) <= judged.now - (NOW - timedelta(hours=1)) < timedelta(seconds=30)


def test_time_counted_since_the_signed_time_flags_expiry_without_the_device_clock(
    tmp_path: Path,
) -> None:
    mono = [1000.0]
    _, stored = _stored(tmp_path, expires_at=NOW + timedelta(days=1))
    state = TrustState(tmp_path / "state", DEVICE, stored.trusted_keys, monotonic=lambda: mono[0])
    ahead = NOW + timedelta(days=365)  # a clock a year ahead all along
    assert not state.load(ahead).expired
    assert state.trusted(ahead).clock_suspect

    mono[0] += 2 * 86400  # two days of uptime, counted by the monotonic clock
    judged = state.trusted(ahead + timedelta(days=2))

    assert judged.clock_suspect
    assert judged.now == NOW - timedelta(hours=1) + timedelta(days=2)  # issued_at + 2 days
    assert parse_manifest(json.loads(state.manifest_path.read_bytes())["signed"]).is_expired(
        judged.now
    )


def test_a_clock_reset_does_not_make_an_expired_manifest_fresh(tmp_path: Path) -> None:
    _, state = _stored(tmp_path, expires_at=NOW + timedelta(days=1))
    state.load(NOW)
    state.note_issued_at(NOW + timedelta(days=5))  # a newer manifest, signed, was seen
    rebooted = TrustState(tmp_path / "state", DEVICE, state.trusted_keys)

    loaded = rebooted.load(datetime(1970, 1, 1, tzinfo=UTC))

    assert loaded.manifest is not None and loaded.expired


def test_session_counter_grows_and_survives_restarts(tmp_path: Path) -> None:
    assert SessionCounter(tmp_path).next() == 1
    assert SessionCounter(tmp_path).next() == 2
    (tmp_path / "session.json").write_text("garbage")
    assert SessionCounter(tmp_path).next() == 1


def test_a_stored_server_date_from_an_older_version_is_dropped(tmp_path: Path) -> None:
    _, state = _stored(tmp_path, expires_at=NOW + timedelta(days=1))
    doc = json.loads(state.trust_path.read_bytes())
    doc["server_date"] = "2100-01-01T00:00:00Z"  # one forged HTTP Date, kept by an old version
    state.trust_path.write_text(json.dumps(doc))

    loaded = state.load(NOW)

    assert loaded.manifest is not None and not loaded.expired
    assert state.trusted_now(NOW) == NOW
    assert "unsigned server Date (2100-01-01T00:00:00Z)" in loaded.problems[0]
    assert "server_date" not in json.loads(state.trust_path.read_bytes())
