"""Fixtures shared by every test folder. Keep it small."""

from __future__ import annotations

import inspect
from collections.abc import Iterator

import pytest

from content_server.broker import DeviceAccount
from tests.support.mosquitto import Broker

# A device account every broker started by the ``broker`` fixture knows.
TEST_DEVICE = DeviceAccount(device_id="test-device", site_id="test-site", password="device-secret")


# Fixtures that start real processes or talk over sockets. Tests using them are marked
# ``live`` and left out of the run under a shifted clock (``make test``'s faketime pass),
# where libfaketime can make socket calls and timed waits fail with EINVAL.
LIVE_FIXTURES = frozenset({"broker", "broker_dir", "run_cli", "stack", "fleet"})


def _starts_a_process(item: pytest.Item) -> bool:
    """A test whose own body runs a subprocess: its timed wait can fail under faketime."""
    function = getattr(item, "function", None)
    try:
        return function is not None and "subprocess." in inspect.getsource(function)
    except (OSError, TypeError):
        return False


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if LIVE_FIXTURES.intersection(getattr(item, "fixturenames", ())) or _starts_a_process(item):
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
