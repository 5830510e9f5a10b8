"""Mosquitto's password file, ACL and config, written from the server's accounts.

A device's MQTT username is its id. The ACL lets a device write only its own
``signage/v1/devices/<id>/status`` and ``/heartbeat``, read its own ``cmd``
and the ``alert`` of its site and of every site above it (an alert for the
gate ``adot`` reaches the screens of ``adot-hall``); the server's account reads
and writes everything under ``signage/v1/``. Anonymous clients are refused;
a revoked device has no line in the password file, so it is refused too.
A gate relay's bridge account (``relay-<gate>``, see ``content_server.relay``)
may write only the status and heartbeat of the devices below its gate and read
only their ``cmd`` and the alerts of their sites and the sites above.

The listener devices use replaces every client id with the username
(``use_username_as_clientid``): a device's client id is its id whatever it
sends, so device B, logged in with its own password, cannot take device A's
client id and knock A off the broker. The server's own connections (the
ingest, the command line, an operator's ``mosquitto_sub``) are several at once
under one account, so they get a second listener on loopback (``server_port``)
where client ids are as sent; without one they share the device listener and a
second server connection replaces the first.

TLS (``TlsListener``): the device listener can take a certificate and key
(and a CA to check client certificates, when devices present one); the
server's loopback listener stays plain.

After rewriting the files, ``reload(pid)`` sends Mosquitto SIGHUP: it re-reads
the password file and the ACL without dropping anyone else's connection.

Mosquitto started as root drops to the ``mosquitto`` user, so every file here
is written readable by others (the caller picks a folder that user can reach;
on a real deployment the operator narrows this to the ``mosquitto`` group).
Passwords are hashed as Mosquitto 2 does (``$7$``: PBKDF2-HMAC-SHA512).
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import signal
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from signage_core import topics

from .models import site_chain
from .store import Store

SERVER_USER = "content-server"
_ITERATIONS = 101


def hash_password(password: str, salt: bytes | None = None) -> str:
    salt = salt if salt is not None else secrets.token_bytes(12)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), salt, _ITERATIONS)
    b64 = base64.b64encode
    return f"$7${_ITERATIONS}${b64(salt).decode()}${b64(digest).decode()}"


@dataclass(frozen=True)
class TlsListener:
    """The device listener's TLS files (paths as Mosquitto, run as ``mosquitto``, reads them)."""

    certfile: Path
    keyfile: Path
    cafile: Path | None = None  # set: devices may present a client certificate signed by it

    def conf_lines(self) -> list[str]:
        lines = [f"certfile {self.certfile}", f"keyfile {self.keyfile}"]
        if self.cafile is not None:
            lines += [f"cafile {self.cafile}", "require_certificate false"]
        return lines


@dataclass(frozen=True)
class DeviceAccount:
    device_id: str
    site_id: str
    password: str = ""
    # Or the password already hashed by ``hash_password`` (the server stores only this).
    password_hash: str = ""
    # Sites whose alerts it may read: its own and every ancestor (default: its own).
    alert_sites: tuple[str, ...] = ()

    @property
    def readable_alert_sites(self) -> tuple[str, ...]:
        return self.alert_sites or (self.site_id,)

    def passwd_hash(self) -> str:
        if self.password_hash:
            return self.password_hash
        if not self.password:
            raise ValueError(f"device {self.device_id}: no MQTT password nor hash")
        return hash_password(self.password)


@dataclass(frozen=True)
class RelayAccount:
    """A gate relay's bridge on this broker: it carries its gate's devices' topics."""

    username: str
    site_id: str
    password_hash: str
    devices: tuple[str, ...]  # the devices of the gate's subtree
    alert_sites: tuple[str, ...]  # their sites and every site above them


def relay_topics(relay: RelayAccount) -> list[tuple[str, bool]]:
    """Every topic a gate's bridge carries, named one by one (no wildcard reaches another
    gate), with True where it goes up to the city: its devices' status and heartbeats up,
    their commands and the alerts of their sites down. The city's ACL (``relay_acl_lines``)
    and the gate's bridge (``relay.mosquitto_conf``) both follow it."""
    carried: list[tuple[str, bool]] = []
    for d in sorted(relay.devices):
        carried += [
            (topics.status_topic(d), True),
            (topics.heartbeat_topic(d), True),
            (topics.cmd_topic(d), False),
        ]
    carried += [(topics.alert_topic(s), False) for s in sorted(relay.alert_sites)]
    return carried


def relay_acl_lines(relay: RelayAccount) -> list[str]:
    """The bridge's own topics at the city broker: it writes what goes up, reads the rest."""
    lines = [f"user {relay.username}"]
    lines += [f"topic {'write' if up else 'read'} {t}" for t, up in relay_topics(relay)]
    return lines


def acl_text(devices: list[DeviceAccount], relays: Sequence[RelayAccount] = ()) -> str:
    p = topics.PREFIX
    lines = [
        "# Written by content-server; edits are overwritten.",
        "# Every device: only its own topics (%u is the MQTT username = the device id).",
        f"pattern write {p}/devices/%u/status",
        f"pattern write {p}/devices/%u/heartbeat",
        f"pattern read {p}/devices/%u/cmd",
        "",
        f"user {SERVER_USER}",
        f"topic readwrite {p}/#",
    ]
    for d in sorted(devices, key=lambda d: d.device_id):
        lines += ["", f"user {d.device_id}"]
        lines += [f"topic read {topics.alert_topic(s)}" for s in d.readable_alert_sites]
    for r in sorted(relays, key=lambda r: r.username):
        lines += ["", *relay_acl_lines(r)]
    return "\n".join(lines) + "\n"


