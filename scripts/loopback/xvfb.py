"""A real X display (Xvfb with GLX) on a free display number, for the Kivy player.

Xvfb picks the number itself (``-displayfd``), so parallel test runs never collide.
Kivy can open one window per process: run each app in a subprocess with
``env=display.env(...)``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


class XvfbError(RuntimeError):
    pass


@dataclass(frozen=True)
class Display:
    name: str  # ":93"
    kivy_home: Path

    def env(self, **extra: str) -> dict[str, str]:
        """The environment for a Kivy subprocess on this display."""
        env = dict(os.environ)
        env.update(
            DISPLAY=self.name,
            KIVY_NO_ARGS="1",
            KIVY_HOME=str(self.kivy_home),
            KIVY_LOG_MODE="PYTHON",
            SDL_AUDIODRIVER="dummy",
        )
        env.pop("WAYLAND_DISPLAY", None)
        env.update(extra)
        return env


@contextmanager
def xvfb(tmp: Path, width: int = 1280, height: int = 720) -> Iterator[Display]:
    """Start Xvfb for the duration of the block; raise ``XvfbError`` if it cannot start."""
    exe = shutil.which("Xvfb")
    if exe is None:
        raise XvfbError("Xvfb is not installed: run `make deps` (Debian package xvfb)")
    tmp.mkdir(parents=True, exist_ok=True)
    log_path = tmp / "xvfb.log"
    log = log_path.open("wb")
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(
        [
            exe,
            "-displayfd",
            str(write_fd),
            "-screen",
            "0",
            f"{width}x{height}x24",
            "+extension",
            "GLX",
            "-nolisten",
            "tcp",
            "-noreset",
        ],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    os.close(write_fd)
    try:
        with os.fdopen(read_fd, "rb") as pipe:
            number = pipe.readline().strip()
        if not number:
            proc.wait(timeout=5)
            err = log_path.read_text(errors="replace")[-500:]
            raise XvfbError(f"Xvfb did not start: {err}")
        kivy_home = tmp / "kivy-home"
        kivy_home.mkdir(parents=True, exist_ok=True)
        yield Display(f":{number.decode()}", kivy_home)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
