"""Slowing down password guessing without letting an attacker lock a guard out.

Failed attempts are counted per *user name and client address together*, and
per address alone. After ``max_failures`` failures of one pair (or
``max_per_address`` from one address) within ``window_s``, the next attempt
must wait ``lockout_s`` seconds, and every further failure doubles the wait,
up to ``max_lockout_s``. While waiting, attempts are refused with 429 even with
the right password. A success clears the pair's count (not the address's).

An attacker guessing a guard's password from one address therefore slows down
only themselves: the guard, signing in from the post's own address, is not
locked. An attacker with many addresses gets ``max_failures`` quick guesses per
address and then a doubling wait each; the address count stops one address
from spraying many user names.

Memory is bounded: keys are fixed-size digests (a long user name costs nothing
more), and each table keeps at most ``max_entries`` keys, forgetting the least
recently failed first. Counts live in memory (one server process); a restart
forgets them. Time is an argument (monotonic seconds), so tests need no sleeping.
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections import OrderedDict
from dataclasses import dataclass

from .errors import TooManyRequestsError


@dataclass(frozen=True)
class ThrottleRules:
    max_failures: int = 5
    max_per_address: int = 20
    window_s: float = 900.0
    lockout_s: float = 60.0
    max_lockout_s: float = 3600.0
    max_entries: int = 10_000


@dataclass
class _Count:
    failures: int = 0
    last: float = 0.0
    locked_until: float = 0.0


class _Table:
    """Failure counts per key, least recently failed first, at most ``cap`` keys."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.counts: OrderedDict[bytes, _Count] = OrderedDict()

    def wait(self, key: bytes, now: float) -> float:
        count = self.counts.get(key)
        return 0.0 if count is None else max(0.0, count.locked_until - now)

    def fail(self, key: bytes, now: float, limit: int, rules: ThrottleRules) -> None:
        count = self.counts.pop(key, None) or _Count()
        if now - count.last > rules.window_s:
            count.failures = 0
        count.failures += 1
        count.last = now
        if count.failures >= limit:
            excess = min(count.failures - limit, 32)
            count.locked_until = now + min(rules.max_lockout_s, rules.lockout_s * 2**excess)
        self.counts[key] = count
        while len(self.counts) > self.cap:
            self.counts.popitem(last=False)


def _digest(*parts: str) -> bytes:
    return hashlib.blake2b("\0".join(parts).encode("utf-8", "replace"), digest_size=16).digest()


class LoginThrottle:
    def __init__(self, rules: ThrottleRules) -> None:
        self.rules = rules
        self._pairs = _Table(rules.max_entries)
        self._addresses = _Table(rules.max_entries)
        self._lock = threading.Lock()

    def __len__(self) -> int:
        """Keys held, both tables together (bounded by twice ``max_entries``)."""
        return len(self._pairs.counts) + len(self._addresses.counts)

    @staticmethod
    def _pair(username: str, address: str) -> bytes:
        return _digest("pair", username.casefold(), address)

    def check(self, username: str, address: str, now: float) -> None:
        """Raise ``TooManyRequestsError`` if this user at this address must wait."""
        with self._lock:
            wait = max(
                self._pairs.wait(self._pair(username, address), now),
                self._addresses.wait(_digest("address", address), now),
            )
        if wait > 0:
            seconds = max(1, math.ceil(wait))
            raise TooManyRequestsError(
                f"too many failed attempts for this user from this address; wait {seconds} "
                "seconds and try again, or ask an administrator to check the account",
                retry_after=seconds,
            )

    def failed(self, username: str, address: str, now: float) -> None:
        with self._lock:
            pair, addr = self._pair(username, address), _digest("address", address)
            self._pairs.fail(pair, now, self.rules.max_failures, self.rules)
            self._addresses.fail(addr, now, self.rules.max_per_address, self.rules)

    def succeeded(self, username: str, address: str) -> None:
        with self._lock:
            self._pairs.counts.pop(self._pair(username, address), None)
