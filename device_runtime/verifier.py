"""Background re-hashing of the asset cache, at low priority.

Bits rot on the cheap flash of a border-post mini-PC. Every
``verify_interval_s`` the ``CacheVerifier`` thread re-hashes every cached file
(``Syncer.verify_cache``): at the lowest CPU priority the kernel gives a thread
(``setpriority`` on its own thread id, Linux), and resting between two files
three times as long as the last file took, so it uses at most about a quarter
of a core and of the disk. A corrupt file is deleted and the sync worker woken
to fetch it again. The full-speed check on start is the sync worker's.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable

from .syncer import Syncer

log = logging.getLogger(__name__)

# Rest between two files, as a multiple of the time the last one took.
REST_FACTOR = 3.0
MIN_REST_S = 0.01


class CacheVerifier:
    def __init__(
        self,
        syncer: Syncer,
        interval_s: float,
        on_corrupt: Callable[[], None],
        stop: threading.Event,
    ) -> None:
        self.syncer = syncer
        self.interval_s = interval_s
        self.on_corrupt = on_corrupt
        self._stop = stop
        self._thread: threading.Thread | None = None
        self.passes = 0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="cache-verifier", daemon=True)
        self._thread.start()

    def join(self, timeout: float) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        try:  # Linux: a thread's nice value is its own
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
        except (AttributeError, OSError) as e:
            log.debug("cache: cannot lower the verifier's priority: %s", e)
        while not self._stop.wait(self.interval_s):
            self.run_pass()

    def run_pass(self) -> list[str]:
        """One throttled pass over the cache; wake the sync worker if a file was bad."""
        last = [time.monotonic()]

        def rest() -> None:
            took = time.monotonic() - last[0]
            self._stop.wait(max(MIN_REST_S, took * REST_FACTOR))
            last[0] = time.monotonic()

        removed = self.syncer.verify_cache(pause=rest, should_stop=self._stop.is_set)
        self.passes += 1
        if any(len(name) == 64 for name in removed):
            self.on_corrupt()
        return removed
