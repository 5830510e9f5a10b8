"""Offline-first behaviour of one sync pass: retries, the download window, a full disk,
bit rot, key rotation, replays and a month without a link."""

from __future__ import annotations

import errno
import json
import threading
from datetime import timedelta
from pathlib import Path
from typing import IO

import pytest

from device_runtime.cache import AssetCache, file_sha256
from device_runtime.errors import DownloadError
from device_runtime.fetcher import AssetStream
from device_runtime.state import TrustState
from device_runtime.syncer import Syncer
from device_runtime.verifier import CacheVerifier
from signage_core.schedule import evaluate
from signage_core.signing import SigningKey
from signage_core.sync import DownloadWindow
from tests.device.fake_signage_server import DEVICE, NOW, FakeServer, make_signed, sha
from tests.device.test_device_syncer import FORMS, HOURS, MAP, Device

BIG = b"MP4 border procedures video " * 4000  # ~112 kB: "large media" below


@pytest.fixture
def server() -> FakeServer:
    return FakeServer()


# -- retries with backoff -----------------------------------------------------------------


class Flaky(FakeServer):
    """Fails the first ``failures`` fetches of each asset as a cut link or a 503 would."""

    def __init__(self, failures: int, status: int | None = None) -> None:
        super().__init__()
        self.failures, self.status = failures, status
        self.tries: dict[str, int] = {}

    def fetch_asset(self, sha256: str, offset: int = 0, if_range: str | None = None) -> AssetStream:
        self.tries[sha256] = self.tries.get(sha256, 0) + 1
        if self.tries[sha256] <= self.failures:
            self.log.append(("asset", sha256, offset))
            raise DownloadError("fake: 503 or cut", self.status)
        return super().fetch_asset(sha256, offset, if_range)


def test_a_transient_failure_is_retried_with_growing_jittered_waits(tmp_path: Path) -> None:
    server = Flaky(failures=2, status=503)
    device = Device(tmp_path, server, lambda: NOW, retry_base_s=2.0, retry_cap_s=60.0)
    server.publish_assets(1, MAP)

    current = device.sync()

    assert current is not None and current.manifest.version == 1  # the third try worked
    first, second = device.sleeps
    assert 1.0 <= first <= 2.0 and 2.0 <= second <= 4.0  # doubling, half of it random


def test_retries_are_bounded_and_the_next_poll_tries_again(tmp_path: Path) -> None:
    server = Flaky(failures=4, status=503)
    device = Device(tmp_path, server, lambda: NOW, attempts=3)
    server.publish_assets(1, MAP)

    assert device.sync() is None
    assert server.tries[sha(MAP)] == 3 and len(device.sleeps) == 2
    assert device.syncer.status.files_failed == 1

    assert device.sync() is not None  # tries 4 (fails) and 5 (works)
    assert server.tries[sha(MAP)] == 5


def test_a_link_that_is_down_ends_the_pass_without_trying_every_asset(tmp_path: Path) -> None:
    server = Flaky(failures=100, status=None)
    device = Device(tmp_path, server, lambda: NOW, attempts=2)
    server.publish_assets(1, MAP, HOURS, FORMS)

    device.sync()

    assert len(server.tries) == 1  # the first asset failed twice; the others were not tried
    status = device.syncer.status
    assert status.state == "offline" and status.offline_since == NOW


# -- the download window ----------------------------------------------------------------------

WINDOW = DownloadWindow.parse("22:00-05:00")  # NOW is 12:00 in Huế


def test_large_media_waits_for_the_window_while_the_current_content_plays(
    tmp_path: Path, server: FakeServer
) -> None:
    now = [NOW]
    device = Device(
        tmp_path,
        server,
        lambda: now[0],
        download_window=WINDOW,
        large_asset_bytes=len(BIG) - 1,
    )
    server.publish_assets(1, MAP)
    good = device.sync()
    server.publish_assets(2, MAP, HOURS, BIG)

    assert device.sync() is good  # the manifest came; the video waits for the night
    status = device.syncer.status
    assert status.state == "waiting" and status.last_error is None
    assert (status.deferred_files, status.deferred_bytes) == (1, len(BIG))
    assert sha(HOURS) in device.cache.hashes() and sha(BIG) not in device.cache.hashes()
    assert sha(BIG) not in server.asset_fetches()

    now[0] = NOW + timedelta(hours=10, minutes=30)  # 22:30 in Huế
    current = device.sync()
    assert current is not None and current.manifest.version == 2
    assert device.syncer.status.state == "idle" and device.syncer.status.deferred_files == 0


