"""The window a publish's ``sync`` asks the screens to spread their answers over."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from content_server.commands import make_command, sync_window_s
from content_server.errors import InvalidInputError
from content_server.settings import Settings


@pytest.mark.parametrize(
    ("devices", "max_s", "rate", "window"),
    [
        (1, 60, 20, 1),  # one screen: within a second
        (7, 60, 20, 1),
        (300, 60, 20, 15),
        (1000, 60, 20, 50),  # the load run's city
        (5000, 60, 20, 60),  # capped: every screen has asked a minute after the publish
        (1000, 0, 20, 0),  # 0: all at once, as before
        (0, 60, 20, 0),
        (10_000_000, 10_000, 1, 3600),  # never beyond what a device takes
    ],
)
def test_the_window_grows_with_the_screens_up_to_the_cap(
    devices: int, max_s: float, rate: float, window: int
) -> None:
    assert sync_window_s(devices, max_s, rate) == window


def test_the_defaults_spread_a_thousand_screens_over_fifty_seconds(tmp_path: object) -> None:
    s = Settings(data_dir=tmp_path)
    assert sync_window_s(1000, s.sync_window_s, s.sync_rate_per_s) == 50


def test_a_window_is_for_a_sync_only_and_bounded() -> None:
    now = datetime.now(UTC)
    assert make_command("sync", "d", now, window_s=30)["window_s"] == 30
    assert "window_s" not in make_command("sync", "d", now)
    for cmd, window in (("restart", 10), ("sync", -1), ("sync", 3601)):
        with pytest.raises(InvalidInputError):
            make_command(cmd, "d", now, window_s=window)
