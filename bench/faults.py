"""Long fault loops (``make faults``): every ``bench/faults_*.py`` module's ``main()``."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def main() -> int:
    here = Path(__file__).parent
    names = sorted(
        m.name for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("faults_")
    )
    failed = 0
    for name in names:
        print(f"== {name}", flush=True)
        failed += int(bool(importlib.import_module(f"bench.{name}").main()))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
