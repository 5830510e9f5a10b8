"""What the device binaries carry (packaging/pyinstaller_app.py), checked without a build:
every font and every .kv file, at the paths signage_player/resources.py looks under."""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def load() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "pyinstaller_app", ROOT / "packaging" / "pyinstaller_app.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_player_carries_every_font_and_kv_file_where_resources_looks() -> None:
    datas = load().data_files("signage_player")
    inside = {str(Path(folder) / Path(src).name) for src, folder in datas}
    fonts = {f"assets/fonts/{p.name}" for p in (ROOT / "assets" / "fonts").iterdir()}
    kv = {f"signage_player/{p.name}" for p in (ROOT / "signage_player").glob("*.kv")}
    assert {"assets/fonts/NotoSansLao-Regular.ttf", "assets/fonts/OFL.txt"} <= fonts
    assert {"signage_player/playback.kv", "signage_player/alert_overlay.kv"} <= kv
    assert inside == fonts | kv


def test_the_server_side_is_left_out_and_nothing_a_device_app_imports() -> None:
    excludes = set(load().EXCLUDES)
    assert {"content_server", "fastapi", "pydantic", "sqlite_utils"} <= excludes
    imported: dict[str, str] = {}  # top-level module -> a file that imports it
    for package in ("signage_core", "device_runtime", "signage_player", "kiosk_app"):
        for path in sorted((ROOT / package).glob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    imported.setdefault(name.split(".")[0], str(path.relative_to(ROOT)))
    assert "cv2" in imported, "the player decodes video with OpenCV"
    cut = {m: f for m, f in imported.items() if m in excludes}
    assert not cut, f"excluded from the binaries but imported by a device app: {cut}"


@pytest.mark.live
def test_the_entry_script_runs_the_apps_main(tmp_path: Path) -> None:
    entry = load().entry_script("signage_player", tmp_path)
    proc = subprocess.run(
        [sys.executable, str(entry), "--version"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("signage-player ")
