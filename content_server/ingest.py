"""The server's MQTT side: fleet health in, commands and signed alerts out.

    paho thread ──▶ on_message: size check, put (kind, device, bytes, time) on a queue
    writer thread ◀─ queue: every ``batch_interval_s`` or ``batch_max`` messages,
                     decode and check, apply the health rules (``health.py``) in
                     memory, write the batch in ONE transaction (``FleetStore``);
                     also: a ``sync`` command to every device whose manifest
                     version grew, retained alerts cleared once expired,
                     heartbeat history pruned

Started by ``create_app`` when the server has an ``mqtt_url``; it logs in with
the server's account (``broker.SERVER_USER``). With an ``mqtts://`` URL it
speaks TLS and verifies the broker (hostname and chain) against ``ca_file``
(``CONTENT_SERVER_MQTT_CA_FILE``) or the system's CAs; a broker that does not
verify is logged with the reason (``tls_error``) and retried with backoff.
Nothing here blocks a request: the API reads ``snapshot()`` (a dict replaced
whole on every batch). A payload that is too big, not JSON, or not the schema
is dropped and counted in ``stats``; the writer never dies of one (it logs and
goes on).

Bounded by design: heartbeats beyond ``heartbeats_per_minute`` of one device are
dropped before they are queued (``dropped_rate_limited``), so a stolen device
password cannot fill the queue or the disk. An alert envelope bigger than
``max_alert_bytes`` is never handed to paho, and one the broker still refuses
(it drops the connection of a client that sends a packet over its
``max_packet_size``; paho resends unacknowledged messages on reconnect) is given
up after the second drop: taken out of paho's queue, logged, counted
(``alerts_refused_by_broker``) and never sent again, so one alert cannot keep
every site's alerts, commands and health off the broker.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import queue
import ssl
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from signage_core import topics
from signage_core.timefmt import format_time, parse_time

from .alerts import MAX_ALERT_BYTES
from .broker import SERVER_USER
from .commands import DEFAULT_TTL, make_command, signed_command, sync_window_s
from .errors import ContentServerError
from .health import DeviceHealth, apply_heartbeat, apply_status, state_at
from .ratelimit import TokenBuckets
from .state import ServerState
from .store import FleetStore
from .uptime import credit

log = logging.getLogger(__name__)

HISTORY_DAYS = 7
_PRUNE_EVERY_S = 3600.0
_HOUSEKEEPING_EVERY_S = 1.0


def _parse_dt(value: str | None) -> datetime | None:
    return parse_time(value) if value else None


def load_health(store: FleetStore) -> dict[str, DeviceHealth]:
    """What the database remembers (after a restart, before MQTT says more)."""
    out = {}
    for device_id, r in store.health().items():
        out[device_id] = DeviceHealth(
            device_id=device_id,
            session=r.session,
            status_state=r.status_state,
            status_at=_parse_dt(r.status_at),
            heartbeat=r.heartbeat,
            heartbeat_at=_parse_dt(r.heartbeat_at),
            interval_s=r.interval_s,
        )
    return out


class _Client(mqtt.Client):
    """paho's client, but a TLS failure is told, not retried in silence."""

    on_tls_error: Callable[[ssl.SSLError], None] = staticmethod(lambda e: None)

    def reconnect(self) -> MQTTErrorCode:
        try:
            return super().reconnect()
        except ssl.SSLError as e:
            self.on_tls_error(e)
            raise


