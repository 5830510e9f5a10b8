"""The checker of the relay-uplink fault run (``bench/faults_relay_uplink.py``), on
made-up histories: it must pass a clean one and flag each broken invariant."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from bench.faults_relay_uplink import check
from bench.load import Device, Stats
from bench.server_kill import Acked, Held
from content_server.enrollment import Credentials

GATE = [Device(f"load-{i}", "adot-hall", Credentials.new()) for i in range(2)]
CITY = [Device(f"load-{i + 2}", "hongvan-hall", Credentials.new()) for i in range(2)]
HEALED = 100.0


def _run(
    switches: dict[str, list[tuple[int, float]]] | None = None,
    held_during: dict[str, set[int]] | None = None,
    records: tuple[int, int, int, int] = (50, 50, 0, 0),
    failed: int = 0,
    relay_down: dict[int, int] | None = None,
) -> list[str]:
    history = {d.id: [(1, 0.0), (2, 40.0)] for d in CITY}
    history |= {d.id: [(1, 0.0), (2, HEALED + 20)] for d in GATE}
    history |= switches or {}
    fleet: Any = SimpleNamespace(
        held={k: Held(v) for k, v in history.items()},
        stats=Stats(failed=failed),
        relay_down={503: 40} if relay_down is None else relay_down,
        queued_max=30,
    )
    scenario: Any = SimpleNamespace(
        held_during={d.id: {1} for d in GATE} | (held_during or {}),
        acked=Acked(2, HEALED),
        published_at=30.0,
    )
    return check(fleet, GATE + CITY, scenario, records, say=lambda _s: None)


def test_a_clean_history_passes() -> None:
    assert _run() == []


def test_each_broken_invariant_is_flagged() -> None:
    assert _run(switches={"load-0": [(1, 0.0), (2, HEALED + 20), (1, HEALED + 30)]})
    assert _run(switches={"load-1": [(1, 0.0), (2, HEALED + 400)]})  # too late after healing
    assert _run(switches={"load-1": [(1, 0.0)]})  # never
    assert _run(switches={"load-3": [(1, 0.0), (2, 30.0 + 301)]})  # away, too late
    assert _run(held_during={"load-0": {1, 2}})  # changed during the cut: no real cut
    assert _run(held_during={"load-0": {0}})  # held nothing
    assert _run(records=(50, 49, 0, 0))  # one lost
    assert _run(records=(50, 50, 0, 1))  # one twice
    assert _run(failed=1)
    assert _run(relay_down={})  # the relay never felt the cut: it proves nothing
