"""The ``content-server`` command line's arguments: every command and its options.

``content_server.cli`` runs the commands; this module only describes them, so the
help text of every option sits in one place.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from .backup import SKIP_VERSIONS
from .enrollment import DEFAULT_DEVICE_DATA_DIR

PROG = "content-server"
Handler = Callable[[argparse.Namespace], int]


def build_parser(handlers: Mapping[str, Handler]) -> argparse.ArgumentParser:
    """Every command and its options; ``handlers`` maps a command's name to its function."""
    parser = argparse.ArgumentParser(
        prog=PROG, description="Content server of the border-gate signage."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help: str) -> Any:
        p = sub.add_parser(name, help=help, description=help)
        p.add_argument(
            "--data-dir",
            type=Path,
            help="the server's data folder (or CONTENT_SERVER_DATA_DIR)",
        )
        p.set_defaults(func=handlers[name])
        return p

    p = command("init", "create a data folder: database, signing key, first admin")
    p.add_argument("--admin-user", default="admin", help="name of the first admin (admin)")
    p.add_argument(
        "--admin-password-file",
        type=Path,
        help="file holding the admin's password; without it one is made and printed once",
    )

    p = command("serve", "run the HTTP server")
    p.add_argument("--host", help="address to listen on (127.0.0.1)")
    p.add_argument("--port", type=int, help="port to listen on (8000)")
    p.add_argument("--mqtt-url", help="the broker, like mqtt://127.0.0.1:1883")
    p.add_argument(
        "--mqtt-ca-file",
        type=Path,
        help="with an mqtts:// --mqtt-url: the CA (PEM) that signed the broker's certificate",
    )
    p.add_argument(
        "--no-access-log",
        action="store_true",
        help="no log line per request (or CONTENT_SERVER_ACCESS_LOG=false)",
    )

    p = command("import", "load sites and playlists from YAML and publish changes")
    p.add_argument("folder", type=Path, metavar="DIR", help="folder of .yaml files")

    p = command("add-device", "enrol a device and write its configuration")
    p.add_argument("--site", required=True, help="id of the site the device is at")
    p.add_argument("--device-id", required=True, help="new device id, like adot-hall-1")
    p.add_argument("--server-url", required=True, help="this server as the device reaches it")
    p.add_argument("--mqtt-url", required=True, help="the broker as the device reaches it")
    p.add_argument(
        "--mqtt-ca-file",
        help="with an mqtts:// --mqtt-url: path ON THE DEVICE of the CA (PEM) that signed the "
        "broker's certificate, written as mqtt_ca_file (copy that file there too)",
    )
    p.add_argument("--config-out", required=True, type=Path, help="TOML file to write")
    p.add_argument(
        "--device-data-dir",
        default=DEFAULT_DEVICE_DATA_DIR,
        help=f"data_dir written in the configuration ({DEFAULT_DEVICE_DATA_DIR})",
    )
    p.add_argument(
        "--replace",
        action="store_true",
        help="the device exists: give it new credentials and overwrite the configuration",
    )

    command("publish", "sign a new manifest for every device")

    p = command("mqtt-config", "write Mosquitto's passwd, acl and config")
    p.add_argument("--out", required=True, type=Path, help="folder to write the files into")
    p.add_argument("--port", required=True, type=int, help="port Mosquitto listens on")
    p.add_argument("--host", default="127.0.0.1", help="address Mosquitto listens on")
    p.add_argument(
        "--server-port",
        type=int,
        help="also listen on 127.0.0.1:PORT for the server's own connections (serve's "
        "--mqtt-url, the command line); recommended: see docs/operations.md",
    )
    p.add_argument("--tls-cert", type=Path, help="TLS on --port: the broker's certificate (PEM)")
    p.add_argument("--tls-key", type=Path, help="TLS on --port: its private key (PEM)")
    p.add_argument(
        "--tls-ca", type=Path, help="TLS on --port: the CA of device client certificates (PEM)"
    )
    p.add_argument(
        "--server-password-file",
        type=Path,
        help="the server's MQTT password (default: the one init wrote in the data folder)",
    )
    revoke = command("revoke-device", "revoke a device's credentials")
    for q in (p, revoke):
        q.add_argument(
            "--reload-pid", type=int, metavar="PID", help="send Mosquitto (this pid) SIGHUP"
        )
        q.add_argument(
            "--reload-pid-file", type=Path, metavar="FILE", help="send SIGHUP to the pid in FILE"
        )
    p = revoke
    p.add_argument("device_id", metavar="DEVICE_ID", help="the device to revoke")
    p.add_argument("--mqtt-dir", type=Path, help="the folder mqtt-config wrote: rewrite it now")
    p.add_argument(
        "--server-password-file",
        type=Path,
        help="the server's MQTT password (default: the one init wrote in the data folder)",
    )

    p = command("relay-config", "write nginx and Mosquitto configs for a gate")
    p.add_argument("--site", required=True, help="the gate's site: its whole subtree is served")
    p.add_argument("--upstream", required=True, help="the city server, like https://signage.hue")
    p.add_argument("--upstream-mqtt", required=True, help="the city broker, like mqtts://host:8883")
    p.add_argument("--port", required=True, type=int, help="port nginx listens on for devices")
    p.add_argument("--mqtt-port", required=True, type=int, help="port Mosquitto listens on")
    p.add_argument("--out", required=True, type=Path, help="folder for every file of the relay")
    p.add_argument("--listen", default="0.0.0.0", help="address both listen on (0.0.0.0)")
    p.add_argument("--slice-size", default="1m", help="assets are fetched in slices of (1m)")
    p.add_argument("--cache-size", default="20g", help="most disk the asset cache uses (20g)")

    p = command("rotate-key", "rotate the signing key without visiting devices")
    step = p.add_mutually_exclusive_group()
    step.add_argument(
        "--finish",
        action="store_true",
        help="retire the old key once every device has learned the new one",
    )
    step.add_argument(
        "--status", action="store_true", help="show which devices have learned the new key"
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="with --finish: finish even though some devices have not caught up",
    )

    p = command("backup", "write the database, keys and assets into one file")
    p.add_argument("--out", required=True, type=Path, help="the backup file to write")
    p = command("restore", "make a new data folder (--data-dir) from a backup")
    p.add_argument("archive", type=Path, metavar="FILE", help="a file written by backup")
    p.add_argument(
        "--skip-versions",
        type=int,
        default=SKIP_VERSIONS,
        help=f"manifest versions left unused, past any the lost server handed out "
        f"after the backup ({SKIP_VERSIONS})",
    )
    return parser
