"""Long fault loops (``make faults``): every ``bench/faults_*.py`` module's ``main()``.

``python -m bench.faults device_clocks server_kill_publish`` runs only those.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
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
    failed = 0
    for name in wanted or known:
        print(f"== {name}", flush=True)
        failed += int(bool(importlib.import_module(f"bench.{name}").main()))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
