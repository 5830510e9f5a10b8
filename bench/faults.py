"""Long fault loops (``make faults``): every ``bench/faults_*.py`` module's ``main()``.

``python -m bench.faults device_clocks server_kill_publish`` runs only those. Each run's
wall time is printed after it, and the last line is the whole::

    faults: 7 runs, 7 ok, 11.4 min
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    here = Path(__file__).parent
    known = sorted(
        m.name for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("faults_")
    )
    asked = sys.argv[1:] if argv is None else argv
    wanted = [a if a.startswith("faults_") else f"faults_{a}" for a in asked]
    unknown = [w for w in wanted if w not in known]
    if unknown:
        print(f"no fault run named {', '.join(unknown)}; there are: {', '.join(known)}")
        return 2
    names = wanted or known
    failed = 0
    started = time.monotonic()
    for name in names:
        print(f"== {name}", flush=True)
        t0 = time.monotonic()
        broke = bool(importlib.import_module(f"bench.{name}").main())
        failed += broke
        print(f"== {name}: {'FAILED' if broke else 'ok'} in {time.monotonic() - t0:.0f} s",
              flush=True)  # fmt: skip
    total = time.monotonic() - started
    print(f"faults: {len(names)} runs, {len(names) - failed} ok, {total / 60:.1f} min")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
