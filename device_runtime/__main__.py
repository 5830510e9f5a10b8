"""``python -m device_runtime --config FILE``: the runtime without a window."""

from __future__ import annotations

import argparse
import sys

from .errors import SettingsError
from .headless import run_headless
from .settings import load_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m device_runtime",
        description="Sync, verify and report as a border-signage device, without a window.",
    )
    parser.add_argument("--config", required=True, help="the device's TOML config file")
    args = parser.parse_args(argv)
    try:
        settings = load_settings(args.config)
    except SettingsError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return run_headless(settings)


if __name__ == "__main__":
    sys.exit(main())
