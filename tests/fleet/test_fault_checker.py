"""The checker of the server-kill fault runs (``bench/server_kill.py``), on made-up
histories: it must flag a screen that went back a version, one that never got an
acknowledged publish or got it too late, a refused manifest, and a record lost or stored
twice; and pass a history where nothing went wrong."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from bench.load import Device, Stats
from bench.server_kill import Acked, Held, check, reached_after, went_back
from content_server.enrollment import Credentials


def test_went_back_sees_a_lower_version_after_a_higher_one() -> None:
    assert not went_back([(1, 0.0), (2, 1.0), (4, 2.0)])
    assert went_back([(1, 0.0), (3, 1.0), (2, 2.0)])


def test_reached_after_counts_from_the_restart_and_accepts_a_later_version() -> None:
    assert reached_after([(1, 0.0), (3, 50.0)], 2, healed=10.0) == 40.0
    assert reached_after([(1, 0.0)], 2, healed=10.0) is None


def _fleet(histories: dict[str, Held], failed: int = 0) -> Any:
    return SimpleNamespace(held=histories, stats=Stats(failed=failed))


def _devices(n: int) -> list[Device]:
    return [Device(f"load-{i}", "adot-hall", Credentials.new()) for i in range(n)]


def _problems(histories: dict[str, Held], records: tuple[int, int, int, int]) -> list[str]:
    devices = _devices(len(histories))
    return check(_fleet(histories), devices, [Acked(2, 100.0)], records, say=lambda _s: None)


def test_a_clean_history_passes() -> None:
    ok = {f"load-{i}": Held([(1, 0.0), (2, 130.0)]) for i in range(2)}
    assert _problems(ok, (10, 10, 0, 0)) == []


def test_each_broken_invariant_is_reported() -> None:
    back = {"load-0": Held([(1, 0.0), (2, 130.0), (1, 140.0)]), "load-1": Held([(2, 120.0)])}
    assert any("went back" in p for p in _problems(back, (10, 10, 0, 0)))
    late = {"load-0": Held([(1, 0.0), (2, 401.0)]), "load-1": Held([(2, 120.0)])}
    assert any("acknowledged version 2" in p for p in _problems(late, (10, 10, 0, 0)))
    never = {"load-0": Held([(1, 0.0)]), "load-1": Held([(2, 120.0)])}
    assert any("1/2 screens" in p for p in _problems(never, (10, 10, 0, 0)))
    refused = {"load-0": Held([(2, 120.0)], ["rollback"]), "load-1": Held([(2, 120.0)])}
    assert any("refused" in p for p in _problems(refused, (10, 10, 0, 0)))
    ok = {f"load-{i}": Held([(1, 0.0), (2, 130.0)]) for i in range(2)}
    assert any("records" in p for p in _problems(ok, (10, 9, 0, 0)))
    assert any("records" in p for p in _problems(ok, (10, 10, 0, 1)))
