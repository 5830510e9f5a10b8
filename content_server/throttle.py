"""Slowing down password guessing: failed sign-ins per user name and per client address.

After ``max_failures`` failures for one user name (or ``max_per_address`` from
one address) within ``window_s``, further attempts are refused with 429 for
``lockout_s`` seconds, even with the right password. A success clears the
user name's count. Counts live in memory (one server process); a restart
forgets them, which only gives an attacker one more short window. Time is an
argument (monotonic seconds), so tests need no sleeping.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from dataclasses import dataclass

from .errors import TooManyRequestsError


@dataclass(frozen=True)
class ThrottleRules:
    max_failures: int = 5
    max_per_address: int = 20
    window_s: float = 900.0
    lockout_s: float = 300.0


class LoginThrottle:
    def __init__(self, rules: ThrottleRules) -> None:
        self.rules = rules
        self._failures: dict[str, deque[float]] = {}
        self._locked_until: dict[str, float] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _keys(username: str, address: str) -> list[tuple[str, int]]:
        return [(f"user:{username.casefold()}", 0), (f"addr:{address}", 1)]

    def check(self, username: str, address: str, now: float) -> None:
        """Raise ``TooManyRequestsError`` if this user name or address is locked out."""
        with self._lock:
            waits = [
                self._locked_until[key] - now
                for key, _ in self._keys(username, address)
                if self._locked_until.get(key, 0.0) > now
            ]
        if waits:
            wait = max(1, math.ceil(max(waits)))
            raise TooManyRequestsError(
                f"too many failed sign-ins for this user or from this address; wait {wait} "
                "seconds and try again, or ask an administrator to check the account",
                retry_after=wait,
            )

    def failed(self, username: str, address: str, now: float) -> None:
        limits = (self.rules.max_failures, self.rules.max_per_address)
        with self._lock:
            for key, which in self._keys(username, address):
                times = self._failures.setdefault(key, deque())
                times.append(now)
                while times and times[0] <= now - self.rules.window_s:
                    times.popleft()
                if len(times) >= limits[which]:
                    self._locked_until[key] = now + self.rules.lockout_s
                    times.clear()

    def succeeded(self, username: str) -> None:
        with self._lock:
            self._failures.pop(f"user:{username.casefold()}", None)
