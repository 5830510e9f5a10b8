"""Keeping a long-running device app's resident memory flat: glibc's malloc arenas.

glibc gives each thread that allocates its own malloc arena, up to eight per core.
The player starts a decoder thread for every video it plays, and OpenCV's FFmpeg
starts threads of its own; what they free stays in their arenas, scattered, so the
process kept growing by about 2 MiB a minute over a mixed loop (254 → 372 MiB in
30 minutes) with no Python object leaking. With at most two arenas the same loop is
flat (measured in ``bench/bench_player_start.py``; the figures are in
``docs/benchmarks.md``).

``cap_malloc_arenas()`` sets that limit with ``mallopt(M_ARENA_MAX)`` at start,
before the runtime's threads and the first decoder start, so it needs no environment from
systemd or the technician and works the same in the PyInstaller binary. A
``MALLOC_ARENA_MAX`` already in the environment is glibc's own setting and wins. On
a C library without ``mallopt`` (not glibc) it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os

log = logging.getLogger(__name__)

M_ARENA_MAX = -8  # glibc's <malloc.h>
ARENAS = 2  # the main thread's and one shared by every worker


def cap_malloc_arenas(arenas: int = ARENAS) -> int | None:
    """Limit glibc to ``arenas`` malloc arenas; the limit in force, or None if unknown."""
    if "MALLOC_ARENA_MAX" in os.environ:
        try:
            return int(os.environ["MALLOC_ARENA_MAX"])
        except ValueError:
            return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return None
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    if mallopt(M_ARENA_MAX, arenas) != 1:  # mallopt returns 1 on success
        log.warning("could not limit malloc arenas to %d; memory may grow with videos", arenas)
        return None
    return arenas
