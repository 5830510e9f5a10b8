"""Driving the real kiosk on a real X display: ``kiosk_driver.py`` in its own process,
tapped with ``xdotool`` (real pointer events on the real window), watched through the
driver's trace (see its docstring). Shared by the kiosk tests and ``bench/bench_kiosk.py``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.support.xvfb import Display, pointer_to

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
Event = dict[str, Any]


def kiosk_config(device_config: Path, out: Path, **kiosk_keys: float) -> Path:
    """The device's config with ``kiosk_*`` keys added (``idle_timeout_s=3``:
    ``kiosk_idle_timeout_s = 3``)."""
    text = device_config.read_text(encoding="utf-8")
    text += "".join(f"kiosk_{k} = {v}\n" for k, v in kiosk_keys.items())
    out.write_text(text, encoding="utf-8")
    return out


class Kiosk:
    """One kiosk process; ``with Kiosk(...) as k:`` starts it and stops it."""

    def __init__(self, display: Display, config: Path, tmp: Path, *, shots: bool = True) -> None:
        self.display = display
        self.tmp = tmp
        self.trace = tmp / "trace.jsonl"
        self.trace.unlink(missing_ok=True)
        self.shots = tmp / "shots" if shots else None
        scenario = {"config": str(config), "trace": str(self.trace), "exit_after": 300}
        if self.shots is not None:
            self.shots.mkdir(parents=True, exist_ok=True)
            scenario["shots"] = str(self.shots)
        self.scenario = tmp / "scenario.json"
        self.scenario.write_text(json.dumps(scenario), encoding="utf-8")
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = tmp / "kiosk.log"
        self._read = 0

    def __enter__(self) -> Kiosk:
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, str(HERE / "kiosk_driver.py"), str(self.scenario)],
                env=self.display.env(PYTHONPATH=str(ROOT)),
                cwd=self.tmp,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return self

    def __exit__(self, *_: Any) -> None:
        self.stop()

    def stop(self) -> None:
        proc = self.proc
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def events(self) -> list[Event]:
        if not self.trace.exists():
            return []
        lines = self.trace.read_text(encoding="utf-8").split("\n")[
            :-1
        ]  # the last may be half-written
        return [json.loads(line) for line in lines if line.strip()]

    def mark(self) -> int:
        """Where the trace ends now: ``wait_for(..., after=mark)`` looks at later events only."""
        return len(self.events())

    def wait_for(
        self, event: str, match: Callable[[Event], bool] = lambda e: True, *,
        after: int = 0, timeout: float = 60,
    ) -> Event:  # fmt: skip
        deadline = time.monotonic() + timeout
        while True:
            for e in self.events()[after:]:
                if e["event"] == event and match(e):
                    return e
            if not self.alive:
                raise AssertionError(
                    f"the kiosk ended: {self.log.read_text(errors='replace')[-3000:]}"
                )
            if time.monotonic() > deadline:
                last = [
                    (e["event"], e.get("screen"), e.get("language")) for e in self.events()[-8:]
                ]
                raise AssertionError(
                    f"no {event} event in {timeout} s; last events: {last}"
                    f"\n{self.log.read_text(errors='replace')[-2000:]}"
                )
            time.sleep(0.02)

    def drawn(self, after: int = 0, timeout: float = 60, **want: Any) -> Event:
        """The first screen drawn after ``after`` whose fields match ``want``."""
        return self.wait_for(
            "drawn", lambda e: all(e.get(k) == v for k, v in want.items()),
            after=after, timeout=timeout,
        )  # fmt: skip

    # -- real input on the real window -------------------------------------------------

    def xdotool(self, *args: str) -> None:
        exe = shutil.which("xdotool")
        assert exe, "xdotool is not installed (Debian package xdotool)"
        subprocess.run([exe, *args], env={**os.environ, "DISPLAY": self.display.name},
                       check=True, timeout=20)  # fmt: skip

    def tap_at(self, x: int, y: int) -> float:
        """A tap (press and release) at window pixel (x, y) from the top left; when it was sent."""
        self.xdotool(*pointer_to(x, y))
        sent = time.monotonic()
        self.xdotool("click", "1")
        return sent

    def target(self, screen: Event, action: str) -> list[int]:
        for t in screen["targets"]:
            if t["action"] == action:
                return list(t["rect"])
        raise AssertionError(f"no {action!r} on screen: {[t['action'] for t in screen['targets']]}")

    def tap(self, screen: Event, action: str) -> float:
        """Tap the middle of the button ``action`` of the drawn ``screen``."""
        x, y, w, h = self.target(screen, action)
        return self.tap_at(x + w // 2, y + h // 2)

    def drag(self, x: int, y: int, dy: int, steps: int = 20) -> None:
        """A finger put down at (x, y), moved by ``dy`` pixels (negative: up), lifted."""
        args = [*pointer_to(x, y), "mousedown", "1"]
        for i in range(1, steps + 1):
            args += ["mousemove", str(x), str(y + dy * i // steps), "sleep", "0.01"]
        args += ["sleep", "0.05", "mouseup", "1"]
        self.xdotool(*args)

    def key(self, name: str) -> None:
        self.xdotool("key", name)