def test_a_device_with_nothing_to_play_does_not_wait_for_the_window(
    tmp_path: Path, server: FakeServer
) -> None:
    device = Device(tmp_path, server, lambda: NOW, download_window=WINDOW, large_asset_bytes=10)
    server.publish_assets(1, MAP, BIG)

    current = device.sync()

    assert current is not None and current.manifest.version == 1


# -- a full disk ------------------------------------------------------------------------------


class FullDisk(AssetCache):
    """A cache whose disk fills up after ``room`` bytes of downloads."""

    room = 10**9

    def _write(self, f: IO[bytes], chunk: bytes) -> None:
        if len(chunk) > self.room:
            raise OSError(errno.ENOSPC, "No space left on device")
        self.room -= len(chunk)
        f.write(chunk)


def test_a_full_disk_keeps_the_show_and_is_reported_then_retried(
    tmp_path: Path, server: FakeServer
) -> None:
    device = Device(tmp_path, server, lambda: NOW)
    server.publish_assets(1, MAP)
    good = device.sync()
    disk = FullDisk(tmp_path / "cache")
    disk.room = 2500
    device.syncer.cache = disk
    server.publish_assets(2, MAP, HOURS)

    assert device.sync() is good
    status = device.syncer.status
    assert status.state == "disk_full" and (status.last_error or "").startswith("disk_full")
    assert good.asset_path(sha(MAP)).read_bytes() == MAP  # what plays was not touched
    assert disk.part_path(sha(HOURS)).stat().st_size == 2000  # two chunks fitted: kept

    disk.room = 10**9  # an operator freed space
    current = device.sync()
    assert current is not None and current.manifest.version == 2
    assert ("asset", sha(HOURS), 2000) in server.log  # resumed


def test_gc_never_deletes_what_the_playing_manifest_needs(
    tmp_path: Path, server: FakeServer
) -> None:
    device = Device(tmp_path, server, lambda: NOW, quota_bytes=len(MAP) + len(HOURS) + 10)
    server.publish_assets(1, MAP)
    good = device.sync()
    server.publish_assets(2, HOURS, FORMS)  # does not fit beside what plays

    assert device.sync() is good
    assert device.syncer.status.state == "disk_full"
    assert sha(MAP) in device.cache.hashes()  # still there: it is on screen


# -- bit rot ----------------------------------------------------------------------------------


def test_a_corrupt_cached_file_is_deleted_reported_and_fetched_again(
    tmp_path: Path, server: FakeServer
) -> None:
    device = Device(tmp_path, server, lambda: NOW)
    server.publish_assets(1, MAP, HOURS)
    current = device.sync()
    assert current is not None
    rotten = bytearray(MAP)
    rotten[100] ^= 0x10  # one bit flipped on the flash: same size
    current.asset_path(sha(MAP)).write_bytes(bytes(rotten))
    woken = threading.Event()
    verifier = CacheVerifier(device.syncer, 3600, woken.set, threading.Event())

    verifier.run_pass()

    assert not current.has_asset(sha(MAP))  # never shown: the player skips what is missing
    assert woken.is_set()
    status = device.syncer.status
    assert status.corrupt_found == 1 and status.last_corrupt == sha(MAP)
    device.sync()  # woken: the file comes back
    assert file_sha256(current.asset_path(sha(MAP))) == sha(MAP)


def test_verification_leaves_a_file_replaced_while_it_was_hashed(tmp_path: Path) -> None:
    cache = AssetCache(tmp_path / "cache")
    cache.path(sha(MAP)).write_bytes(b"rotten")

    class Racing(AssetCache):
        def verify_file(self, sha256: str) -> bool:
            # A fresh verified download lands between the hashing and the verdict.
            fresh = self.tmp / "fresh"
            fresh.write_bytes(MAP)
            original = self.path(sha256).open("rb")
            fresh.replace(self.path(sha256))
            original.close()
            return super().verify_file(sha256)

    Racing(tmp_path / "cache").verify_file(sha(MAP))
    assert cache.path(sha(MAP)).read_bytes() == MAP


# -- key rotation -----------------------------------------------------------------------------


def test_key_rotation_teaches_the_new_key_for_good(tmp_path: Path, server: FakeServer) -> None:
    old, new = server.key, SigningKey.generate()
    device = Device(tmp_path, server, lambda: NOW)
    server.add(MAP)
    signed = make_signed(version=2, assets={"m": MAP})
    signed["keys"] = [old.public.spec(), new.public.spec()]
    server.publish(signed, keys=[old, new])
    assert device.sync() is not None

    learned = json.loads((tmp_path / "state" / "keys.json").read_bytes())["learned"]
    assert learned == [new.public.spec()]

    server.key = new  # the old private key is retired on the server
    server.publish(make_signed(version=3, assets={"m": MAP}), keys=[new])
    device.syncer = device.boot()  # a reboot in between: the config still lists only the old key
    current = device.sync()
    assert current is not None and current.manifest.version == 3

    rebooted = device.boot()  # the stored manifest, signed by the new key only, still verifies
    assert rebooted.current is not None and rebooted.current.manifest.version == 3


