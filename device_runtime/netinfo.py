"""This machine's network addresses, for the maintenance overlay a technician reads.

Linux only (the devices run Debian): IPv4 addresses from ``SIOCGIFADDR`` per
interface, IPv6 from ``/proc/net/if_inet6``; loopback left out. Never raises: an
interface that cannot be read is skipped.
"""

from __future__ import annotations

import fcntl
import ipaddress
import socket
import struct
from pathlib import Path

SIOCGIFADDR = 0x8915


def _ipv4(name: str) -> str | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            packed = fcntl.ioctl(s.fileno(), SIOCGIFADDR, struct.pack("256s", name.encode()[:15]))
        except OSError:
            return None
    return socket.inet_ntoa(packed[20:24])


def _ipv6(proc: Path = Path("/proc/net/if_inet6")) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    try:
        lines = proc.read_text().splitlines()
    except OSError:
        return out
    for line in lines:
        parts = line.split()
        if len(parts) < 6:
            continue
        try:
            address = ipaddress.IPv6Address(bytes.fromhex(parts[0]))
        except ValueError:
            continue
        if not address.is_loopback:
            out.setdefault(parts[5], []).append(str(address))
    return out


def addresses() -> list[str]:
    """``["eth0 192.168.1.20", "eth0 fe80::…", …]``: every non-loopback address."""
    out: list[str] = []
    v6 = _ipv6()
    try:
        names = [name for _i, name in socket.if_nameindex()]
    except OSError:
        names = []
    for name in names:
        if name == "lo":
            continue
        v4 = _ipv4(name)
        if v4 is not None:
            out.append(f"{name} {v4}")
        out.extend(f"{name} {a}" for a in v6.get(name, []))
    return out
