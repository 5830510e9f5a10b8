"""Per-device rate limits: one token bucket per key, time passed in.

A device may send ``burst`` units at once and ``rate_per_s`` units a second over
time (records on the events route, heartbeats on MQTT). ``take(key, n, now)``
answers 0.0 and spends the tokens if the device is within its allowance, or
the seconds it must wait, spending nothing. ``now`` is any clock in seconds (the
server's injected clock): a clock that goes back refills nothing.

Keys are ids of enrolled devices (they come from an authenticated request or a
topic the broker's ACL lets only that device write), so the map stays as small
as the fleet; it is still bounded, forgetting full buckets first.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

MAX_KEYS = 100_000


@dataclass
class _Bucket:
    tokens: float
    at: float


class TokenBuckets:
    def __init__(self, rate_per_s: float, burst: float) -> None:
        if rate_per_s <= 0 or burst <= 0:
            raise ValueError("a rate limit needs a positive rate and burst")
        self.rate_per_s = rate_per_s
        self.burst = burst
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def take(self, key: str, n: float, now: float) -> float:
        """Spend ``n`` tokens of ``key``'s bucket: 0.0, or the seconds to wait (nothing spent).

        ``n`` larger than the burst can never pass: ``math.inf``."""
        if n > self.burst:
            return math.inf
        with self._lock:
            b = self._buckets.get(key)
            if b is None:
                if len(self._buckets) >= MAX_KEYS:
                    self._forget(now)
                b = self._buckets[key] = _Bucket(self.burst, now)
            elif now > b.at:
                b.tokens = min(self.burst, b.tokens + (now - b.at) * self.rate_per_s)
                b.at = now
            if b.tokens >= n:
                b.tokens -= n
                return 0.0
            return (n - b.tokens) / self.rate_per_s

    def _forget(self, now: float) -> None:
        def is_full(b: _Bucket) -> bool:
            return b.tokens + (now - b.at) * self.rate_per_s >= self.burst

        full = [k for k, b in self._buckets.items() if is_full(b)]
        for k in full or list(self._buckets)[: len(self._buckets) // 2]:
            del self._buckets[k]
