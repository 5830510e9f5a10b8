"""systemd's notify protocol: ``READY=1``, ``WATCHDOG=1``, ``STOPPING=1``, without libsystemd.

A unit of ``Type=notify`` with ``WatchdogSec=`` gives the process ``NOTIFY_SOCKET``
(a Unix datagram socket; a leading ``@`` means the abstract namespace) and
``WATCHDOG_USEC``. The app says it is ready once it plays, then pings at least every
``WATCHDOG_USEC``; if the pings stop (the main loop is stuck), systemd kills the
process and ``Restart=`` starts it again. Outside systemd both variables are unset
and every call here does nothing.

What proves the app alive is the caller's business: the player pings from the Kivy
main loop (a frozen UI stops the pings), the headless runtime from its main thread.
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Mapping

# Ping twice per watchdog period: one late ping must not cost a restart.
PINGS_PER_PERIOD = 2


def notify(state: str, environ: Mapping[str, str] | None = None) -> bool:
    """Send ``state`` (like ``"READY=1"``) to systemd; False if not under systemd or it failed."""
    env = os.environ if environ is None else environ
    address = env.get("NOTIFY_SOCKET", "")
    if not address or address[0] not in "/@":
        return False
    target = "\0" + address[1:] if address[0] == "@" else address
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(target)
            sock.sendall(state.encode("utf-8"))
    except OSError:
        return False  # systemd gone or the socket refused: never worth stopping the app
    return True


def watchdog_interval(
    environ: Mapping[str, str] | None = None, frozen: bool | None = None
) -> float | None:
    """Seconds between ``WATCHDOG=1`` pings, or None if systemd expects none.

    ``WATCHDOG_PID``, when set, names the process the watchdog is meant for: a child
    that inherited the variables must not ping on its parent's behalf. One exception:
    in a one-file PyInstaller binary (``frozen``) systemd starts the bootloader, which
    runs the app in a child and waits for it; that child pings for its parent (the
    units say ``NotifyAccess=all`` to accept it).
    """
    env = os.environ if environ is None else environ
    if frozen is None:
        frozen = bool(getattr(sys, "frozen", False))
    pid = env.get("WATCHDOG_PID")
    ours = {str(os.getpid()), str(os.getppid())} if frozen else {str(os.getpid())}
    if pid and pid not in ours:
        return None
    try:
        usec = int(env.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    if usec <= 0:
        return None
    return usec / 1_000_000 / PINGS_PER_PERIOD
