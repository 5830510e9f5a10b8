"""A gate relay's uplink cut for an hour of screen activity, then healed (``make faults``).

The gate A Đớt has a relay (``content-server relay-config``: real nginx caching assets,
real Mosquitto bridged to the city broker), as in ``tests/e2e/test_gate_relay.py``. Its
uplink, HTTP and MQTT, runs through a TCP forwarder on loopback
(``tests/support/uplink.py``) that the run cuts: every connection closed, new ones
refused, as a cable pulled or a radio link down. ``FAULTS_DEVICES`` (default 100)
simulated screens (``bench/load.py``, taking manifests as ``device_runtime`` does:
``bench/server_kill.py``): those of the gate (sites ``adot-hall`` and ``adot-post``,
half of them) use the relay as their server and broker; the others (Hồng Vân) use the
city directly.

Simulated time: the uplink stays cut ``FAULTS_RELAY_CUT_S`` (default 120) s with the
screens' clocks sped up ``FAULTS_RELAY_SPEEDUP`` (default 30) times: they poll every
2 s instead of 60, show an item every 1/3 s... so in those 2 minutes each screen at the
gate makes the polls, record posts and retries of one hour (60 polls, 360 records).
Wall-clock timeouts (nginx's, the bridge's reconnect, 5 minutes to heal) are not sped
up. Heartbeats every 2 s (the server's default allowance is 60 a minute).

Timeline: the screens run 5 s; the uplink is cut; 5 s later an editor at the city
publishes a new image for the whole city (acknowledged: the city is up); the cut lasts
``FAULTS_RELAY_CUT_S``; then the uplink heals and the screens run on at least
``FAULTS_RELAY_AFTER_S`` (default 10: five polls at this pace) and until every screen
holds the new version and no record waits on a screen (at most 5 minutes).

The checker, over what the screens and the server recorded:
- no screen refused a manifest or went back a version, and every screen at the gate
  kept the version it held for the whole cut (it kept showing);
- the relay answered only 502/504 while cut, and no request failed otherwise;
- every proof-of-play record is stored once (those made during the cut stayed queued on
  the screens and arrived after it, none lost, none twice);
- the acknowledged version reached every screen away from the gate within 5 minutes of
  the publish, and every screen at the gate within 5 minutes of the uplink healing.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.http11 import Connection
from scripts.loopback.stack import Stack
from tests.support.mosquitto import MOSQUITTO, readable_dir
from tests.support.uplink import Uplink
from tests.support.waiting import free_port, wait_port

from . import load, server_kill
from .load import Device
from .server_kill import HEAL_WITHIN_S, Acked, CheckedFleet, Editor, went_back

CUT_S = float(os.environ.get("FAULTS_RELAY_CUT_S", "120"))
SPEEDUP = float(os.environ.get("FAULTS_RELAY_SPEEDUP", "30"))
AFTER_S = float(os.environ.get("FAULTS_RELAY_AFTER_S", "10"))  # at least, after healing
GATE = "adot"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
CUT_AT_S = 5.0
RELAY_DOWN = (502, 503, 504)


def at_gate(d: Device) -> bool:
    return d.site.startswith(GATE + "-")


class Relay:
    """nginx and Mosquitto at the gate, written by ``relay-config``; the uplink in between."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.port = free_port()
        self.mqtt_port = free_port()
        self.dir = readable_dir("signage-fault-relay-")
        self.http = Uplink.start(stack.server_port)
        self.mqtt = Uplink.start(stack.mqtt_port)

    def configure(self) -> str:
        return self.stack.run(
            "relay-config", "--data-dir", str(self.stack.data_dir), "--site", GATE,
            "--upstream", self.http.url, "--upstream-mqtt", f"mqtt://127.0.0.1:{self.mqtt.port}",
            "--port", str(self.port), "--mqtt-port", str(self.mqtt_port),
            "--out", str(self.dir), "--listen", "127.0.0.1",
        ).stdout  # fmt: skip

    def start(self) -> None:
        self.stack.start_device(
            "relay-nginx", [NGINX, "-c", str(self.dir / "nginx.conf"), "-g", "daemon off;"]
        )
        self.stack.start_device(
            "relay-mosquitto", [MOSQUITTO, "-c", str(self.dir / "mosquitto.conf")]
        )
        wait_port(self.port)
        wait_port(self.mqtt_port)

    def cut(self) -> None:
        self.http.cut()
        self.mqtt.cut()

    def heal(self) -> None:
        self.http.restore()
        self.mqtt.restore()

    def stop(self) -> None:
        self.http.stop()
        self.mqtt.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class GateFleet(CheckedFleet):
    """Screens at the gate talk to the relay; a 502/504 from it while cut is expected."""

    def __init__(self, api: str, devices: list[Device], stack: Stack, relay: Relay) -> None:
        super().__init__(api, devices, stack)
        for d in devices:
            if at_gate(d):
                self.conns[d.id].close()
                self.conns[d.id] = Connection("127.0.0.1", relay.port, d.creds.token)
        self.cut = False
        self.healed_at = 0.0
        self.relay_down: dict[int, int] = {}  # status -> count, while cut (or just healed)
        self.queued_max = 0  # records waiting on the gate's screens, at most

    def bad_status(self, what: str, status: int) -> None:
        recently = self.healed_at and time.monotonic() - self.healed_at < 10
        if status in RELAY_DOWN and (self.cut or recently):
            self.relay_down[status] = self.relay_down.get(status, 0) + 1
            return
        super().bad_status(what, status)


