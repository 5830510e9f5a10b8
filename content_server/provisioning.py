"""Enrolling, re-keying and revoking a device from the running server (API and admin).

The same steps as ``content-server add-device`` and ``revoke-device``, reused, not
copied: new ``Credentials``, ``enrollment.enrol`` (hashes stored, audited), the
configuration text of ``enrollment.config_toml`` (returned once, never stored), a
manifest signed for the device at once, then the broker's ``passwd`` and ``acl``
rewritten with ``broker.write_accounts`` in ``mqtt_dir`` and Mosquitto told to
reload (``mqtt_pid_file``), as ``mqtt-config``/``revoke-device --mqtt-dir`` do.

What the configuration says comes from settings: ``device_server_url`` (default:
the address the request came to), ``device_mqtt_url`` (required: without it the
server cannot write a configuration, ``EnrolmentUnavailableError``),
``device_mqtt_ca_file``, ``device_data_dir``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from . import broker
from .enrollment import Credentials, config_toml, enrol
from .errors import ContentServerError, InvalidInputError
from .keys import load_mqtt_server_password
from .models import Device
from .publishing import publish
from .state import ServerState

log = logging.getLogger(__name__)
MAX_NAME_CHARS = 100


class EnrolmentUnavailableError(ContentServerError):
    status = 503
    title = "Enrolment not set up"
    code = "enrolment-unavailable"


@dataclass(frozen=True)
class Issued:
    """A device with new credentials: ``config`` is its whole configuration file."""

    device: Device
    name: str
    credentials: Credentials
    config: str
    replaced: bool
    broker_note: str  # "" when the broker's files were rewritten and reloaded


def issue(
    state: ServerState,
    device_id: str,
    site_id: str,
    name: str,
    *,
    replace: bool,
    request_url: str,
    user: str,
    address: str,
) -> Issued:
    """Enrol (or, ``replace``, re-key) the device; its new configuration, shown once."""
    settings = state.settings
    if settings.device_mqtt_url is None:
        raise EnrolmentUnavailableError(
            "this server does not know the broker's address for devices, so it cannot "
            "write a configuration; set CONTENT_SERVER_DEVICE_MQTT_URL (docs/server-settings.md) "
            "or enrol with `content-server add-device`"
        )
    name = name.strip()
    if len(name) > MAX_NAME_CHARS:
        raise InvalidInputError(f"a device name may have at most {MAX_NAME_CHARS} characters")
    credentials = Credentials.new()
    config = config_toml(
        device_id,
        credentials,
        server_url=(settings.device_server_url or request_url).rstrip("/"),
        mqtt_url=settings.device_mqtt_url,
        trusted_keys=[k.public for k in state.keys],  # during a key rotation, both
        data_dir=settings.device_data_dir,
        mqtt_ca_file=settings.device_mqtt_ca_file,
    )
    now = state.clock()
    with state.store.transaction():
        enrolment = enrol(
            state.store,
            device_id,
            site_id,
            credentials,
            now,
            replace=replace,
            user=user,
            address=address,
        )
        if name or not replace:
            state.store.set_device_name(device_id, name)
    notes = []
    try:
        result = publish(
            state.store,
            state.keys,
            now,
            state.manifest_ttl,
            user=user,
            address=address,
            reason=f"enrol {device_id}",
            device_ids=[device_id],
        )
        state.remember(result)
    except ContentServerError as e:  # enrolled all the same: it gets the next publish
        log.warning("enrolled %s, but its first manifest was not signed: %s", device_id, e)
        notes.append(f"its first manifest was not signed ({e}); publish the site's content")
    state.reload()  # the new token works from the next request; the old one no longer
    notes.append(sync_broker(state))
    note = "; ".join(n for n in notes if n)
    names = state.store.device_names()
    return Issued(
        enrolment.device,
        names.get(device_id, ""),
        credentials,
        config,
        enrolment.replaced,
        note,
    )


def sync_broker(state: ServerState) -> str:
    """Rewrite the broker's passwd and acl and reload it; what is left to do, or ""."""
    settings = state.settings
    if settings.mqtt_dir is None:
        return (
            "the broker's accounts were not updated (CONTENT_SERVER_MQTT_DIR is not set): "
            "run `content-server mqtt-config` and reload Mosquitto"
        )
    if settings.mqtt_password is not None:
        password = settings.mqtt_password.get_secret_value()
    else:
        password = load_mqtt_server_password(settings.mqtt_server_password_path)
    broker.write_accounts(
        settings.mqtt_dir,
        server_password=password,
        devices=broker.device_accounts(state.store),
        relays=broker.relay_accounts(state.store),
    )
    if settings.mqtt_pid_file is None:
        return "the broker's files were rewritten: reload Mosquitto (CONTENT_SERVER_MQTT_PID_FILE)"
    try:
        broker.reload(broker.read_pid(settings.mqtt_pid_file))
    except ValueError as e:
        log.warning("could not reload Mosquitto: %s", e)
        return f"the broker's files were rewritten but Mosquitto was not reloaded: {e}"
    return ""