def test_key_rotation_listing_a_key_that_did_not_sign_teaches_nothing(
    tmp_path: Path, server: FakeServer
) -> None:
    intruder = SigningKey.generate()
    device = Device(tmp_path, server, lambda: NOW)
    signed = make_signed(version=2)
    signed["keys"] = [server.key.public.spec(), intruder.public.spec()]
    server.publish(signed)  # signed by the trusted key only
    device.sync()

    server.publish(make_signed(version=3), keys=[intruder])

    device.sync()
    assert device.syncer.status.refused_reason == "unknown_key"
    assert device.syncer.current is not None and device.syncer.current.manifest.version == 2


# -- replay -----------------------------------------------------------------------------------


def test_replay_of_an_old_manifest_is_refused(tmp_path: Path, server: FakeServer) -> None:
    device = Device(tmp_path, server, lambda: NOW)
    old_body = server.publish(make_signed(version=2))
    device.sync()
    good = server.publish(make_signed(version=3))
    playing = device.sync()
    assert playing is not None and playing.manifest.version == 3

    server.body, server.etag = old_body, '"2"'  # a man in the middle re-serves version 2
    assert server.body != good

    assert device.sync() is playing
    assert device.syncer.status.refused_reason == "rollback"
    assert device.boot().current == playing  # after a reboot too


# -- a month without a link -------------------------------------------------------------------


def test_a_device_offline_for_30_days_plays_the_playlist_planned_for_that_day(
    tmp_path: Path, server: FakeServer
) -> None:
    signed = make_signed(version=1, expires_at=NOW + timedelta(days=7))
    everyday = signed["playlists"][0]
    everyday.update(id="everyday", priority=0, fallback=True)
    tet = {
        "id": "tet-holiday-hours",
        "priority": 20,
        "schedule": {
            "start_date": (NOW + timedelta(days=25)).date().isoformat(),
            "end_date": (NOW + timedelta(days=35)).date().isoformat(),
        },
        "items": [
            {
                "id": "hours",
                "kind": "text",
                "duration_s": 10,
                "variants": {"vi": {"title": "Giờ mở cửa dịp lễ"}, "lo": {"title": "ເວລາເປີດ"}},
            }
        ],
    }
    signed["playlists"] = [everyday, tet]
    server.publish(signed)
    now = [NOW]
    device = Device(tmp_path, server, lambda: now[0])
    device.sync()
    server.offline = True

    now[0] = NOW + timedelta(days=30)  # no link all that time, a reboot today
    rebooted = device.boot()
    rebooted.run_once()

    current = rebooted.current
    assert current is not None  # still playing
    # Rebooted 23 days past the lifetime of everything signed it holds, it cannot tell a
    # month offline from a clock a month ahead: it says its clock is suspect rather than
    # the manifest expired (docs/architecture.md, trust rules).
    assert rebooted.trust.trusted(now[0]).clock_suspect
    slot = evaluate(current.manifest.playlists, now[0], current.manifest.timezone)
    assert slot.playlist_ids == ("tet-holiday-hours",)
    assert evaluate(current.manifest.playlists, NOW, "Asia/Ho_Chi_Minh").playlist_ids == (
        "everyday",
    )
    assert rebooted.status.state == "offline"


# -- status -----------------------------------------------------------------------------------


def test_status_counts_bytes_and_files_of_a_pass(tmp_path: Path, server: FakeServer) -> None:
    seen: list[tuple[int, int]] = []
    trust = TrustState(tmp_path / "state", DEVICE, {server.key.keyid: server.key.public})
    syncer = Syncer(
        device_id=DEVICE,
        fetcher=server,
        cache=AssetCache(tmp_path / "cache"),
        trust=trust,
        clock=lambda: NOW,
        on_new=lambda c: seen.append((syncer.status.bytes_done, syncer.status.files_done)),
    )
    server.publish_assets(1, MAP, HOURS)

    status = syncer.run_once()

    total = len(MAP) + len(HOURS)
    assert (status.bytes_total, status.files_total) == (total, 2)
    assert seen == [(total, 2)]
    assert status.last_ok == NOW and status.offline_since is None and status.last_error is None
    server.offline = True
    later = NOW + timedelta(hours=19)
    syncer.clock = lambda: later
    status = syncer.run_once()
    assert status.state == "offline" and status.offline_since == later
    assert status.last_ok == NOW and "cannot be reached" in (status.last_error or "")
