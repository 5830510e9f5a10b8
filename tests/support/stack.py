"""The whole system on loopback (``scripts/loopback/stack.py``, shared with ``make demo``),
and where tests leave screenshots."""

from __future__ import annotations

from pathlib import Path

from scripts.loopback.stack import ROOT, Stack
from scripts.loopback.stack import cli_path as _cli

__all__ = ["Stack", "_cli", "artifacts_dir"]


def artifacts_dir() -> Path:
    """Where tests leave screenshots for people to look at (not in git)."""
    path = ROOT / "tests" / "artifacts"
    path.mkdir(exist_ok=True)
    return path
