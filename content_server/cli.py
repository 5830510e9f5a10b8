"""``content-server``: the operator's commands.

    init          create a data folder: database, signing key, first admin
    serve         run the HTTP server
    import        load sites and playlists from YAML, then publish what changed
    add-device    enrol a device and write its configuration file
    publish       sign a new manifest for every device
    mqtt-config   write Mosquitto's password, ACL and config files (and reload it)
    revoke-device revoke a device: its token and its MQTT account stop working
    rotate-key    rotate the signing key: start, --status, --finish [--force]
    backup        write the database, keys and assets into one file (server may run)
    restore       make a new data folder from a backup
    relay-config  write nginx and Mosquitto configs for a gate relay (docs/operations.md)

Every failure is one line on stderr and a non-zero exit (1; 2 for a usage
error or an ``init`` that would overwrite a data folder); never a traceback.
The clock is read here, at the edge, and passed down.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import sqlite3
import sys
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from signage_core.signing import SigningKey
from signage_core.timefmt import format_time

from . import broker, importer
from .assets import AssetStore
from .backup import backup, restore
from .cli_args import PROG, build_parser
from .clock import utc_now
from .datadir import AlreadyInitialisedError, initialise, open_store
from .enrollment import (
    Credentials,
    PendingFile,
    check_urls,
    config_toml,
    enrol,
)
from .errors import ContentServerError, ImportFailedError
from .keys import load_mqtt_server_password, load_signing_keys
from .media import DecodeLimits
from .publishing import PublishResult, publish
from .rotation import finish_rotation, rotation_status, start_rotation
from .settings import Settings
from .store import Store


def _cli_user() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _settings(args: argparse.Namespace, **extra: Any) -> Settings:
    given = {"data_dir": args.data_dir, **extra}
    return Settings(**{k: v for k, v in given.items() if v is not None})


def _read_secret(path: Path, what: str) -> str:
    try:
        text = path.read_text(encoding="utf-8").rstrip("\r\n")
    except OSError as e:
        raise ContentServerError(f"cannot read {what} {path}: {e.strerror}") from e
    if not text:
        raise ContentServerError(f"{what} {path} is empty")
    return text


def _publish_here(
    store: Store,
    settings: Settings,
    keys: list[SigningKey],
    now: datetime,
    reason: str,
    **which: Any,
) -> PublishResult:
    """Publish from this command line: signed with every key on disk, audited as local."""
    return publish(
        store,
        keys,
        now,
        timedelta(days=settings.manifest_ttl_days),
        user=_cli_user(),
        address="local",
        reason=reason,
        **which,
    )


def _report_publish(result: PublishResult) -> None:
    if result.version is None and not result.unchanged:
        print("no devices are enrolled yet: nothing to publish")
    elif result.version is None:
        print("nothing to publish: every device's manifest is up to date")
    else:
        devices = ", ".join(m.device_id for m in result.manifests)
        print(f"published manifest version {result.version} for {devices}")


def cmd_init(args: argparse.Namespace) -> int:
    settings = _settings(args)
    password = None
    if args.admin_password_file:
        password = _read_secret(args.admin_password_file, "the admin password file")
    result = initialise(settings, args.admin_user, password, utc_now())
    if not result.created:
        print(f"{settings.data_dir} is already initialised as asked; nothing changed")
        return 0
    print(f"initialised {settings.data_dir}")
    print(f"signing key: {result.key.public.spec()}")
    print(f"admin user: {result.admin_user}")
    if result.generated_password is not None:
        print(f"admin password (shown only now, keep it safe): {result.generated_password}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from .app import create_app

    settings = _settings(
        args,
        host=args.host,
        port=args.port,
        mqtt_url=args.mqtt_url,
        mqtt_ca_file=args.mqtt_ca_file,
        access_log=False if args.no_access_log else None,
    )
    logging.basicConfig(level=logging.INFO, format="%(levelname)s:     %(name)s: %(message)s")
    app = create_app(settings)
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    print(
        f"{PROG}: serving {settings.data_dir} on http://{host}:{settings.port}",
        file=sys.stderr,
        flush=True,
    )
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level="info",
        access_log=settings.access_log,
    )
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    settings = _settings(args)
    store = open_store(settings)
    try:
        keys = load_signing_keys(settings)
        plan = importer.check_folder(
            args.folder, store, settings.max_upload_bytes, DecodeLimits.of(settings)
        )
        now = utc_now()
        summary = importer.apply(
            plan,
            store,
            AssetStore(settings.assets_dir),
            now,
            user=_cli_user(),
            address="local",
            max_bytes=settings.max_upload_bytes,
        )
        for line in summary.lines():
            print(line)
        result = _publish_here(
            store, settings, keys, now, f"import {args.folder}", only_changed=True
        )
    finally:
        store.close()
    _report_publish(result)
    return 0


def cmd_add_device(args: argparse.Namespace) -> int:
    settings = _settings(args)
    check_urls(args.server_url, args.mqtt_url)
    if args.mqtt_ca_file and not args.mqtt_url.startswith("mqtts://"):
        raise ContentServerError("--mqtt-ca-file is for TLS: give an mqtts:// --mqtt-url")
    config_out: Path = args.config_out
    if config_out.exists() and not args.replace:
        raise ContentServerError(
            f"{config_out} exists; add --replace to overwrite it with new credentials"
        )
    store = open_store(settings)
    try:
        keys = load_signing_keys(settings)  # during a key rotation, trust both
        credentials = Credentials.new()
        pending = PendingFile(
            config_out,
            config_toml(
                args.device_id,
                credentials,
                server_url=args.server_url,
                mqtt_url=args.mqtt_url,
                trusted_keys=[k.public for k in keys],
                data_dir=args.device_data_dir,
                mqtt_ca_file=args.mqtt_ca_file,
            ),
        )
        now = utc_now()
        try:
            enrolment = enrol(
                store,
                args.device_id,
                args.site,
                credentials,
                now,
                replace=args.replace,
                user=_cli_user(),
                address="local",
            )
        except BaseException:
            pending.discard()
            raise
        pending.commit()
        verb = "re-enrolled (old credentials no longer work)" if enrolment.replaced else "enrolled"
        print(f"device {args.device_id} {verb} at site {args.site}; configuration: {config_out}")
        result = _publish_here(
            store, settings, keys, now, f"enrol {args.device_id}", device_ids=[args.device_id]
        )
    finally:
        store.close()
    _report_publish(result)
    return 0


def cmd_publish(args: argparse.Namespace) -> int:
    settings = _settings(args)
    store = open_store(settings)
    try:
        result = _publish_here(
            store, settings, load_signing_keys(settings), utc_now(), "content-server publish"
        )
    finally:
        store.close()
    _report_publish(result)
    return 0


def _reload_broker(args: argparse.Namespace) -> str:
    pid = args.reload_pid
    try:
        if pid is None and args.reload_pid_file is not None:
            pid = broker.read_pid(args.reload_pid_file)
        if pid is None:
            return ""
        broker.reload(pid)
    except ValueError as e:
        raise ContentServerError(str(e)) from e
    return f"; Mosquitto (pid {pid}) told to reload"


def _server_mqtt_password(args: argparse.Namespace, settings: Settings) -> str:
    if args.server_password_file:
        return _read_secret(args.server_password_file, "the server password file")
    return load_mqtt_server_password(settings.mqtt_server_password_path)


def _readable(path: Path, option: str) -> Path:
    """An absolute path to a file that exists (Mosquitto reads it from another folder)."""
    if not path.is_file():
        raise ContentServerError(f"{option}: no such file {path}")
    return path.resolve()


def cmd_mqtt_config(args: argparse.Namespace) -> int:
    settings = _settings(args)
    password = _server_mqtt_password(args, settings)
    store = open_store(settings)
    try:
        devices = broker.device_accounts(store)
        relays = broker.relay_accounts(store)
    finally:
        store.close()
    tls = None
    if args.tls_cert or args.tls_key:
        if not (args.tls_cert and args.tls_key):
            raise ContentServerError("a TLS listener needs both --tls-cert and --tls-key")
        tls = broker.TlsListener(
            _readable(args.tls_cert, "--tls-cert"),
            _readable(args.tls_key, "--tls-key"),
            _readable(args.tls_ca, "--tls-ca") if args.tls_ca else None,
        )
    elif args.tls_ca:
        raise ContentServerError("--tls-ca goes with --tls-cert and --tls-key")
    conf = broker.write_broker_files(
        args.out,
        port=args.port,
        server_password=password,
        devices=devices,
        host=args.host,
        server_port=args.server_port,
        tls=tls,
        relays=relays,
    )
    reloaded = _reload_broker(args)
    print(f"wrote {conf} ({len(devices)} device account(s)){reloaded}")
    if not reloaded:
        print(f"start: mosquitto -c {conf}; after a change: --reload-pid PID (SIGHUP)")
    return 0


def cmd_revoke_device(args: argparse.Namespace) -> int:
    settings = _settings(args)
    store = open_store(settings)
    try:
        try:
            changed = broker.revoke_device(
                store, args.device_id, format_time(utc_now()), user=_cli_user(), address="local"
            )
        except KeyError:
            raise ContentServerError(f"device {args.device_id!r} is not enrolled") from None
        devices = broker.device_accounts(store) if args.mqtt_dir else []
        relays = broker.relay_accounts(store) if args.mqtt_dir else []
    finally:
        store.close()
    state = "revoked" if changed else "was already revoked"
    print(f"device {args.device_id} {state}: its token no longer works")
    if args.mqtt_dir:
        password = _server_mqtt_password(args, settings)
        broker.write_accounts(
            args.mqtt_dir, server_password=password, devices=devices, relays=relays
        )
        print(f"rewrote {args.mqtt_dir}/passwd and acl{_reload_broker(args)}")
    else:
        print("run `content-server mqtt-config ... --reload-pid PID` to close its MQTT account")
    return 0


def cmd_rotate_key(args: argparse.Namespace) -> int:
    if args.force and not args.finish:
        print(f"{PROG} rotate-key: --force goes with --finish", file=sys.stderr)
        return 2
    settings = _settings(args)
    store = open_store(settings)
    try:
        if args.status:
            return _rotation_status(settings, store)
        if args.finish:
            return _rotation_finish(settings, store, force=args.force)
        started = start_rotation(settings, store, utc_now(), user=_cli_user(), address="local")
    finally:
        store.close()
    print(f"next signing key: {started.next.public.spec()}")
    _report_publish(started.result)
    print(
        f"every manifest is now signed by {started.current.keyid} and {started.next.keyid}; "
        "devices learn the new key at their next sync"
    )
    print(
        "next: wait until every device has caught up (`content-server rotate-key --status`), "
        "then run `content-server rotate-key --finish`"
    )
    return 0


def _rotation_status(settings: Settings, store: Store) -> int:
    status = rotation_status(settings, store)
    print(f"current key: {status.current.keyid}; next key: {status.next.keyid}")
    for device in status.devices:
        print(f"  {device.describe()}")
    lagging = len(status.lagging)
    if lagging:
        print(f"{lagging} of {len(status.devices)} device(s) have not caught up yet")
    else:
        print("every device has caught up: run `content-server rotate-key --finish`")
    return 0


def _rotation_finish(settings: Settings, store: Store, *, force: bool) -> int:
    done = finish_rotation(
        settings, store, utc_now(), user=_cli_user(), address="local", force=force
    )
    if done.lagging:
        names = ", ".join(d.describe() for d in done.lagging)
        print(
            f"{PROG} rotate-key: warning: finished although {len(done.lagging)} device(s) had "
            f"not caught up: {names}; they refuse new manifests until a technician puts the "
            "new key in their trusted_keys (or `add-device --replace`)",
            file=sys.stderr,
        )
    print(f"retired key {done.retired.keyid} to {settings.retired_keys_dir}")
    print(f"signing key is now {done.current.public.spec()}")
    _report_publish(done.result)
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    settings = _settings(args)
    result = backup(settings, args.out, utc_now())
    size = result.bytes / 1e6
    print(f"backed up {settings.data_dir} to {result.path}: {result.files} files "
          f"({result.assets} assets, {size:.1f} MB)")  # fmt: skip
    print("it holds the signing key: keep it as safe as the key itself")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    settings = _settings(args)
    result = restore(args.archive, settings, utc_now(), args.skip_versions)
    print(
        f"restored {args.archive} into {result.data_dir}: {result.files} files, "
        f"{result.assets} assets, {result.devices} devices"
    )
    if result.manifest_version is not None:
        print(f"every device's manifest signed again as version {result.manifest_version}")
    print(f"start it with `{PROG} serve --data-dir {result.data_dir}`; devices keep syncing")
    return 0


def cmd_relay_config(args: argparse.Namespace) -> int:
    from .relay import RelayOptions, write_relay

    settings = _settings(args)
    options = RelayOptions(
        args.site, args.upstream, args.upstream_mqtt, args.port, args.mqtt_port, args.out,
        args.listen, args.slice_size, args.cache_size,
    )  # fmt: skip
    store = open_store(settings)
    try:
        written = write_relay(store, options, format_time(utc_now()))
    finally:
        store.close()
    print(f"wrote {written.nginx_conf} and {written.mosquitto_conf} for gate {args.site}")
    print(f"{len(written.devices)} device(s) of the gate: {', '.join(written.devices) or 'none'}")
    print(f"start: nginx -c {written.nginx_conf}; mosquitto -c {written.mosquitto_conf}")
    if written.new_password:
        print(
            f"new bridge account {written.username}: run `content-server mqtt-config ... "
            "--reload-pid PID` for the city broker, or the bridge is refused"
        )
    return 0


def _parser() -> argparse.ArgumentParser:
    return build_parser(
        {
            "init": cmd_init,
            "serve": cmd_serve,
            "import": cmd_import,
            "add-device": cmd_add_device,
            "publish": cmd_publish,
            "mqtt-config": cmd_mqtt_config,
            "revoke-device": cmd_revoke_device,
            "relay-config": cmd_relay_config,
            "rotate-key": cmd_rotate_key,
            "backup": cmd_backup,
            "restore": cmd_restore,
        }
    )


def _settings_error(e: ValidationError) -> str:
    parts = []
    for err in e.errors():
        field = ".".join(str(p) for p in err["loc"])
        if field == "data_dir" and err["type"] == "missing":
            parts.append("give --data-dir DIR (or set CONTENT_SERVER_DATA_DIR)")
        else:
            parts.append(f"{field}: {err['msg']}")
    return "; ".join(parts)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    name = f"{PROG} {args.command}"
    try:
        code: int = args.func(args)
        return code
    except AlreadyInitialisedError as e:
        print(f"{name}: {e}", file=sys.stderr)
        return 2
    except ImportFailedError as e:
        for line in e.problems:
            print(line, file=sys.stderr)
        print(f"{name}: {e}", file=sys.stderr)
        return 1
    except ContentServerError as e:
        print(f"{name}: {e}", file=sys.stderr)
        return 1
    except ValidationError as e:
        print(f"{name}: {_settings_error(e)}", file=sys.stderr)
        return 2
    except OSError as e:
        where = f" ({e.filename})" if e.filename else ""
        print(f"{name}: {e.strerror or e}{where}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except sqlite3.DatabaseError as e:  # a damaged, locked or foreign database file
        db = Path(getattr(args, "data_dir", None) or ".") / "content.db"
        if "locked" in str(e) or "busy" in str(e):
            what = "is busy (another process is writing to it); try again in a moment"
        else:
            what = "is damaged or not a content-server database; restore it from a backup"
        print(f"{name}: the database {db} {what} ({_one_line(e)})", file=sys.stderr)
        return 1
    except Exception as e:  # never a traceback: one line the operator can report
        print(
            f"{name}: unexpected error ({type(e).__name__}: {_one_line(e)}); nothing more "
            "was done. Please report this line",
            file=sys.stderr,
        )
        return 70  # EX_SOFTWARE


def _one_line(e: BaseException) -> str:
    text = " ".join(str(e).split())
    return text if len(text) <= 300 else text[:299] + "…"


if __name__ == "__main__":
    sys.exit(main())
