"""A real X display for Kivy tests (``scripts/loopback/xvfb.py``, shared with ``make demo``),
and the pointer moves that tap it with ``xdotool``."""

from __future__ import annotations

from scripts.loopback.xvfb import Display, XvfbError, xvfb

__all__ = ["Display", "XvfbError", "pointer_to", "xvfb"]


def pointer_to(x: int, y: int) -> list[str]:
    """``xdotool`` arguments that put the pointer at (x, y) and wait until it is there.

    Debian's xdotool (3.20160805) ``mousemove --sync`` to where the pointer already is
    (a second tap on the same key) waits its full 15 s for a move that never comes
    (fixed upstream in 2024: jordansissel/xdotool#464). So one pixel aside first,
    unsynced: the synced move then always moves.
    """
    aside = x - 1 if x > 0 else x + 1
    return ["mousemove", str(aside), str(y), "mousemove", "--sync", str(x), str(y)]
