"""Settings of the content server, read from arguments and ``CONTENT_SERVER_*`` variables.

Built once in ``cli.main()`` and passed down; nothing reads settings at import.
Every setting is documented here (and in ``docs/``): the field's description is
the documentation.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CONTENT_SERVER_", frozen=True)

    data_dir: Path = Field(description="Folder holding the database, the keys and the assets.")
    host: str = Field("127.0.0.1", description="Address the HTTP server listens on.")
    port: int = Field(8000, ge=1, le=65535, description="Port the HTTP server listens on.")
    mqtt_url: str | None = Field(
        None, description="Broker the server connects to, like mqtt://127.0.0.1:1883."
    )
    mqtt_ca_file: Path | None = Field(
        None,
        description="With an mqtts:// mqtt_url: the CA certificate (PEM) that signed the "
        "broker's certificate (default: the system's CAs).",
    )
    mqtt_password: SecretStr | None = Field(
        None,
        description="The server's own MQTT password; if unset, the one `init` wrote to "
        "DATA/keys/mqtt-server.password.",
    )
    manifest_ttl_days: int = Field(
        30, ge=1, description="How long a signed manifest stays valid after it is issued."
    )
    max_upload_bytes: int = Field(
        1024 * 1024 * 1024, ge=1, description="Largest media file accepted (import or upload)."
    )
    media_decode_memory_mb: int = Field(
        1536,
        ge=600,
        description="Memory (address space, MB) a media decoder may use while checking one "
        "upload or imported file; it runs in a child process that is ended beyond this. "
        "OpenCV itself takes about 450 MB of it.",
    )
    media_decode_cpu_s: int = Field(
        60, ge=1, description="Processor seconds a media decoder may use on one file."
    )
    media_decode_timeout_s: float = Field(
        120.0, gt=0, description="Seconds after which a media decoder is ended, busy or not."
    )
    token_ttl_minutes: int = Field(
        8 * 60, ge=1, description="How long a user's sign-in token is valid."
    )
    login_max_failures: int = Field(
        5,
        ge=1,
        description="Failed sign-ins for one user name from one client address before "
        "that pair must wait (the same user from another address is not held up).",
    )
    login_max_failures_per_address: int = Field(
        20, ge=1, description="Failed sign-ins from one client address before it must wait."
    )
    login_window_s: float = Field(
        900.0, gt=0, description="How far back failed sign-ins are counted, in seconds."
    )
    login_lockout_s: float = Field(
        60.0,
        gt=0,
        description="The first wait after too many failures, in seconds; each further "
        "failure doubles it.",
    )
    login_max_lockout_s: float = Field(
        3600.0, gt=0, description="The longest wait the doubling reaches, in seconds."
    )
    fonts_dir: Path | None = Field(
        None,
        description="Folder with the fonts the devices ship (NotoSans-*.ttf, "
        "NotoSansLao-*.ttf, NotoSansMath-Regular.ttf, NotoSansSymbols2-Regular.ttf); "
        "publishing refuses text they cannot draw. Default: the "
        "source tree's assets/fonts.",
    )
    heartbeat_interval_s: float = Field(
        30.0,
        gt=0,
        description="Devices' heartbeat interval, for those whose heartbeats do not say it: "
        "no heartbeat for 3 intervals makes a device 'stale', for 10 'offline'.",
    )
    access_log: bool = Field(
        True,
        description="Log one line per HTTP request (uvicorn's access log); "
        "`serve --no-access-log` turns it off.",
    )
    sync_window_s: float = Field(
        60.0,
        ge=0,
        le=3600,
        description="After a publish, the screens it changed are told to fetch their new "
        "manifest spread over up to this many seconds; 0: all at once.",
    )
    sync_rate_per_s: float = Field(
        20.0,
        gt=0,
        description="Screens a second that may ask for their new manifest after a publish; "
        "the spread is the number of screens ÷ this, at most `sync_window_s`.",
    )
    reload_interval_s: float = Field(
        1.0,
        gt=0,
        description="How often the server looks for changes made by other processes "
        "(a `content-server publish` or `add-device` while it runs).",
    )
    # Device data is bounded: a stolen device credential cannot fill the disk.
    events_per_hour: float = Field(
        3600.0,
        gt=0,
        description="Records (proof of play, feedback) one device may send an hour over time; "
        "past its allowance a batch is answered 429 with Retry-After and the device keeps "
        "its records and sends them later.",
    )
    event_burst: int = Field(
        5000,
        ge=500,
        description="Records one device may send at once (after being offline) before "
        "events_per_hour applies; at least one full batch (500).",
    )
    event_max_bytes: int = Field(
        4096,
        ge=512,
        description="Largest single record, as JSON bytes; a bigger one is refused (413).",
    )
    event_retention_days: int = Field(
        400,
        ge=1,
        description="Records received more than this many days ago are deleted (checked every "
        "hour); reports count what is kept.",
    )
    heartbeats_per_minute: float = Field(
        60.0,
        gt=0,
        description="MQTT heartbeats one device may send a minute over time; more are dropped "
        "unread and counted (dropped_rate_limited in GET /api/v1/fleet/ingest).",
    )
    heartbeat_burst: int = Field(
        20, ge=1, description="Heartbeats one device may send at once before the rate applies."
    )

    max_json_body_bytes: int = Field(
        256 * 1024,
        ge=1024,
        description="Largest request body of the JSON routes, in bytes; a larger one is "
        "refused with 413 before it is read (uploads have `max_upload_bytes`, screenshots "
        "8 MiB, batches of device events 2 MiB).",
    )
    api_docs: bool = Field(
        True,
        description="Serve the API documentation at /docs and /redoc and the OpenAPI "
        "document at /openapi.json; false turns them off (404).",
    )
    accel_redirect_prefix: str | None = Field(
        None,
        pattern=r"^/[A-Za-z0-9._/-]*/$",
        description="Behind nginx: answer an authorised asset request with an empty body "
        "and `X-Accel-Redirect: PREFIX<sha256>`, and let nginx send the file from the asset "
        "store (Range included), like /internal-assets/ in "
        "packaging/nginx/border-signage.conf. Unset: the server sends the bytes itself. "
        "Never set it without such a proxy: clients would get empty files.",
    )

    # The web admin (content_server/admin/) and enrolling devices from it.
    admin_session_minutes: int = Field(
        8 * 60,
        ge=1,
        le=7 * 24 * 60,
        description="How long a sign-in to the web admin lasts; signing out or disabling "
        "the user ends it at once.",
    )
    admin_timezone: str = Field(
        "Asia/Ho_Chi_Minh", description="Time zone the web admin shows times in."
    )
    device_server_url: str | None = Field(
        None,
        pattern=r"^https?://",
        description="The server's address as devices reach it, written into the "
        "configuration of a device enrolled over the API or the admin (default: the "
        "address the request came to).",
    )
    device_mqtt_url: str | None = Field(
        None,
        pattern=r"^mqtts?://",
        description="The broker's address as devices reach it, written into the "
        "configuration of a device enrolled over the API or the admin; required for that.",
    )
    device_mqtt_ca_file: str | None = Field(
        None,
        description="With an mqtts:// device_mqtt_url: the path of the broker's CA on the "
        "device, written into enrolled devices' configuration.",
    )
    device_data_dir: str = Field(
        "/var/lib/border-signage",
        description="The device's data folder written into enrolled devices' configuration.",
    )
    mqtt_dir: Path | None = Field(
        None,
        description="The folder `content-server mqtt-config --out` wrote (passwd, acl): "
        "enrolling, re-keying or revoking a device over the API rewrites its passwd and "
        "acl there. Unset: run `mqtt-config` after each change.",
    )
    mqtt_pid_file: Path | None = Field(
        None,
        description="Mosquitto's pid file: after rewriting passwd and acl in mqtt_dir the "
        "server sends it SIGHUP so the change holds at once.",
    )

    @property
    def db_path(self) -> Path:
        return self.data_dir / "content.db"

    @property
    def assets_dir(self) -> Path:
        return self.data_dir / "assets"

    @property
    def keys_dir(self) -> Path:
        return self.data_dir / "keys"

    @property
    def signing_key_path(self) -> Path:
        return self.keys_dir / "signing.key"

    @property
    def next_signing_key_path(self) -> Path:
        """The next signing key, only while a key rotation is under way."""
        return self.keys_dir / "signing-next.key"

    @property
    def retired_keys_dir(self) -> Path:
        return self.keys_dir / "retired"

    @property
    def mqtt_server_password_path(self) -> Path:
        return self.keys_dir / "mqtt-server.password"