def passwd_text(accounts: Mapping[str, str]) -> str:
    return "".join(f"{user}:{hash_password(pw)}\n" for user, pw in sorted(accounts.items()))


def _write(path: Path, text: str, mode: int = 0o644) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def write_accounts(
    folder: Path,
    *,
    server_password: str,
    devices: list[DeviceAccount],
    relays: Sequence[RelayAccount] = (),
) -> None:
    """Rewrite ``passwd`` and ``acl`` in ``folder`` (the config stays as it is)."""
    hashes = {d.device_id: d.passwd_hash() for d in devices}
    hashes.update((r.username, r.password_hash) for r in relays)
    hashes[SERVER_USER] = hash_password(server_password)
    _write(folder / "passwd", "".join(f"{u}:{h}\n" for u, h in sorted(hashes.items())))
    _write(folder / "acl", acl_text(devices, relays))


def read_pid(path: Path) -> int:
    """The process id written in a pid file; ``ValueError`` saying what is wrong."""
    try:
        text = path.read_text(encoding="ascii").strip()
    except OSError as e:
        raise ValueError(f"cannot read the pid file {path}: {e.strerror or e}") from e
    if not text.isdigit():
        raise ValueError(f"the pid file {path} does not hold a process id")
    return int(text)


def reload(pid: int) -> None:
    """Make the Mosquitto with this pid re-read its password file and ACL (SIGHUP)."""
    try:
        os.kill(pid, signal.SIGHUP)
    except ProcessLookupError as e:
        raise ValueError(f"no process {pid}: is Mosquitto running?") from e


def write_broker_files(
    folder: Path,
    *,
    port: int,
    server_password: str,
    devices: list[DeviceAccount],
    host: str = "127.0.0.1",
    persistence: bool = False,
    server_port: int | None = None,
    tls: TlsListener | None = None,
    relays: Sequence[RelayAccount] = (),
) -> Path:
    """Write ``passwd``, ``acl`` and ``mosquitto.conf`` into ``folder``; return the config path.

    ``port``/``host``: the listener devices use (client id = username; TLS if ``tls``).
    ``server_port``: a plain loopback listener for the server's own connections."""
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o755)
    write_accounts(folder, server_password=server_password, devices=devices, relays=relays)
    conf = [
        "# Written by content-server. TLS on a real deployment: see docs/operations.md.",
        "per_listener_settings false",
        "# Devices: the client id is the username, so no device can take another's.",
        f"listener {port} {host}",
        "use_username_as_clientid true",
        *(tls.conf_lines() if tls is not None else []),
    ]
    if server_port is not None:
        conf += [
            "# The content server's own connections (ingest, command line): loopback only.",
            f"listener {server_port} 127.0.0.1",
        ]
    conf += [
        "allow_anonymous false",
        f"password_file {folder / 'passwd'}",
        f"acl_file {folder / 'acl'}",
        "max_packet_size 65536",
        "log_dest stderr",
        "log_type error",
        "log_type warning",
        "log_type notice",
    ]
    if persistence:
        store = folder / "persistence"
        store.mkdir(exist_ok=True)
        conf += ["persistence true", f"persistence_location {store}/"]
    path = folder / "mosquitto.conf"
    _write(path, "\n".join(conf) + "\n")
    return path


def device_accounts(store: Store) -> list[DeviceAccount]:
    """Every device that is not revoked, with the sites whose alerts it may read."""
    sites = store.sites()
    return [
        DeviceAccount(
            d.id,
            d.site_id,
            password_hash=d.mqtt_password_hash,
            alert_sites=tuple(s.id for s in site_chain(d.site_id, sites)) or (d.site_id,),
        )
        for d in store.devices()
    ]


def revoke_device(store: Store, device_id: str, now: str, *, user: str, address: str) -> bool:
    """Mark the device revoked (its token stops working at once; its MQTT account when the
    broker files are next written). False if it was revoked already; ``KeyError`` if unknown."""
    with store.transaction():
        device = store.device(device_id)
        if device is None:
            raise KeyError(device_id)
        if device.revoked:
            return False
        store.set_device_revoked(device_id)
        store.audit(now, user, "revoke device", device_id, address, {"site": device.site_id})
    return True


def relay_accounts(store: Store) -> list[RelayAccount]:
    """The bridge account of every gate relay ``content-server relay-config`` made, with
    the devices (not revoked) of its gate's subtree and the sites whose alerts they read."""
    from .models import descendants
    from .store import RelayStore

    sites = store.sites()
    devices = device_accounts(store)
    accounts = []
    for row in RelayStore(store).relays():
        below = descendants(row.site_id, sites)
        mine = [d for d in devices if d.site_id in below]
        accounts.append(
            RelayAccount(
                row.username,
                row.site_id,
                row.password_hash,
                tuple(d.device_id for d in mine),
                tuple(sorted({s for d in mine for s in d.readable_alert_sites})),
            )
        )
    return accounts
