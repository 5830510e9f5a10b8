"""The content server SIGKILLed and restarted under load: shared by two fault runs.

``bench/faults_server_kill_publish.py`` kills it while an editor publishes,
``bench/faults_server_kill_downloads.py`` while screens are part-way through an asset.
Both drive ``bench/load.py``'s simulated screens against a real server and Mosquitto
(``scripts/loopback/stack.py``), with one change to the screens (``CheckedFleet``): each
takes a manifest as ``device_runtime`` does, through ``signage_core.trust.accept_manifest``
with the server's public keys and the version it holds, and switches to it only once every
asset it names is downloaded and matches its sha256; until then it keeps the last good
one. What each screen held, and when, is recorded for the checker (``check``).
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import os
import signal
import sqlite3
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import requests

from bench.http11 import HttpError
from content_server.keys import load_signing_keys
from content_server.settings import Settings
from scripts.loopback.stack import Stack
from signage_core.errors import SignageError
from signage_core.trust import TrustContext, accept_manifest

from . import load
from .load import Device, Fleet

HEAL_WITHIN_S = 300.0
DEVICES = int(os.environ.get("FAULTS_DEVICES", "100"))
# The screens' poll interval in the server-kill runs (the device default is 60 s). A screen
# that missed the kill's ``sync`` catches up at its next poll: what the run waits for after
# the restart is mostly that idle time, so the screens poll faster here.
POLL_S = float(os.environ.get("FAULTS_POLL_S", "20"))


@dataclass
class Held:
    """One screen's history: (version, monotonic time it switched to it), in order."""

    switches: list[tuple[int, float]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # reasons the screen refused a manifest


class _Counting:
    """A download's sha256, and how many bytes it has had so far."""

    def __init__(self, digest: Any) -> None:
        self.digest = digest
        self.received = 0

    def update(self, chunk: bytes) -> None:
        self.received += len(chunk)
        self.digest.update(chunk)


class CheckedFleet(Fleet):
    def __init__(self, api: str, devices: list[Device], stack: Stack) -> None:
        super().__init__(api, devices)
        keys = load_signing_keys(Settings(data_dir=stack.data_dir))
        self.trusted = {k.keyid: k.public for k in keys}
        self.held: dict[str, Held] = {d.id: Held() for d in devices}
        self.held_assets: dict[str, set[str]] = {d.id: set() for d in devices}  # its manifest's
        self.inflight = 0  # asset downloads under way
        self.down_errors = 0  # requests that found no server (expected while it is down)
        self.cut_midway = 0  # downloads cut after some of the asset's bytes had arrived
        self.receiving: dict[str, _Counting] = {}  # device -> its download under way

    async def poll(self, d: Device) -> None:
        headers = f"If-None-Match: {d.etag}\r\n" if d.etag else ""
        try:
            r = await self.conns[d.id].request(
                "GET", f"{self.prefix}/devices/{d.id}/manifest", headers
            )
        except HttpError:
            self._count()
            self.down_errors += 1
            return
        self._count()
        if r.status == 304:
            return
        if r.status != 200:
            self.bad_status("manifest", r.status)
            return
        history = self.held[d.id]
        held = history.switches[-1][0] if history.switches else None
        ctx = TrustContext(d.id, self.trusted, held, datetime.now(UTC))
        try:
            manifest = accept_manifest(json.loads(r.body), ctx)
        except SignageError as e:
            history.refused.append(getattr(e, "reason", type(e).__name__))
            return
        wanted = manifest.asset_hashes() - d.assets
        if not self.counting:  # warm-up: the screen already holds what is published
            d.assets |= wanted
        for sha in sorted(wanted):
            if self.counting:
                await self.download(d, sha)
        if manifest.asset_hashes() - d.assets:
            return  # keep the last good manifest; the next poll asks again (etag kept)
        if manifest.version != held:
            history.switches.append((manifest.version, time.monotonic()))
        self.held_assets[d.id] = manifest.asset_hashes()
        d.etag = r.headers.get("etag")
        d.version = manifest.version

    async def download(self, d: Device, sha: str) -> None:
        """As ``Fleet.download``; a connection lost part-way is a fault, not a failure."""
        sink = _Counting(hashlib.sha256())
        self.inflight += 1
        self.receiving[d.id] = sink
        try:
            r = await self.conns[d.id].request("GET", f"{self.prefix}/assets/{sha}", sink=sink)
        except HttpError:
            self.down_errors += 1
            if sink.received:
                self.cut_midway += 1
            return
        finally:
            self.inflight -= 1
            del self.receiving[d.id]
            self._count()
        if r.status != 200:
            self.bad_status("asset", r.status)
        elif sink.digest.hexdigest() != sha:
            self.stats.fail("asset: bytes do not match the sha256")
        else:
            d.assets.add(sha)
            d.got_at[sha] = time.monotonic()

    def midway(self) -> int:
        """Downloads that have received some bytes and not all."""
        return sum(1 for s in self.receiving.values() if s.received)

    def no_answer(self, e: HttpError) -> None:
        """While the server is down a batch gets no answer: counted, kept, sent again."""
        self.down_errors += 1


class Editor:
    """An editor at a desk: token, upload, playlist, publish (blocking; run in a thread)."""

    def __init__(self, stack: Stack) -> None:
        self.api = f"{stack.server_url}/api/v1"
        self.password = stack.admin_password
        self.session = requests.Session()
        self.last_asset = ""  # the sha256 of the last image uploaded

    def login(self) -> None:
        r = self.session.post(
            f"{self.api}/auth/token", data={"username": "admin", "password": self.password}
        )
        r.raise_for_status()
        self.session.headers["Authorization"] = f"Bearer {r.json()['access_token']}"

    def prepare(self, image: bytes, name: str) -> str:
        """Upload ``image`` and save a city-wide playlist showing it; its id."""
        files = {"file": (f"{name}.jpg", image, "image/jpeg")}
        r = self.session.post(
            f"{self.api}/assets", params={"site_id": "hue"}, files=files, timeout=120
        )
        r.raise_for_status()
        sha = self.last_asset = r.json()["sha256"]
        playlist = {
            "id": name, "site_id": "hue", "priority": 40,
            "name": {"vi": "Thông báo", "lo": "ແຈ້ງການ"},
            "items": [{"id": "notice", "kind": "image", "duration_s": 10, "variants": {
                "vi": {"asset": sha}, "lo": {"asset": sha}}}],
        }  # fmt: skip
        r = self.session.post(f"{self.api}/playlists", json=playlist, timeout=60)
        r.raise_for_status()
        return name

    def publish(self, playlist_id: str) -> int | None:
        """The version the server acknowledged, or None if no answer came."""
        try:
            r = self.session.post(f"{self.api}/playlists/{playlist_id}/publish", timeout=120)
        except requests.RequestException:
            return None
        r.raise_for_status()
        return int(r.json()["version"])


async def finish_when(
    fleet: Fleet, caught_up: Callable[[], Awaitable[bool]], within_s: float = HEAL_WITHIN_S
) -> bool:
    """Let the screens run until ``caught_up()`` (asked every half second), at most
    ``within_s``; then end the run (``Fleet.finish``). Whether it came in time is for the
    checker to say: this only spares the run the idle time after it."""
    deadline = time.monotonic() + within_s
    done = await caught_up()
    while not done and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        done = await caught_up()
    fleet.finish()
    return done


def holding(fleet: CheckedFleet, devices: list[Device], version: int) -> bool:
    """Whether every screen holds ``version`` or a later one."""
    return all(
        fleet.held[d.id].switches and fleet.held[d.id].switches[-1][0] >= version for d in devices
    )


async def restart(stack: Stack) -> float:
    """Start the server again on the same data and port; monotonic time it answered."""
    await asyncio.to_thread(stack.start_server)
    return time.monotonic()


def kill_server(stack: Stack) -> None:
    stack.kill("server", signal.SIGKILL)


def duplicate_records(stack: Stack) -> int:
    """Proof-of-play ids stored more than once (the table's key should make this 0)."""
    db = Settings(data_dir=stack.data_dir).db_path
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        row = con.execute(
            "SELECT count(*) - count(DISTINCT id) FROM events WHERE device_id LIKE 'load-%'"
        ).fetchone()
    finally:
        con.close()
    return int(row[0])


def went_back(switches: list[tuple[int, float]]) -> bool:
    """Whether a screen's versions, in the order it switched to them, ever decrease."""
    versions = [v for v, _ in switches]
    return any(b < a for a, b in itertools.pairwise(versions))


def reached_after(switches: list[tuple[int, float]], version: int, healed: float) -> float | None:
    """Seconds from ``healed`` until the screen held ``version`` or later (None: never)."""
    for v, at in switches:
        if v >= version:
            return at - healed
    return None


@dataclass
class Acked:
    version: int
    healed_at: float  # the restart the checker measures from (monotonic)


def check(
    fleet: CheckedFleet,
    devices: list[Device],
    acked: list[Acked],
    records: tuple[int, int, int, int],
    say: Any = print,
) -> list[str]:
    """The invariants over what the screens and the server recorded; the broken ones.

    ``records``: (sent, stored of those, stored that nobody sent, ids stored twice).
    """
    problems: list[str] = []

    def ok(cond: bool, what: str) -> None:
        say(f"{'ok  ' if cond else 'FAIL'} {what}")
        if not cond:
            problems.append(what)

    refused = {d.id: fleet.held[d.id].refused for d in devices if fleet.held[d.id].refused}
    ok(not refused, f"manifests refused by a screen (bad signature, rollback...): "
       f"{len(refused)} screens {dict(list(refused.items())[:3])}")  # fmt: skip
    back = [d.id for d in devices if went_back(fleet.held[d.id].switches)]
    ok(not back, f"screens that went back a version: {len(back)} {back[:3]}")
    for a in acked:
        late = [reached_after(fleet.held[d.id].switches, a.version, a.healed_at) for d in devices]
        got = [x for x in late if x is not None]
        last = max(got, default=0)
        ok(
            len(got) == len(devices) and last <= HEAL_WITHIN_S,
            f"acknowledged version {a.version} on {len(got)}/{len(devices)} screens, "
            f"the last {last:+.1f} s from the restart (limit {HEAL_WITHIN_S:.0f} s)",
        )
    sent, stored, extra, twice = records
    ok(
        stored == sent and not extra and not twice,
        f"records stored once: {stored}/{sent}, unknown: {extra}, stored twice: {twice}",
    )
    ok(fleet.stats.failed == 0, f"answers with a wrong status or bytes: {fleet.stats.failed} "
       f"{fleet.stats.errors or ''}")  # fmt: skip
    return problems


def records_of(stack: Stack, devices: list[Device]) -> tuple[int, int, int, int]:
    _, stored, extra = load.read_back(stack, devices)
    sent = sum(len(d.sent_records) for d in devices)
    return sent, stored, extra, duplicate_records(stack)


async def drive_checked(
    stack: Stack, devices: list[Device], seconds: float, scenario: Any
) -> CheckedFleet:
    """``load.drive`` with ``CheckedFleet`` screens polling every ``POLL_S``; ``seconds``
    at most (the scenario ends the run once the screens caught up: ``finish_when``)."""
    with load.pace(poll_s=POLL_S):
        fleet, _ = await load.drive(
            stack, devices, seconds, scenario, lambda api, devs: CheckedFleet(api, devs, stack)
        )
    assert isinstance(fleet, CheckedFleet)
    return fleet
