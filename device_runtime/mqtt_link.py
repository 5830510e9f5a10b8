"""The device's live link to Mosquitto: status, heartbeats, and wake-up commands.

    connect ─▶ retained {"state": "online", "session": n} on .../status
            ─▶ subscribe .../cmd (signed commands, checked by ``on_command``), and
               signage/v1/sites/<s>/alert for the device's site and every site
               above it (``set_alert_sites``; retained)
            ─▶ heartbeat on .../heartbeat every ``heartbeat_interval_s``, and at once
               after the first sync pass, on reconnects and when new content plays
    lost    ─▶ the broker publishes the will: retained "offline" (set before connecting)
    stop()  ─▶ retained "offline", then disconnect

Health is allowed to be lost; nothing here blocks playback or the sync worker:
paho's own thread connects and reconnects with backoff, one small thread sends
heartbeats, and callbacks only decode and hand over (set an event, call
``on_command``). The session number grows on every connect and survives
restarts (``state/session.json``), so the server can tell a fresh connection
from a stale retained status.

With ``mqtt_url = "mqtts://..."`` the link speaks TLS: the broker's
certificate must be signed by ``mqtt_ca_file`` (the system's CAs if unset) and
name the host of the URL; ``mqtt_cert_file``/``mqtt_key_file`` add a client
certificate. A broker whose certificate does not verify is never talked to:
the reason is logged (``tls_error``) and the link keeps retrying with backoff.

What a heartbeat says is the runtime's business (``heartbeat`` callable); the
topics and payload shapes are ``signage_core.topics``'.
"""

from __future__ import annotations

import logging
import ssl
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from signage_core import topics
from signage_core.timefmt import format_time

from .clock import utc_now
from .errors import SettingsError
from .settings import DeviceSettings
from .state import SessionCounter

log = logging.getLogger(__name__)

RECONNECT_MIN_S = 1
RECONNECT_MAX_S = 120


def tls_context(settings: DeviceSettings) -> ssl.SSLContext:
    """Verify the broker (hostname and chain) against ``mqtt_ca_file`` or the system CAs."""
    ca = settings.mqtt_ca_file
    ctx = ssl.create_default_context(cafile=str(ca) if ca is not None else None)
    if settings.mqtt_cert_file is not None and settings.mqtt_key_file is not None:
        ctx.load_cert_chain(str(settings.mqtt_cert_file), str(settings.mqtt_key_file))
    return ctx


class _Client(mqtt.Client):
    """paho's client, but a TLS failure is told, not retried in silence."""

    on_tls_error: Callable[[ssl.SSLError], None] = staticmethod(lambda e: None)

    def reconnect(self) -> MQTTErrorCode:
        try:
            return super().reconnect()
        except ssl.SSLError as e:
            self.on_tls_error(e)
            raise


