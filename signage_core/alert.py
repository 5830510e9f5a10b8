"""Signed emergency alerts: their shape, trusting one, and which ones show now.

An alert is an envelope signed like a manifest (``signage_core.signing``)::

    {"signed": {"schema": "border-signage/alert@1", "id": "a-...", "site_id": "adot",
                "version": 41, "issued_at": ..., "expires_at": ...,
                "state": "active" | "cancelled", "severity": "info" | "warning" | "emergency",
                "texts": {"vi": {"title": ..., "body": ...}, "lo": {...}}},
     "signatures": [{"keyid": ..., "sig": ...}]}

The server keeps one current alert per site and publishes it retained on
``topics.alert_topic(site_id)``; it is also listed in the next manifest's
``alerts``. ``version`` grows with every alert or cancel the server signs, so a
newer document for a site replaces an older one and a replayed old one is
ignored. A cancel is itself signed (``state: "cancelled"``): an empty or forged
message cannot take a real alert off a screen, it can only be ignored.

``accept_alert`` decides whether a device trusts one; ``AlertBoard`` keeps the
newest per site and answers which show now. Clocks, MQTT and drawing are the
callers'.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .errors import ManifestError, TrustError
from .signing import PublicKey, open_envelope
from .timefmt import parse_time

SCHEMA = "border-signage/alert@1"
STATES = ("active", "cancelled")
# Highest first: the order in which a screen stacks them.
SEVERITIES = ("emergency", "warning", "info")
MAX_TEXT_CHARS = 2000


@dataclass(frozen=True)
class Alert:
    """A trusted alert; ``signed`` is kept as received (it can be re-verified)."""

    signed: dict[str, Any]
    id: str
    site_id: str
    version: int
    issued_at: datetime
    expires_at: datetime
    state: str
    severity: str
    texts: dict[str, dict[str, str]]

    def is_expired(self, reference_time: datetime) -> bool:
        return reference_time >= self.expires_at

    def shows_at(self, reference_time: datetime) -> bool:
        return self.state == "active" and not self.is_expired(reference_time)

    def text(self, language: str) -> dict[str, str] | None:
        return self.texts.get(language)


def _need(d: dict[str, Any], key: str, kind: type) -> Any:
    if key not in d:
        raise ManifestError(f"alert: '{key}' is missing")
    value = d[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ManifestError(f"alert: '{key}' has the wrong type")
    return value


def parse_alert(signed: Any) -> Alert:
    """Check the shape of an alert's ``signed`` part; raise ``ManifestError``."""
    if not isinstance(signed, dict):
        raise ManifestError("alert: 'signed' must be an object")
    if signed.get("schema") != SCHEMA:
        raise ManifestError(f"alert: schema {signed.get('schema')!r} is not {SCHEMA!r}")
    version = _need(signed, "version", int)
    if version < 1:
        raise ManifestError("alert: version must be 1 or more")
    state = _need(signed, "state", str)
    if state not in STATES:
        raise ManifestError(f"alert: state {state!r} is not one of {STATES}")
    severity = _need(signed, "severity", str)
    if severity not in SEVERITIES:
        raise ManifestError(f"alert: severity {severity!r} is not one of {SEVERITIES}")
    texts = _need(signed, "texts", dict)
    if state == "active" and not texts:
        raise ManifestError("alert: an active alert needs a text in at least one language")
    for lang, t in texts.items():
        if not isinstance(t, dict) or not all(isinstance(t.get(k), str) for k in ("title", "body")):
            raise ManifestError(f"alert: texts.{lang} needs a 'title' and a 'body' string")
        if len(t["title"]) + len(t["body"]) > MAX_TEXT_CHARS:
            raise ManifestError(f"alert: texts.{lang} is longer than {MAX_TEXT_CHARS} characters")
    return Alert(
        signed=signed,
        id=_need(signed, "id", str),
        site_id=_need(signed, "site_id", str),
        version=version,
        issued_at=parse_time(signed.get("issued_at"), "issued_at"),
        expires_at=parse_time(signed.get("expires_at"), "expires_at"),
        state=state,
        severity=severity,
        texts={lang: {"title": t["title"], "body": t["body"]} for lang, t in texts.items()},
    )


def accept_alert(
    envelope: Any,
    trusted_keys: Mapping[str, PublicKey],
    sites: Iterable[str],
    topic_site: str | None = None,
) -> Alert:
    """The alert if a trusted key signed it and it is for one of ``sites``.

    ``sites`` is the device's site and its ancestors (an alert for a gate
    reaches every screen below it); ``topic_site`` the site named by the topic
    it came on, which must be the one it names inside. Raises ``RefusedError``
    (``unknown_key``, ``bad_signature``, ``malformed``, ``wrong_site``). Expiry
    is not a refusal: an expired alert is trusted and simply not shown.
    """
    alert = open_envelope(envelope, trusted_keys, parse_alert, "alert")
    if topic_site is not None and alert.site_id != topic_site:
        raise TrustError(
            "wrong_site", f"alert for site {alert.site_id!r} came on the topic of {topic_site!r}"
        )
    if alert.site_id not in set(sites):
        raise TrustError("wrong_site", f"alert is for site {alert.site_id!r}, not this device's")
    return alert


@dataclass
class AlertBoard:
    """The newest trusted alert document per site. Not thread-safe: the caller locks."""

    by_site: dict[str, Alert] = field(default_factory=dict)

    def apply(self, alert: Alert) -> bool:
        """Keep ``alert`` if it is newer than what is held for its site; True if it changed."""
        held = self.by_site.get(alert.site_id)
        if held is not None and held.version >= alert.version:
            return False
        self.by_site[alert.site_id] = alert
        return True

    def showing(self, reference_time: datetime) -> list[Alert]:
        """Alerts to show now: most severe first, then newest first."""
        live = [a for a in self.by_site.values() if a.shows_at(reference_time)]
        return sorted(live, key=lambda a: (SEVERITIES.index(a.severity), -a.version))

    def next_change_at(self, reference_time: datetime) -> datetime | None:
        """When the earliest alert on show expires (the UI arms one timer for it)."""
        ends = [a.expires_at for a in self.showing(reference_time)]
        return min(ends) if ends else None
