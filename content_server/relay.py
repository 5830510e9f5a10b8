"""A gate relay on engines people already run: nginx and Mosquitto configs for a small box
at a border gate, written by ``content-server relay-config``.

The gate's screens use the relay as their ``server_url`` and ``mqtt_url``:

- **nginx** caches ``GET /api/v1/assets/{sha256}``. An asset is named by its hash and
  never changes, so each byte crosses the gate's uplink once, whichever screen asked
  first. The ``slice`` module fetches and caches an asset in slices (Range requests to
  the city server), so a device resuming a download with ``Range``/``If-Range`` is served
  from the slices already here, and an uplink cut loses at most one slice. Before any
  cached byte goes out, ``auth_request`` asks the city server whether the request's device
  token may fetch that asset (the same URL with ``Range: bytes=0-0``); the answer is
  cached for a minute per token, and an answer seen before is reused while the city
  cannot be reached. Manifests, events and screenshots pass through, never cached.
- **Mosquitto** lets the gate's devices log in with their usual credentials (their
  password hashes from the server's store, only devices of the gate's subtree), under
  the city broker's ACL rules, and bridges to the city broker with the account
  ``relay-<gate>``: the devices' status and heartbeats go up, their commands and the
  alerts of their sites (and every site above) come down.

The relay cannot change what a screen shows: manifests and alerts are signed, and a
device stores an asset only if its sha256 is the one its signed manifest names.

This module writes files; it starts nothing. The bridge account's password is made
here and kept only in ``mosquitto.conf``; its hash goes into the server's store, and
the city broker learns it at its next ``content-server mqtt-config``.
"""

from __future__ import annotations

import base64
import grp
import hashlib
import hmac
import os
import pwd
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from . import broker
from .errors import InvalidInputError, NotFoundError
from .models import descendants
from .store import RelayStore, Store

DEFAULT_SLICE = "1m"
DEFAULT_CACHE_SIZE = "20g"
_SIZE_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


def relay_username(site_id: str) -> str:
    return f"relay-{site_id}"


def check_password(password: str, password_hash: str) -> bool:
    """Whether ``password`` is the one ``broker.hash_password`` hashed into ``password_hash``."""
    try:
        _, kind, iterations, salt, digest = password_hash.split("$")
        if kind != "7":
            return False
        again = hashlib.pbkdf2_hmac(
            "sha512", password.encode("utf-8"), base64.b64decode(salt), int(iterations)
        )
    except ValueError:
        return False
    return hmac.compare_digest(base64.b64encode(again).decode(), digest)


