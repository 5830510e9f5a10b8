"""Finding files shipped with the player (fonts, kv files) in the source tree or a bundle.

In a PyInstaller bundle every data file sits under ``sys._MEIPASS`` at the same
relative path as in the source tree (the spec's ``datas`` keep the layout), so one
helper serves both.
"""

from __future__ import annotations

import sys
from pathlib import Path

_SOURCE_ROOT = Path(__file__).resolve().parent.parent


def resource_root() -> Path:
    """The folder that holds ``assets/`` and ``signage_player/``."""
    bundle = getattr(sys, "_MEIPASS", None)
    return Path(bundle) if bundle else _SOURCE_ROOT


def resource_path(*parts: str) -> Path:
    """``resource_path("assets", "fonts", "NotoSans-Regular.ttf")``; raise if it is not there."""
    path = resource_root().joinpath(*parts)
    if not path.exists():
        raise FileNotFoundError(f"resource {'/'.join(parts)} not found under {resource_root()}")
    return path
