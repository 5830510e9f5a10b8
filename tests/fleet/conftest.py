"""One fleet (Mosquitto + the content server with its MQTT ingest) per test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fleet.fleet_kit import Fleet, start_fleet


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    f = start_fleet(tmp_path_factory.mktemp("fleet"))
    try:
        yield f
    finally:
        f.stop()