class CutTheUplink:
    def __init__(self, relay: Relay) -> None:
        self.relay = relay
        self.acked: Acked | None = None
        self.published_at = 0.0
        self.held_during: dict[str, set[int]] = {}  # gate screen -> versions held while cut

    async def __call__(self, fleet: Any, stack: Stack, image: bytes, seconds: float) -> None:
        assert isinstance(fleet, GateFleet)
        gate = [d for d in fleet.devices if at_gate(d)]
        await asyncio.sleep(CUT_AT_S)
        self.relay.cut()
        fleet.cut = True
        cut_at = time.monotonic()
        print(f"fault: uplink of the relay cut ({len(gate)} screens behind it)", flush=True)
        await asyncio.sleep(5)
        editor = Editor(stack)
        await asyncio.to_thread(editor.login)
        playlist = await asyncio.to_thread(editor.prepare, image, "relay-notice")
        version = await asyncio.to_thread(editor.publish, playlist)
        assert version is not None, "the city server did not answer the publish"
        self.published_at = time.monotonic()
        print(f"publish: version {version} acknowledged by the city during the cut", flush=True)
        while time.monotonic() - cut_at < CUT_S:
            for d in gate:
                held = fleet.held[d.id].switches
                self.held_during.setdefault(d.id, set()).add(held[-1][0] if held else 0)
            fleet.queued_max = max(fleet.queued_max, sum(len(d.queue) for d in gate))
            await asyncio.sleep(1)
        self.relay.heal()
        fleet.cut = False
        fleet.healed_at = time.monotonic()
        self.acked = Acked(version, fleet.healed_at)
        print(
            f"fault: uplink healed after {fleet.healed_at - cut_at:.0f} s; "
            f"records waiting on the gate's screens at most: {fleet.queued_max}",
            flush=True,
        )
        await asyncio.sleep(AFTER_S)

        async def caught_up() -> bool:
            queued = any(d.queue for d in fleet.devices)
            return not queued and server_kill.holding(fleet, fleet.devices, version)

        await server_kill.finish_when(fleet, caught_up, HEAL_WITHIN_S + 10 - AFTER_S)


def main() -> int:
    """The run with the screens sped up; ``bench.load``'s pace restored after it (the
    other fault runs share the module in one process)."""
    with load.pace(poll_s=60.0 / SPEEDUP, item_s=10.0 / SPEEDUP, heartbeat_s=2.0):
        return _run()


