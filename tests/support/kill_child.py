"""A device process for the kill loops: ``python -m tests.support.kill_child CONFIG [N]``.

Starts the real ``Runtime`` (HTTP fetcher, no MQTT) from a device TOML config,
prints one JSON line as soon as it has something to play (``{"playing": v}``),
queues ``N`` proof-of-play records if asked (``{"queued": [uuid, ...]}``, printed
once they are durable), then syncs until it is killed. Each line is flushed at
once so the parent can kill the process at a chosen moment.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime

from device_runtime.runtime import Runtime
from device_runtime.settings import load_settings


def say(**fields: object) -> None:
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


def main(argv: list[str]) -> int:
    settings = load_settings(argv[0])
    records = int(argv[1]) if len(argv) > 1 else 0
    rt = Runtime(settings, "kill-child", "0", enable_mqtt=False)
    rt.start()
    current = rt.current
    say(playing=current.manifest.version if current else None)
    if records:
        ids = [
            rt.record_play(
                playlist_id="main",
                item_id=f"img-{n}",
                language="lo",
                started_at=datetime.now(UTC),
                duration_ms=8000,
                manifest_version=current.manifest.version if current else 0,
            )
            for n in range(records)
        ]
        say(queued=ids)
        rt.sync_now()
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