class MqttLink:
    def __init__(
        self,
        settings: DeviceSettings,
        *,
        sessions: SessionCounter,
        heartbeat: Callable[[], dict[str, Any]],
        on_command: Callable[[dict[str, Any]], None],
        on_connected: Callable[[], None] = lambda: None,
        on_alert: Callable[[str, bytes], object] = lambda site, raw: None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.settings = settings
        self.device_id = settings.device_id
        self.sessions = sessions
        self.heartbeat = heartbeat
        self.on_command = on_command
        self.on_connected = on_connected
        self.on_alert = on_alert
        self.clock = clock
        self._alert_sites: tuple[str, ...] = ()
        self._sites_lock = threading.Lock()
        self.session = 0
        self.seq = 0
        self._session_used = False
        self._connected = threading.Event()
        self._beat_now = threading.Event()
        self._ready = threading.Event()  # the first sync pass is done: a beat says something
        self._stopping = threading.Event()
        self._beat_thread: threading.Thread | None = None
        self.tls_error: str | None = None
        self.client = _Client(
            CallbackAPIVersion.VERSION2,
            client_id=settings.device_id,
            protocol=mqtt.MQTTv311,
        )
        if settings.mqtt_tls:
            try:
                self.client.tls_set_context(tls_context(settings))
            except (OSError, ValueError) as e:  # a CA or key file that is not PEM
                raise SettingsError(f"mqtt: cannot set up TLS from the config's files: {e}") from e
            self.client.on_tls_error = self._on_tls_error
        self.client.username_pw_set(settings.device_id, settings.mqtt_password)
        self.client.reconnect_delay_set(RECONNECT_MIN_S, RECONNECT_MAX_S)
        self.client.on_pre_connect = self._on_pre_connect
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    def _status(self, state: str) -> bytes:
        return topics.encode(topics.status_payload(state, self.session, format_time(self.clock())))

    def _arm_will(self) -> None:
        """Take the next session number and set the will that the broker sends if we vanish."""
        self.session = self.sessions.next()
        self._session_used = False
        self.client.will_set(
            topics.status_topic(self.device_id), self._status("offline"), qos=1, retain=True
        )

    def start(self) -> None:
        """Connect in the background; returns at once, whether the broker is there or not."""
        self._arm_will()  # before the first CONNECT; _on_pre_connect re-arms on reconnects
        self.client.connect_async(
            self.settings.mqtt_host,
            self.settings.mqtt_port,
            keepalive=self.settings.mqtt_keepalive_s,
        )
        self.client.loop_start()
        self._beat_thread = threading.Thread(
            target=self._beat_loop, name="mqtt-heartbeat", daemon=True
        )
        self._beat_thread.start()

    def stop(self, timeout: float = 3.0) -> None:
        """Say "offline" (retained) if connected, then disconnect and end the threads."""
        self._stopping.set()
        self._beat_now.set()
        if self._connected.is_set():
            info = self.client.publish(
                topics.status_topic(self.device_id), self._status("offline"), qos=1, retain=True
            )
            try:
                info.wait_for_publish(timeout)
            except (RuntimeError, ValueError) as e:
                log.warning("mqtt: could not say offline: %s", e)
        self.client.disconnect()
        self.client.loop_stop()
        if self._beat_thread is not None:
            self._beat_thread.join(timeout)

    # -- paho callbacks (paho's thread): decode and hand over ----------------------------

    def _on_pre_connect(self, client: mqtt.Client, userdata: Any) -> None:
        if self._session_used:
            self._arm_will()

    def _on_tls_error(self, e: ssl.SSLError) -> None:
        s = self.settings
        if isinstance(e, ssl.SSLCertVerificationError):
            where = f"mqtt_ca_file ({s.mqtt_ca_file})" if s.mqtt_ca_file else "the system's CAs"
            message = (
                f"the broker {s.mqtt_host}:{s.mqtt_port} is not trusted ({e.verify_message}): "
                f"its certificate must be signed by {where} and name {s.mqtt_host!r}"
            )
        else:
            message = f"TLS with the broker {s.mqtt_host}:{s.mqtt_port} failed: {e}"
        if message != self.tls_error:
            log.error("mqtt: %s; not connecting, retrying with backoff", message)
        self.tls_error = message

    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: mqtt.ConnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        self._session_used = True
        self.tls_error = None
        if reason_code.is_failure:
            log.warning("mqtt: the broker refused the connection: %s", reason_code)
            return
        log.info("mqtt: connected (session %d)", self.session)
        client.publish(
            topics.status_topic(self.device_id), self._status("online"), qos=1, retain=True
        )
        with self._sites_lock:
            wanted = [(topics.cmd_topic(self.device_id), 1)]
            wanted += [(topics.alert_topic(s), 1) for s in self._alert_sites]
            client.subscribe(wanted)
        self._connected.set()
        if self._ready.is_set():
            self._beat_now.set()
        self.on_connected()  # the link is back: the HTTP side may be too

    def _on_disconnect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: mqtt.DisconnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        self._connected.clear()
        if not self._stopping.is_set():
            log.warning("mqtt: disconnected (%s); reconnecting", reason_code)

    def set_alert_sites(self, sites: tuple[str, ...]) -> None:
        """Follow the alert topics of these sites (from any thread); resubscribes if connected."""
        with self._sites_lock:
            old, self._alert_sites = self._alert_sites, tuple(sites)
            if old == self._alert_sites or not self._connected.is_set():
                return
            gone = [topics.alert_topic(s) for s in old if s not in self._alert_sites]
            new = [(topics.alert_topic(s), 1) for s in self._alert_sites if s not in old]
            if gone:
                self.client.unsubscribe(gone)
            if new:
                self.client.subscribe(new)

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        parts = msg.topic.split("/")
        if len(parts) == 5 and parts[2] == "sites" and parts[4] == "alert":
            if parts[3] in self._alert_sites:
                self.on_alert(parts[3], bytes(msg.payload))
            return
        if msg.topic != topics.cmd_topic(self.device_id):
            return
        if msg.retain:  # a command is for now, never a stale retained one
            return
        try:
            envelope = topics.decode(bytes(msg.payload))
        except topics.PayloadError as e:
            log.warning("commands: refused a command (malformed): %s", e)
            return
        # Signature, device, expiry and replay are checked by ``on_command``
        # (``commands.CommandHandler``) before anything is done.
        self.on_command(envelope)

    # -- heartbeats (own thread) -------------------------------------------------------

    def _beat_loop(self) -> None:
        while True:
            self._beat_now.wait(self.settings.heartbeat_interval_s)
            self._beat_now.clear()
            if self._stopping.is_set():
                return
            if self._connected.is_set():
                self.publish_heartbeat()

    def mark_ready(self) -> None:
        """The first sync pass is over: beat now, and at once on every later connect."""
        if not self._ready.is_set():
            self._ready.set()
            self._beat_now.set()

    def beat_soon(self) -> None:
        """Send a heartbeat now (from any thread), e.g. when new content starts playing."""
        self._beat_now.set()

    def publish_heartbeat(self) -> None:
        try:
            body = self.heartbeat()
        except Exception:  # a broken heartbeat must not end the thread
            log.exception("mqtt: cannot build the heartbeat")
            return
        self.seq += 1
        payload = {
            "seq": self.seq,
            "ts": format_time(self.clock()),
            "interval_s": self.settings.heartbeat_interval_s,
            **body,
        }
        self.client.publish(topics.heartbeat_topic(self.device_id), topics.encode(payload), qos=0)
        log.info(
            "mqtt: heartbeat %d (manifest %s, sync %s)",
            self.seq,
            payload.get("manifest_version"),
            (payload.get("sync") or {}).get("state"),
        )
