"""Fixtures shared by every test folder. Keep it small."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# The repository root goes first on sys.path: with plain `pytest` only tests/ would be
# there, and tests/device_runtime/ (no __init__.py) would shadow the real package as a
# namespace package whose __init__ never runs. `pythonpath = ["."]` in pytest's config
# would do the same.
ROOT = Path(__file__).resolve().parents[1]
if sys.path[:1] != [str(ROOT)]:
    sys.path.insert(0, str(ROOT))

from content_server.broker import DeviceAccount  # noqa: E402
from tests.support.mosquitto import Broker  # noqa: E402

# A device account every broker started by the ``broker`` fixture knows.
TEST_DEVICE = DeviceAccount(device_id="test-device", site_id="test-site", password="device-secret")


# Fixtures that start real processes or talk over sockets. Tests using them are marked
# ``live`` and left out of the run under a shifted clock (``make test``'s faketime pass),
# where libfaketime can make socket calls and timed waits fail with EINVAL.
LIVE_FIXTURES = frozenset({"broker", "broker_dir", "run_cli", "stack", "fleet"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if LIVE_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.live)


@pytest.fixture
def broker() -> Iterator[Broker]:
    """A real Mosquitto on a free loopback port, knowing ``TEST_DEVICE`` and the server account.

    Add accounts with ``broker.reload([...])``.
    """
    b = Broker.start(devices=[TEST_DEVICE])
    try:
        yield b
    finally:
        b.stop()
