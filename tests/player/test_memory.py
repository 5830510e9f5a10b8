"""The player caps glibc's malloc arenas at start, so decoder threads cannot spread its
memory over one arena each (``signage_player.memory``; the 30-minute loop is in
``bench/bench_player_start.py``)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from signage_player.memory import ARENAS, cap_malloc_arenas

# Sixteen threads alive at once, each allocating outside Python's small-object
# allocator; glibc's malloc_stats() then prints one "Arena N:" block per arena.
PROGRAM = """
import ctypes, sys, threading
from signage_player.memory import cap_malloc_arenas
if sys.argv[1] == "cap":
    print("limit", cap_malloc_arenas(), flush=True)
go = threading.Barrier(16)
def work():
    go.wait()
    blocks = [bytearray(200_000) for _ in range(20)]
    go.wait()
threads = [threading.Thread(target=work) for _ in range(16)]
for t in threads: t.start()
for t in threads: t.join()
ctypes.CDLL("libc.so.6").malloc_stats()
"""


def arenas_used(mode: str) -> int:
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM, mode], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return sum(1 for line in done.stderr.splitlines() if line.startswith("Arena "))


@pytest.mark.live  # a timed subprocess wait: libfaketime can make it fail with EINVAL
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc")
def test_threads_share_at_most_two_arenas_once_capped() -> None:
    assert arenas_used("free") > ARENAS  # without the cap each thread gets its own
    assert 1 <= arenas_used("cap") <= ARENAS


def test_an_arena_limit_from_the_environment_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert cap_malloc_arenas() == 4
    monkeypatch.setenv("MALLOC_ARENA_MAX", "many")
    assert cap_malloc_arenas() is None
