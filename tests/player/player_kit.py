"""Running the player on a real X display: ``player_driver.py`` in its own process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.support.xvfb import Display

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent


def run_player(
    display: Display, tmp: Path, scenario: dict[str, Any], timeout: float = 90
) -> dict[str, Any]:
    """Play ``scenario`` (see ``player_driver.py``) in a new process on ``display``; the
    driver's report, once it ended well and took every capture it was asked for."""
    scenario = {**scenario, "report": str(tmp / "report.json")}
    path = tmp / "scenario.json"
    path.write_text(json.dumps(scenario, ensure_ascii=False), encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, str(HERE / "player_driver.py"), str(path)],
        env=display.env(PYTHONPATH=str(ROOT)),
        cwd=tmp,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    report: dict[str, Any] = json.loads((tmp / "report.json").read_text(encoding="utf-8"))
    assert not report["missed_captures"], (report["cards"], proc.stderr[-3000:])
    return report
