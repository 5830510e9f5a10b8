"""Drives a kiosk window under Xvfb the way a traveller does: real taps (``xdotool``)
on the real window, read back from what the driver process says is on screen."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from scripts.loopback.stack import ROOT
from signage_core.coverage import FALLBACK_FONTS, load_cmap, missing_glyphs
from tests.support.waiting import wait_until
from tests.support.xvfb import Display, pointer_to


@dataclass
class Window:
    """A driver process (``tests.kiosk.feedback_driver``) and its state file."""

    display: Display
    proc: subprocess.Popen[bytes]
    state_path: Path
    commands_path: Path
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")[-4000:]

    def state(self) -> dict[str, Any]:
        try:
            data: dict[str, Any] = json.loads(self.state_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data

    def wait(self, check: Any, what: str, timeout: float = 30.0) -> dict[str, Any]:
        def probe() -> dict[str, Any] | None:
            if self.proc.poll() is not None:
                raise AssertionError(f"the kiosk window exited:\n{self.log()}")
            state = self.state()
            return state if state and check(state) else None

        result: dict[str, Any] = wait_until(probe, timeout, what, step=0.02, logs=self.log)
        return result

    def find(self, action: str) -> dict[str, Any]:
        state = self.wait(
            lambda s: any(w["action"] == action for w in s["keys"] + s["buttons"]),
            f"a key or button {action!r}",
        )
        return next(w for w in state["keys"] + state["buttons"] if w["action"] == action)

    def tap(self, action: str) -> dict[str, Any]:
        """Tap the key or button that does ``action``; return the state after the tap."""
        target = self.find(action)
        before = self.state()["touches"]
        subprocess.run(
            ["xdotool", *pointer_to(target["x"], target["y"]), "click", "1"],
            env=self.display.env(),
            check=True,
            timeout=20,
        )
        return self.wait(lambda s: s["touches"] > before, f"the tap on {action!r} to arrive")

    def tap_at(self, x: int, y: int) -> dict[str, Any]:
        """Tap the window at (x, y) pixels from its top left; the state after the tap."""
        before = self.state()["touches"]
        subprocess.run(
            ["xdotool", *pointer_to(x, y), "click", "1"],
            env=self.display.env(),
            check=True,
            timeout=20,
        )
        return self.wait(lambda s: s["touches"] > before, f"the tap at {x},{y} to arrive")

    def command(self, **command: Any) -> None:
        done = self.state().get("commands", 0)
        with self.commands_path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(command, ensure_ascii=False) + "\n")
        self.wait(lambda s: s["commands"] > done, f"the command {command}")

    def shot(self, path: Path) -> Path:
        path.unlink(missing_ok=True)
        self.command(shot=str(path))
        assert path.exists() and path.stat().st_size > 0
        return path


@contextmanager
def kiosk_window(display: Display, tmp: Path, **scenario: Any) -> Iterator[Window]:
    """Start the driver with ``scenario`` (see ``feedback_driver``); quit it at the end."""
    tmp.mkdir(parents=True, exist_ok=True)
    state, commands, log = tmp / "state.json", tmp / "commands.jsonl", tmp / "window.log"
    commands.write_text("", encoding="utf-8")
    state.unlink(missing_ok=True)
    path = tmp / "scenario.json"
    scenario = {**scenario, "state": str(state), "commands": str(commands)}
    path.write_text(json.dumps(scenario, ensure_ascii=False), encoding="utf-8")
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.kiosk.feedback_driver", str(path)],
            env=display.env(),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    window = Window(display, proc, state, commands, log)
    try:

        def targets(s: dict[str, Any]) -> list[dict[str, Any]]:
            return list(s.get("keys", [])) + list(s.get("buttons", []))

        first = window.wait(
            lambda s: bool(targets(s)) and all(k["w"] > 20 for k in targets(s)),
            "the kiosk window, laid out",
            timeout=90,
        )
        # settled: two reports a few frames apart see the same targets in the same places
        settled = window.wait(lambda s: s["seq"] >= first["seq"] + 3, "three more reports")
        window.wait(lambda s: targets(s) == targets(settled), "the targets to stay put")
        yield window
    finally:
        if proc.poll() is None:
            with commands.open("a", encoding="utf-8") as f:
                f.write(json.dumps({"quit": True}) + "\n")
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)


def lao_actions(text: str) -> list[str]:
    """The taps that type ``text`` on the Lao keyboard (shift where the character needs it)."""
    from signage_core.lao_keys import ROWS

    unshifted = {k[0] for row in ROWS for k in row}
    shifted = {k[1] for row in ROWS for k in row} - unshifted
    out: list[str] = []
    for ch in text:
        if ch == " ":
            out.append("space")
        elif ch in unshifted:
            out.append(f"char:{ch}")
        elif ch in shifted:
            out += ["shift", f"char:{ch}"]
        else:
            raise ValueError(f"{ch!r} is not on the Lao keyboard")
    return out


def latin_actions(keys: str) -> list[str]:
    """The taps that type ``keys`` (Telex keys on the Vietnamese keyboard); capitals with
    shift, ``{3}`` for the tone key 3 (hỏi)."""
    out: list[str] = []
    i = 0
    while i < len(keys):
        ch = keys[i]
        if ch == "{":
            out.append(f"tone:{keys[i + 1]}")
            i += 3
            continue
        if ch == " ":
            out.append("space")
        elif ch.isupper():
            out += ["shift", f"char:{ch}"]
        else:
            out.append(f"char:{ch}")
        i += 1
    return out


@lru_cache(maxsize=1)
def _cmaps() -> tuple[frozenset[int], frozenset[int], tuple[frozenset[int], ...]]:
    fonts = ROOT / "assets" / "fonts"
    lao = load_cmap(fonts / "NotoSansLao-Regular.ttf")
    latin = load_cmap(fonts / "NotoSans-Regular.ttf")
    return lao, latin, tuple(load_cmap(fonts / name) for name in FALLBACK_FONTS)


def text_problems(state: dict[str, Any]) -> list[str]:
    """Texts on screen that overflow their widget or have a character no font draws."""
    lao, latin, fallbacks = _cmaps()
    problems = []
    for t in state["texts"]:
        if t["content_w"] > t["w"] + 1 or t["content_h"] > t["h"] + 1:
            problems.append(
                f"{t['text']!r} is {t['content_w']}x{t['content_h']} in {t['w']}x{t['h']}"
            )
        missing = missing_glyphs(t["text"], lao, latin, fallbacks)
        if missing:
            problems.append(f"{t['text']!r} has no glyph for {missing}")
    return problems