class FleetLink:
    def __init__(
        self,
        state: ServerState,
        *,
        url: str,
        password: str,
        default_interval_s: float = 30.0,
        batch_interval_s: float = 0.2,
        batch_max: int = 1000,
        queue_max: int = 100_000,
        clock: Callable[[], datetime] | None = None,
        ca_file: Path | None = None,
        heartbeats_per_minute: float | None = None,
        heartbeat_burst: int = 20,
        max_alert_bytes: int = MAX_ALERT_BYTES,
    ) -> None:
        self.state = state
        self.fleet = FleetStore(state.store)
        self.clock = clock or state.clock
        self.default_interval_s = default_interval_s
        self.batch_interval_s = batch_interval_s
        self.batch_max = batch_max
        parts = urlsplit(url)
        self.tls = parts.scheme == "mqtts"
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or (8883 if self.tls else 1883)
        self.ca_file = ca_file
        self.tls_error: str | None = None
        self.stats: Counter[str] = Counter()
        self._health = load_health(self.fleet)
        self._queue: queue.Queue[tuple[str, str, bytes, datetime]] = queue.Queue(queue_max)
        self._stop = threading.Event()
        self._connected = threading.Event()
        self._writer: threading.Thread | None = None
        self._manifests_seen = state.manifests
        self._versions = {d: m.version for d, m in state.manifests.items()}
        self._tokens_seen: Mapping[str, str] | None = None
        self._known: set[str] = set()
        self._cleared: set[str] = set()
        self._next_prune = 0.0
        self._next_housekeeping = 0.0
        # Bounds (see the module docstring): heartbeats per device, alerts the broker refused.
        self._beat_limit = (
            None
            if heartbeats_per_minute is None
            else TokenBuckets(heartbeats_per_minute / 60.0, heartbeat_burst)
        )
        self.max_alert_bytes = max_alert_bytes
        self._strikes: Counter[str] = Counter()  # alert digest -> drops while it was unacked
        self._refused: set[str] = set()  # digests of alert envelopes the broker refused
        self.client = _Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"{SERVER_USER}-{os.getpid()}-{id(self) % 10000}",
            protocol=mqtt.MQTTv311,
        )
        if self.tls:
            try:
                ctx = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
            except (OSError, ValueError) as e:
                raise ContentServerError(
                    f"the MQTT CA file {ca_file} (CONTENT_SERVER_MQTT_CA_FILE, --mqtt-ca-file) "
                    f"cannot be read as a PEM certificate: {getattr(e, 'strerror', None) or e}"
                ) from e
            self.client.tls_set_context(ctx)
            self.client.on_tls_error = self._on_tls_error
        self.client.username_pw_set(SERVER_USER, password)
        self.client.reconnect_delay_set(1, 30)
        self.client.max_queued_messages_set(10_000)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message

    # -- life cycle --------------------------------------------------------------------

    def start(self) -> None:
        self.client.connect_async(self.host, self.port, keepalive=30)
        self.client.loop_start()
        self._writer = threading.Thread(target=self._write_loop, name="mqtt-ingest", daemon=True)
        self._writer.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._writer is not None:
            self._writer.join(timeout)
        self.client.disconnect()
        self.client.loop_stop()

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    # -- what the API reads ------------------------------------------------------------

    def snapshot(self) -> dict[str, DeviceHealth]:
        return self._health

    def state_of(self, device_id: str, now: datetime) -> str:
        h = self._health.get(device_id)
        return "unknown" if h is None else state_at(h, now, self.default_interval_s)

    # -- sending -----------------------------------------------------------------------

    def send_command(
        self,
        device_id: str,
        cmd: str,
        now: datetime,
        ttl: timedelta | None = None,
        window_s: int | None = None,
    ) -> dict[str, Any]:
        """Sign and publish ``cmd`` for ``device_id``; return what was signed (for the audit)."""
        signed = make_command(cmd, device_id, now, ttl or DEFAULT_TTL, window_s)
        payload = signed_command(signed, list(self.state.keys))
        self.client.publish(topics.cmd_topic(device_id), payload, qos=1)
        self.stats["commands_sent"] += 1
        return {k: signed[k] for k in ("cmd", "id", "issued_at", "expires_at")}

    def publish_alert(self, site_id: str, envelope: bytes) -> bool:
        """Retained, so a device that connects later gets it at once. False if it was not
        sent: too big for the broker, or refused by it before (logged and counted)."""
        if hashlib.sha256(envelope).hexdigest() in self._refused:
            self.stats["alerts_not_resent"] += 1
            return False
        if len(envelope) > self.max_alert_bytes:
            self.stats["alerts_too_big"] += 1
            log.error(
                "mqtt ingest: the alert for site %s is %d bytes, over %d; not published "
                "(devices get it with their manifests)", site_id, len(envelope),
                self.max_alert_bytes,
            )  # fmt: skip
            return False
        self.client.publish(topics.alert_topic(site_id), envelope, qos=1, retain=True)
        self._cleared.discard(site_id)
        return True

    def _republish_alerts(self, now: datetime) -> None:
        """After a (re)connect: a broker restarted without persistence forgot them."""
        limit = format_time(now)
        for site_id, row in self.fleet.current_alerts().items():
            if row.expires_at > limit:
                self.publish_alert(site_id, row.envelope.encode("utf-8"))

    # -- paho callbacks (paho's thread): hand over ------------------------------------

    def _on_tls_error(self, e: ssl.SSLError) -> None:
        if isinstance(e, ssl.SSLCertVerificationError):
            where = f"the CA file {self.ca_file}" if self.ca_file else "the system's CAs"
            message = (
                f"the broker {self.host}:{self.port} is not trusted ({e.verify_message}): its "
                f"certificate must be signed by {where} (CONTENT_SERVER_MQTT_CA_FILE, "
                f"--mqtt-ca-file) and name {self.host!r}"
            )
        else:
            message = f"TLS with the broker {self.host}:{self.port} failed: {e}"
        if message != self.tls_error:
            log.error("mqtt ingest: %s; retrying", message)
        self.tls_error = message

    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: mqtt.ConnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        self.tls_error = None
        if reason_code.is_failure:
            log.error("mqtt ingest: the broker refused the server's account: %s", reason_code)
            return
        self._withdraw_refused_alerts()
        client.subscribe(
            [(topics.status_topic("+"), 1), (topics.heartbeat_topic("+"), 0)],
        )
        self._connected.set()
        log.info("mqtt ingest: connected to %s:%d", self.host, self.port)
        try:
            self._republish_alerts(self.clock())
        except Exception:
            log.exception("mqtt ingest: cannot republish the current alerts")

    def _on_disconnect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: mqtt.DisconnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        self._connected.clear()
        self.stats["disconnects"] += 1
        if not self._stop.is_set():
            log.warning("mqtt ingest: disconnected (%s); reconnecting", reason_code)
            self._give_up_refused_alerts()

    def _give_up_refused_alerts(self) -> None:
        """Alerts still unacknowledged at two drops in a row are refused by the broker (bigger
        than its max_packet_size): never send them again. ``_withdraw_refused_alerts`` takes
        them out of paho's queue at the next connect, before paho would resend them.

        paho keeps its unacknowledged messages in ``_out_messages``; there is no public way
        to read or withdraw one, so this reaches in, under paho's own (reentrant) lock. It
        only reads here: paho may be iterating that dict when it calls ``on_disconnect``."""
        client = self.client
        pending: dict[str, str] = {}
        with client._out_message_mutex:
            for m in list(client._out_messages.values()):
                if _is_alert_topic(m.topic) and m.payload:
                    pending[hashlib.sha256(m.payload).hexdigest()] = m.topic
        for digest in [d for d in self._strikes if d not in pending]:
            del self._strikes[digest]  # acknowledged since: the broker took it
        for digest, topic in pending.items():
            if digest in self._refused:
                continue
            self._strikes[digest] += 1
            if self._strikes[digest] < 2:
                continue
            del self._strikes[digest]
            self._refused.add(digest)
            self.stats["alerts_refused_by_broker"] += 1
            log.error(
                "mqtt ingest: the broker dropped the connection twice while the alert on %s "
                "was unacknowledged (bigger than its max_packet_size?); not sent again",
                topic,
            )

    def _withdraw_refused_alerts(self) -> None:
        """Take the alerts the broker refused out of paho's queue (called in on_connect, which
        paho runs before it resends what is unacknowledged)."""
        if not self._refused:
            return
        client = self.client
        with client._out_message_mutex:
            for mid, m in list(client._out_messages.items()):
                if (
                    _is_alert_topic(m.topic)
                    and hashlib.sha256(m.payload).hexdigest() in self._refused
                ):
                    del client._out_messages[mid]

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        self.stats["received"] += 1
        where = topics.device_of(msg.topic)
        if where is None:
            self.stats["dropped_topic"] += 1
            return
        payload = bytes(msg.payload)
        if len(payload) > topics.MAX_PAYLOAD_BYTES:
            self.stats["dropped_oversized"] += 1
            return
        if not payload:  # a cleared retained status
            return
        device_id, kind = where
        if (
            kind == "heartbeat"
            and self._beat_limit is not None
            and self._beat_limit.take(device_id, 1, self.clock().timestamp()) > 0
        ):
            self.stats["dropped_rate_limited"] += 1
            return
        try:
            self._queue.put_nowait((kind, device_id, payload, self.clock()))
        except queue.Full:
            self.stats["dropped_queue_full"] += 1

    # -- the writer thread -------------------------------------------------------------

    def _write_loop(self) -> None:
        while not self._stop.is_set():
            batch = self._take_batch()
            try:
                if batch:
                    self._write(batch)
                self._housekeeping()
            except Exception:  # one bad batch must not end the ingest
                self.stats["batch_errors"] += 1
                log.exception("mqtt ingest: a batch of %d message(s) failed", len(batch))
        rest = self._take_batch(wait=False)
        if rest:
            with contextlib.suppress(Exception):
                self._write(rest)

    def _take_batch(self, wait: bool = True) -> list[tuple[str, str, bytes, datetime]]:
        batch: list[tuple[str, str, bytes, datetime]] = []
        deadline = time.monotonic() + self.batch_interval_s
        while len(batch) < self.batch_max:
            left = deadline - time.monotonic()
            try:
                if wait and left > 0:
                    batch.append(self._queue.get(timeout=left))
                else:
                    batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return batch

    def _known_devices(self) -> set[str]:
        tokens = self.state.device_tokens
        if tokens is not self._tokens_seen:
            self._tokens_seen = tokens
            self._known = set(tokens.values())
        return self._known

    def _write(self, batch: list[tuple[str, str, bytes, datetime]]) -> None:
        health = dict(self._health)
        known = self._known_devices()
        statuses: list[tuple[str, int, str, str]] = []
        beats: list[tuple[str, str, dict[str, Any], float | None]] = []
        uptime: list[tuple[str, str, float]] = []
        for kind, device_id, raw, at in batch:
            if device_id not in known:  # revoked, or not enrolled
                self.stats["dropped_unknown_device"] += 1
                continue
            h = health.get(device_id) or DeviceHealth(device_id)
            try:
                payload = topics.decode(raw)
                if kind == "status":
                    topics.check_status(payload)
                elif kind == "heartbeat":
                    topics.check_heartbeat(payload)
                else:
                    self.stats["dropped_topic"] += 1
                    continue
            except topics.PayloadError as e:
                self.stats["dropped_malformed"] += 1
                log.warning("mqtt ingest: dropped a %s from %s: %s", kind, device_id, e)
                continue
            if kind == "status":
                new = apply_status(h, payload["state"], payload["session"], at)
                if new is None:
                    self.stats["ignored_old_session"] += 1
                    continue
                health[device_id] = new
                statuses.append((device_id, new.session, payload["state"], format_time(at)))
                self.stats["statuses"] += 1
            else:
                interval = payload.get("interval_s")
                if not isinstance(interval, int | float) or isinstance(interval, bool):
                    interval = None
                credited = credit(h, at, interval or h.interval_s or self.default_interval_s)
                uptime += [(device_id, day.isoformat(), s) for day, s in credited]
                health[device_id] = apply_heartbeat(h, payload, at, interval)
                beats.append((device_id, format_time(at), payload, interval))
        if statuses or beats:
            self.fleet.write_health(statuses, beats, uptime)
            self.stats["heartbeats_stored"] += len(beats)
        self._health = health

    def _housekeeping(self) -> None:
        self._sync_new_manifests()
        now_m = time.monotonic()
        if now_m < self._next_housekeeping:
            return
        self._next_housekeeping = now_m + _HOUSEKEEPING_EVERY_S
        now = self.clock()
        if self._connected.is_set():
            self._clear_expired_alerts(now)
        if now_m >= self._next_prune:
            self._next_prune = now_m + _PRUNE_EVERY_S
            self.fleet.prune_heartbeats(format_time(now - timedelta(days=HISTORY_DAYS)))

    def _sync_new_manifests(self) -> None:
        """Wake every device whose manifest just changed: it fetches now, not at its next poll."""
        manifests = self.state.manifests
        if manifests is self._manifests_seen:
            return
        self._manifests_seen = manifests
        changed = [d for d, m in manifests.items() if m.version > self._versions.get(d, 0)]
        self._versions = {d: m.version for d, m in manifests.items()}
        if not changed or not self._connected.is_set():
            return
        now = self.clock()
        settings = self.state.settings
        window = sync_window_s(len(changed), settings.sync_window_s, settings.sync_rate_per_s)
        for device_id in changed:
            self.send_command(device_id, "sync", now, window_s=window)
        log.info(
            "mqtt ingest: sync sent to %d device(s) after a publish, spread over %d s",
            len(changed), window,
        )  # fmt: skip

    def _clear_expired_alerts(self, now: datetime) -> None:
        limit = format_time(now)
        for site_id, row in self.fleet.current_alerts().items():
            if row.expires_at <= limit and site_id not in self._cleared:
                # Only the retained copy goes; devices drop the alert at its expiry themselves.
                self.client.publish(topics.alert_topic(site_id), b"", qos=1, retain=True)
                self._cleared.add(site_id)


def _is_alert_topic(topic: str) -> bool:
    parts = topic.split("/")
    return len(parts) == 5 and parts[2] == "sites" and parts[4] == "alert"
