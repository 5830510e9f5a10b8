"""What may import what (docs/architecture.md, "The parts"), checked on the source."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PARTS = (
    *("signage_core", "content_server", "device_runtime", "signage_player", "kiosk_app"),
    "scripts",
)
FORBIDDEN = {
    "signage_core": {
        "content_server",
        "device_runtime",
        "signage_player",
        "kiosk_app",
        "kivy",
        "tests",
    },
    "content_server": {"device_runtime", "signage_player", "kiosk_app", "kivy", "tests"},
    "device_runtime": {"content_server", "signage_player", "kiosk_app", "kivy", "tests"},
    "signage_player": {"content_server", "kiosk_app", "tests"},
    "kiosk_app": {"content_server", "tests"},
    "scripts": {"tests"},  # make demo runs from a clone without the tests
}


def imported(path: Path) -> set[str]:
    """Top-level names of every absolute import in the file, wherever it sits."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("part", PARTS)
def test_a_part_imports_only_what_it_may(part: str) -> None:
    files = sorted((ROOT / part).rglob("*.py"))
    assert files, part
    wrong = {
        str(f.relative_to(ROOT)): sorted(imported(f) & FORBIDDEN[part])
        for f in files
        if imported(f) & FORBIDDEN[part]
    }
    assert wrong == {}


def test_the_presenter_holds_screen_logic_without_kivy() -> None:
    assert "kivy" not in imported(ROOT / "signage_player" / "presenter.py")
    for name in ("presenter.py", "config.py", "strings.py", "qr.py"):
        assert "kivy" not in imported(ROOT / "kiosk_app" / name), name
