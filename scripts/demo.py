"""`make demo`: Mosquitto, the content server with the Huế playlists, and one player.

Everything runs on loopback from a fresh folder `demo-data/` (recreated on each
run), set up only with the commands an operator uses. The player opens a window
if there is a display, and runs under Xvfb otherwise. Ctrl-C stops it all.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scripts.loopback.stack import Stack, cli_path  # noqa: E402
from scripts.loopback.xvfb import xvfb as start_xvfb  # noqa: E402

DEVICE, SITE = "adot-hall-1", "adot-hall"


def main() -> int:
    root = ROOT / "demo-data"
    shutil.rmtree(root, ignore_errors=True)
    stack = Stack(root)
    with contextlib.ExitStack() as cleanup:
        cleanup.callback(stack.stop)
        return run(stack, root, cleanup)


def run(stack: Stack, root: Path, cleanup: contextlib.ExitStack) -> int:
    headless = not os.environ.get("DISPLAY")
    try:
        print("Setting up the content server from playlists/ …", flush=True)
        stack.init()
        config = stack.add_device(DEVICE, SITE)
        with config.open("a", encoding="utf-8") as f:  # so a watcher sees one soon
            f.write("heartbeat_interval_s = 10\n")
        stack.start_broker()
        stack.start_server()
        if headless:
            display = cleanup.enter_context(start_xvfb(root / "xvfb"))
            env = display.env()
        else:
            kivy_home = root / "kivy-home"
            kivy_home.mkdir()
            env = {"KIVY_HOME": str(kivy_home), "KIVY_NO_ARGS": "1"}
        screenshot = root / "player.png"
        stack.start_device(
            "player",
            [cli_path("signage-player"), "--config", str(config), "--screenshot", str(screenshot),
             "--screenshot-every", "10"],
            env=env,
        )  # fmt: skip
        where = f"under Xvfb on {env['DISPLAY']}" if headless else "in a window"
        print(
            f"""
Border-gate signage demo is running.

  Content server   {stack.server_url}   (API docs: {stack.server_url}/docs)
                   admin login: admin / {stack.admin_password}
  Player           device {DEVICE} at site {SITE}, {where}
  Screenshot       {screenshot}   (refreshed every 10 s)
  Heartbeats       every 10 s:
                   mosquitto_sub -h 127.0.0.1 -p {stack.mqtt_server_port} -u content-server \\
                       -P '{stack.mqtt_server_password}' -t 'signage/v1/#' -v
  Logs             {root}/*.log

Press Ctrl-C to stop everything.""",
            flush=True,
        )
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        while True:
            for name, proc in stack.processes.items():
                if proc.poll() is not None:
                    print(f"\n{name} stopped (exit {proc.returncode}); its log:\n{stack.log(name)}")
                    return 1
            time.sleep(1)
    except KeyboardInterrupt:
        print("\nStopping …")
        return 0


if __name__ == "__main__":
    sys.exit(main())
