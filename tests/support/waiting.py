"""Waiting in tests: for a condition, a port, a free port. One home for all of them.

``wait_until(check, timeout, what)`` polls ``check`` until it returns something true
and returns that; past ``timeout`` it fails saying what it waited for (and, with
``logs``, what the processes said). Bounds are generous: CI shares two cores.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from scripts.loopback.ports import free_port, wait_port

__all__ = ["free_port", "wait_port", "wait_until"]

T = TypeVar("T")


def wait_until(
    check: Callable[[], T],
    timeout: float = 10.0,
    what: str = "the condition",
    *,
    step: float = 0.05,
    logs: Callable[[], str] | None = None,
) -> T:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            told = f"\n{logs()}" if logs is not None else ""
            raise AssertionError(f"timed out after {timeout}s waiting for {what}{told}")
        time.sleep(step)