@dataclass(frozen=True)
class Endpoint:
    """``scheme://host:port`` of the city server or broker, as the relay reaches it."""

    scheme: str
    host: str
    port: int

    @property
    def hostport(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


def parse_endpoint(url: str, option: str, schemes: dict[str, int]) -> Endpoint:
    parts = urlsplit(url)
    names = " or ".join(f"{s}://" for s in schemes)
    if parts.scheme not in schemes or not parts.hostname:
        raise InvalidInputError(f"{option} {url!r} must look like {names}host[:port]")
    if parts.path not in ("", "/") or parts.query or parts.username:
        raise InvalidInputError(f"{option} {url!r}: give only {names}host[:port], no path")
    try:
        port = parts.port or schemes[parts.scheme]
    except ValueError as e:
        raise InvalidInputError(f"{option} {url!r}: the port is not a number") from e
    return Endpoint(parts.scheme, parts.hostname, port)


def parse_size(text: str, option: str) -> int:
    """``16k``, ``1m``, ``20g`` (nginx's size syntax) in bytes."""
    value = text.strip().lower()
    unit = value[-1:] if value[-1:] in _SIZE_UNITS else ""
    number = value[: len(value) - len(unit)]
    if not number.isdigit() or int(number) == 0:
        raise InvalidInputError(f"{option} {text!r} must be a size like 512k, 1m or 20g")
    return int(number) * _SIZE_UNITS[unit]


@dataclass(frozen=True)
class RelayOptions:
    site_id: str
    upstream: str
    upstream_mqtt: str
    port: int
    mqtt_port: int
    out: Path
    listen: str = "0.0.0.0"
    slice_size: str = DEFAULT_SLICE
    cache_size: str = DEFAULT_CACHE_SIZE


@dataclass(frozen=True)
class RelayWritten:
    nginx_conf: Path
    mosquitto_conf: Path
    username: str
    devices: tuple[str, ...]
    new_password: bool  # the city broker must learn it (mqtt-config) before the bridge works


# --- nginx -------------------------------------------------------------------------------


def _proxy_headers(city: Endpoint) -> list[str]:
    lines = [
        "proxy_http_version 1.1;",
        'proxy_set_header Connection "";',
        f"proxy_set_header Host {city.hostport};",
        "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
    ]
    if city.scheme == "https":
        lines += [
            "proxy_ssl_server_name on;",
            f"proxy_ssl_name {city.host};",
            "proxy_ssl_verify on;",
            "proxy_ssl_trusted_certificate /etc/ssl/certs/ca-certificates.crt;",
        ]
    return lines


def _problem(status: int, title: str, detail: str) -> str:
    body = (
        f'{{"type":"about:blank","title":"{title}","status":{status},"detail":"{detail}"}}'
    ).replace("'", "\\'")
    return f"return {status} '{body}';"


def _nginx_user() -> str | None:
    """The user nginx's workers run as when the master starts as root (None: not root)."""
    if os.geteuid() != 0:
        return None
    for name in ("www-data", "nobody"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return name
    return None


def nginx_conf(o: RelayOptions, city: Endpoint, folder: Path, user: str | None) -> str:
    n = folder / "nginx"
    upstream = f"{'https' if city.scheme == 'https' else 'http'}://city"
    proxy = "\n".join(f"            {line}" for line in _proxy_headers(city))
    listen = f"[{o.listen}]" if ":" in o.listen else o.listen
    user_line = (
        f"user {user};  # relay-config ran as root: workers drop to this user"
        if user
        else "# no `user`: nginx runs as whoever starts it"
    )
    return f"""# Written by `content-server relay-config` for gate {o.site_id}; edits are lost.
# Start: nginx -c {folder}/nginx.conf          (in a terminal or a systemd unit of
#        Type=simple, add -g 'daemon off;')   Stop: nginx -c ... -s quit
{user_line}
worker_processes 1;
pid {n}/nginx.pid;
error_log {n}/error.log warn;

events {{
    worker_connections 1024;
}}

http {{
    default_type application/octet-stream;
    server_tokens off;
    log_format relay '$remote_addr [$time_iso8601] "$request" $status $body_bytes_sent '
                     'cache=$upstream_cache_status uplink_bytes=$upstream_bytes_received';
    access_log {n}/access.log relay;
    client_body_temp_path {n}/tmp/body;
    proxy_temp_path {n}/tmp/proxy;
    fastcgi_temp_path {n}/tmp/fastcgi;
    uwsgi_temp_path {n}/tmp/uwsgi;
    scgi_temp_path {n}/tmp/scgi;

    # Assets by hash: kept a year after their last use, at most {o.cache_size}.
    proxy_cache_path {n}/cache/assets levels=1:2 keys_zone=relay_assets:10m
                     max_size={o.cache_size} inactive=365d use_temp_path=off;
    # The city server's answer "this device token may fetch assets", one file per token.
    proxy_cache_path {n}/cache/auth levels=1:2 keys_zone=relay_auth:1m
                     max_size=64m inactive=1h use_temp_path=off;

    upstream city {{
        server {city.hostport};
        keepalive 8;
    }}

    server {{
        listen {listen}:{o.port};
        client_max_body_size 9m;    # a device's screenshot upload (the server takes 8 MiB)
        proxy_connect_timeout 10s;
        proxy_read_timeout 120s;
        default_type application/problem+json;

        # An asset, named by its sha256: cached in slices of {o.slice_size}, each fetched
        # once from the city; only for a device token the city server accepts.
        location ~ "^/api/v1/assets/[0-9a-f]{{64}}$" {{
            auth_request /_relay/token;
            slice {o.slice_size};
            proxy_cache relay_assets;
            proxy_cache_key $uri$slice_range;
            proxy_cache_valid 200 206 365d;
            proxy_cache_lock on;            # one fetch per slice, whoever asks
            proxy_cache_lock_timeout 300s;
            proxy_cache_lock_age 300s;
{proxy}
            proxy_set_header Range $slice_range;
            proxy_pass {upstream};
            error_page 401 = @relay_token_refused;
            error_page 500 502 503 504 = @relay_uplink_down;
        }}

        # Asked by auth_request: may this token fetch this asset? One byte of it, from
        # the city server, which checks the token first. Cached per token for a minute
        # (a refusal for 10 s); a cached answer is reused while the city is unreachable.
        location = /_relay/token {{
            internal;
            proxy_cache relay_auth;
            proxy_cache_key $http_authorization;
            proxy_cache_valid 200 206 404 416 60s;
            proxy_cache_valid 401 403 10s;
            proxy_cache_use_stale error timeout http_500 http_502 http_503 http_504;
            proxy_ignore_headers Cache-Control Expires Set-Cookie;
            proxy_pass_request_body off;
{proxy}
            proxy_set_header Content-Length "";
            proxy_set_header Range "bytes=0-0";
            proxy_set_header If-Range "";
            proxy_set_header If-None-Match "";
            proxy_pass {upstream}$request_uri;
            # 404/416: the token is good (the city checks it before the asset); the
            # asset request itself then gets the city's own answer.
            proxy_intercept_errors on;
            error_page 404 416 = @relay_token_ok;
        }}
        location @relay_token_ok {{
            return 204;
        }}
        location @relay_token_refused {{
            add_header WWW-Authenticate Bearer always;
            {
        _problem(
            401,
            "Unauthorized",
            "the device token is not valid at the city server: "
            "it is wrong, or the device was re-enrolled or revoked; enrol it again "
            "with content-server add-device --replace",
        )
    }
        }}
        location @relay_uplink_down {{
            add_header Retry-After 60 always;
            {
        _problem(
            503,
            "Service Unavailable",
            "the gate relay cannot reach the city "
            "server for this; the screen keeps playing what it holds and tries "
            "again later",
        )
    }
        }}

        # Manifests, events, screenshots: passed through to the city, never cached.
        location /api/v1/devices/ {{
            proxy_cache off;
            proxy_buffering off;
            proxy_request_buffering off;
{proxy}
            proxy_pass {upstream};
            error_page 502 503 504 = @relay_uplink_down;
        }}
        location = /api/v1/keys {{
{proxy}
            proxy_pass {upstream};
            error_page 502 503 504 = @relay_uplink_down;
        }}
        location = /healthz {{
{proxy}
            proxy_pass {upstream};
            error_page 502 503 504 = @relay_uplink_down;
        }}
        location / {{
            {
        _problem(
            404,
            "Not Found",
            "this is a gate relay: it serves the screens "
            "of its gate only; use the city server for anything else",
        )
    }
        }}
    }}
}}
"""


# --- Mosquitto ---------------------------------------------------------------------------


def mosquitto_conf(
    o: RelayOptions, city: Endpoint, folder: Path, relay: broker.RelayAccount, password: str
) -> str:
    m = folder / "mosquitto"
    listen = o.listen
    lines = [
        f"# Written by `content-server relay-config` for gate {o.site_id}; edits are overwritten.",
        f"# Start: mosquitto -c {folder}/mosquitto.conf    Reload accounts: kill -HUP <pid>",
        "# It holds the bridge's password: keep it readable by root and Mosquitto only.",
        "per_listener_settings false",
        f"listener {o.mqtt_port} {listen}",
        "allow_anonymous false",
        "use_username_as_clientid true",
        f"password_file {folder / 'mosquitto.passwd'}",
        f"acl_file {folder / 'mosquitto.acl'}",
        "max_packet_size 65536",
        f"pid_file {m / 'mosquitto.pid'}",
        "persistence true",
        f"persistence_location {m}/",
        "autosave_interval 60",
        f"log_dest file {m / 'mosquitto.log'}",
        "log_type error",
        "log_type warning",
        "log_type notice",
        "",
        "# The bridge to the city broker: this gate's devices only.",
        "connection city",
        f"address {city.hostport}",
        f"remote_username {relay.username}",
        f"remote_password {password}",
        f"remote_clientid {relay.username}",
        "cleansession false",  # commands sent while the uplink is down wait at the city
        "keepalive_interval 60",
        "restart_timeout 2 30",
        "notifications false",
        "try_private true",  # the city keeps alerts' retain flag for us
    ]
    if city.scheme == "mqtts":
        lines += ["bridge_capath /etc/ssl/certs", "bridge_insecure false"]
    lines += [f"topic {t} {'out' if up else 'in'} 1" for t, up in broker.relay_topics(relay)]
    return "\n".join(lines) + "\n"


def _existing_password(conf: Path, password_hash: str | None) -> str | None:
    """The bridge password already in ``conf``, if the store's hash still matches it."""
    if password_hash is None or not conf.exists():
        return None
    for line in conf.read_text(encoding="utf-8").splitlines():
        if line.startswith("remote_password "):
            password = line.split(" ", 1)[1].strip()
            return password if check_password(password, password_hash) else None
    return None


def _write(path: Path, text: str, mode: int, group: int | None) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(tmp, mode)
    if group is not None:
        os.chown(tmp, 0, group)
    os.replace(tmp, path)


def _mosquitto_ids() -> tuple[int, int] | None:
    """(uid, gid) of the ``mosquitto`` user when we are root (it drops to that user)."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam("mosquitto").pw_uid, grp.getgrnam("mosquitto").gr_gid
    except KeyError:
        return None


def write_relay(store: Store, o: RelayOptions, now: str) -> RelayWritten:
    """Write the relay's files into ``o.out`` and record its bridge account in the store."""
    city = parse_endpoint(o.upstream, "--upstream", {"http": 80, "https": 443})
    city_mqtt = parse_endpoint(o.upstream_mqtt, "--upstream-mqtt", {"mqtt": 1883, "mqtts": 8883})
    for option, port in (("--port", o.port), ("--mqtt-port", o.mqtt_port)):
        if not 0 < port < 65536:
            raise InvalidInputError(f"{option} {port} is not a TCP port (1-65535)")
    if o.port == o.mqtt_port:
        raise InvalidInputError("--port and --mqtt-port must differ")
    parse_size(o.slice_size, "--slice-size")
    parse_size(o.cache_size, "--cache-size")
    sites = store.sites()
    if o.site_id not in sites:
        known = ", ".join(sorted(sites)) or "none yet"
        raise NotFoundError(f"no site {o.site_id!r} on this server (sites: {known})")
    username = relay_username(o.site_id)
    if store.device(username) is not None:
        raise InvalidInputError(
            f"a device is enrolled as {username!r}, the name of this gate's relay account; "
            "revoke it and enrol it under another id"
        )
    folder = o.out.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o755)  # nginx's workers and Mosquitto must reach their subfolders
    for sub in ("nginx", "nginx/tmp", "nginx/cache", "mosquitto"):
        (folder / sub).mkdir(exist_ok=True)
        os.chmod(folder / sub, 0o755)  # nginx makes the folders below and gives them to its user
    mosquitto_ids = _mosquitto_ids()
    if mosquitto_ids is not None:
        os.chown(folder / "mosquitto", *mosquitto_ids)
    group = mosquitto_ids[1] if mosquitto_ids else None
    secret_mode = 0o640 if group is not None else 0o600

    below = descendants(o.site_id, sites)
    devices = [d for d in broker.device_accounts(store) if d.site_id in below]
    relays = RelayStore(store)
    with store.transaction():
        row = relays.relay(o.site_id)
        conf_path = folder / "mosquitto.conf"
        password = _existing_password(conf_path, row.password_hash if row else None)
        new_password = password is None
        if password is None:
            password = secrets.token_urlsafe(24)
            relays.put_relay(o.site_id, username, broker.hash_password(password), now)
        account = next(r for r in broker.relay_accounts(store) if r.site_id == o.site_id)
        _write(folder / "mosquitto.acl", broker.acl_text(devices), secret_mode, group)
        _write(
            folder / "mosquitto.passwd",
            "".join(f"{d.device_id}:{d.passwd_hash()}\n" for d in devices),
            secret_mode,
            group,
        )
        _write(
            conf_path, mosquitto_conf(o, city_mqtt, folder, account, password), secret_mode, group
        )
        nginx_path = folder / "nginx.conf"
        _write(nginx_path, nginx_conf(o, city, folder, _nginx_user()), 0o644, None)
    return RelayWritten(
        nginx_path, conf_path, username, tuple(d.device_id for d in devices), new_password
    )
