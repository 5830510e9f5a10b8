"""systemd's side of ``sd_notify`` in tests: what a process told the socket until it stopped."""

from __future__ import annotations

import socket
import subprocess


def notifications_until_stopping(
    sock: socket.socket, proc: subprocess.Popen[bytes], timeout: float = 60
) -> list[bytes]:
    """The datagrams before ``STOPPING=1``; the process must then exit with 0.

    ``sock``'s own timeout bounds each wait; a process still running at the end is killed."""
    try:
        messages = []
        while (message := sock.recv(4096)) != b"STOPPING=1":
            messages.append(message)
        assert proc.wait(timeout=timeout) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return messages
