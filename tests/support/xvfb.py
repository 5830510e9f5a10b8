"""A real X display for Kivy tests (``scripts/loopback/xvfb.py``, shared with ``make demo``)."""

from __future__ import annotations

from scripts.loopback.xvfb import Display, XvfbError, xvfb

__all__ = ["Display", "XvfbError", "xvfb"]