def _run() -> int:
    # At most; the run ends once every screen caught up after the cut (``finish_when``).
    seconds = CUT_AT_S + CUT_S + HEAL_WITHIN_S + 20
    root = Path(tempfile.mkdtemp(prefix="signage-fault-relay-"))
    stack = Stack(root)
    relay: Relay | None = None
    try:
        stack.init()
        devices = load.enrol_fleet(stack, server_kill.DEVICES)
        relay = Relay(stack)
        out = relay.configure()
        print(f"relay: {out.strip().splitlines()[0] if out.strip() else ''}", flush=True)
        stack.start_broker()  # mqtt-config also writes the bridge account of the relay
        stack.start_server()
        relay.start()
        scenario = CutTheUplink(relay)
        gate_ports = {d.id: relay.mqtt_port for d in devices if at_gate(d)}

        def port_of(d: Device) -> int:
            return gate_ports.get(d.id, stack.mqtt_port)

        async def run() -> GateFleet:
            assert relay is not None
            fleet, _ = await load.drive(
                stack, devices, seconds, scenario,
                lambda api, devs: GateFleet(api, devs, stack, relay), port_of,
            )  # fmt: skip
            assert isinstance(fleet, GateFleet)
            return fleet

        fleet = asyncio.run(run())
        records = server_kill.records_of(stack, devices)
        problems = check(fleet, devices, scenario, records)
        print(f"uplink: {fleet.down_errors} requests found no answer at all; "
              f"{relay.http.down_bytes} bytes came down the HTTP uplink")  # fmt: skip
        return load.verdict(
            "faults_relay_uplink",
            f"devices={len(devices)} cut_s={CUT_S:g} speedup={SPEEDUP:g}",
            problems,
        )
    finally:
        stack.stop()
        if relay is not None:
            relay.stop()
        shutil.rmtree(root, ignore_errors=True)


def check(
    fleet: GateFleet,
    devices: list[Device],
    scenario: CutTheUplink,
    records: tuple[int, int, int, int],
    say: Any = print,
) -> list[str]:
    """The invariants over what the screens and the server recorded; the broken ones."""
    problems: list[str] = []

    def ok(cond: bool, what: str) -> None:
        say(f"{'ok  ' if cond else 'FAIL'} {what}")
        if not cond:
            problems.append(what)

    gate = [d for d in devices if at_gate(d)]
    city = [d for d in devices if not at_gate(d)]
    ok(bool(gate) and bool(city), f"screens at the gate: {len(gate)}, elsewhere: {len(city)}")
    refused = {d.id: fleet.held[d.id].refused for d in devices if fleet.held[d.id].refused}
    ok(not refused, f"manifests refused by a screen: {len(refused)} {list(refused.items())[:3]}")
    back = [d.id for d in devices if went_back(fleet.held[d.id].switches)]
    ok(not back, f"screens that went back a version: {len(back)} {back[:3]}")
    changed = [
        d for d in gate if len(scenario.held_during.get(d.id, set())) != 1
        or 0 in scenario.held_during.get(d.id, set())
    ]  # fmt: skip
    ok(not changed, f"screens at the gate that kept their version for the whole cut: "
       f"{len(gate) - len(changed)}/{len(gate)}")  # fmt: skip
    down = fleet.relay_down
    ok(sum(down.values()) > 0, f"the relay answered without its uplink (while cut): {down}")
    ok(fleet.stats.failed == 0,
       f"other failed answers: {fleet.stats.failed}{' ' if fleet.stats.errors else ''}"
       f"{fleet.stats.errors or ''}")  # fmt: skip
    sent, stored, extra, twice = records
    ok(stored == sent and not extra and not twice,
       f"records stored once: {stored}/{sent}, unknown: {extra}, stored twice: {twice} "
       f"(at most {fleet.queued_max} waited on the gate's screens)")  # fmt: skip
    acked = scenario.acked
    ok(acked is not None, "the publish was acknowledged and the uplink healed")
    if acked is not None:
        for who, group, since, label in (
            ("away from the gate", city, scenario.published_at, "the publish"),
            ("at the gate", gate, acked.healed_at, "the uplink healed"),
        ):
            late = [
                server_kill.reached_after(fleet.held[d.id].switches, acked.version, since)
                for d in group
            ]
            got = [x for x in late if x is not None]
            last = max(got, default=0)
            ok(len(got) == len(group) and last <= HEAL_WITHIN_S,
               f"version {acked.version} on {len(got)}/{len(group)} screens {who}, the last "
               f"{last:+.1f} s after {label} (limit {HEAL_WITHIN_S:.0f} s)")  # fmt: skip
    return problems
