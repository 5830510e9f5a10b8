"""Emergency alerts: signing them, cancelling them, and which ones a manifest carries.

An editor posts an alert for a site with a title and body in every language
of the site, a severity and an expiry; ``issue_alert`` signs it like a
manifest (``signage_core.alert``) and stores it. ``cancel_alert`` signs a
cancel with a higher version: devices require a signed cancel, so nobody but
the server can take an alert off the screens. Each site has one current
alert document (the newest one signed for it), which ``ingest.FleetLink``
publishes retained on the site's topic, and which ``manifest_alerts`` puts in
the manifests of the site and every site below it, for devices that miss the
MQTT message.

Alerts are signed with every key given (the server's current keys: two during
a key rotation, like manifests). Publishing the manifests and the MQTT message
is the caller's (the alerts router), so this module only decides, signs and
stores. ``now`` is an argument.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from signage_core.alert import SCHEMA, SEVERITIES, parse_alert
from signage_core.canonical import canonical_json
from signage_core.signing import SigningKey, sign_envelope
from signage_core.timefmt import format_time

from .errors import InvalidInputError, NotFoundError
from .models import AlertRecord, Site, effective_languages, site_chain
from .store import FleetStore, Store

MAX_ALERT_TTL = timedelta(days=7)
# The signed envelope, as published on MQTT: well below the broker's max_packet_size
# (65536 in the config `content-server mqtt-config` writes), which drops the connection
# of a client that sends more.
MAX_ALERT_BYTES = 24 * 1024


@dataclass(frozen=True)
class SignedAlert:
    id: str
    site_id: str
    version: int
    state: str
    envelope: bytes  # canonical JSON, published and stored as it is
    expires_at: str


def _sign_and_store(
    store: Store, keys: list[SigningKey], signed: dict[str, Any], user: str
) -> SignedAlert:
    parse_alert(signed)  # never sign what a device would refuse
    envelope = canonical_json(sign_envelope(signed, keys))
    if len(envelope) > MAX_ALERT_BYTES:
        raise InvalidInputError(
            f"the signed alert would be {len(envelope) // 1024 + 1} KiB, over the "
            f"{MAX_ALERT_BYTES // 1024} KiB an alert may have on MQTT; shorten the texts "
            "(the bodies above all) and post it again"
        )
    FleetStore(store).put_alert(
        AlertRecord(
            id=signed["id"],
            site_id=signed["site_id"],
            version=signed["version"],
            state=signed["state"],
            severity=signed["severity"],
            issued_at=signed["issued_at"],
            expires_at=signed["expires_at"],
            created_by=user,
            envelope=envelope.decode("utf-8"),
        )
    )
    return SignedAlert(
        signed["id"],
        signed["site_id"],
        signed["version"],
        signed["state"],
        envelope,
        signed["expires_at"],
    )


def issue_alert(
    store: Store,
    keys: list[SigningKey],
    now: datetime,
    *,
    site_id: str,
    severity: str,
    texts: Mapping[str, Mapping[str, str]],
    expires_at: datetime,
    user: str,
    address: str,
) -> SignedAlert:
    """Sign and store a new alert for ``site_id`` (it replaces the site's current one)."""
    if severity not in SEVERITIES:
        raise InvalidInputError(f"severity must be one of {', '.join(SEVERITIES)}")
    if expires_at <= now:
        raise InvalidInputError("the alert's expiry is in the past; give a later expires_at")
    if expires_at - now > MAX_ALERT_TTL:
        raise InvalidInputError("an alert may last at most 7 days; post a new one after that")
    with store.transaction():
        sites = store.sites()
        if site_id not in sites:
            raise NotFoundError(f"site {site_id!r} does not exist")
        wanted = effective_languages(site_id, sites)
        unknown = [lang for lang in texts if lang not in wanted]
        if unknown:
            raise InvalidInputError(
                f"site {site_id} shows {', '.join(wanted)} only: remove the text(s) in "
                f"{', '.join(unknown[:5])}{' …' if len(unknown) > 5 else ''}, or add the "
                "language to the site first"
            )
        missing = [lang for lang in wanted if lang not in texts]
        if missing:
            raise InvalidInputError(
                f"site {site_id} shows {', '.join(wanted)}: write the alert in "
                f"{', '.join(missing)} too, so every traveller can read it"
            )
        for lang, t in texts.items():
            if not t.get("title", "").strip():
                raise InvalidInputError(f"the alert's title in {lang} is empty")
        fleet = FleetStore(store)
        signed: dict[str, Any] = {
            "schema": SCHEMA,
            "id": f"a-{uuid.uuid4().hex[:16]}",
            "site_id": site_id,
            "version": fleet.next_alert_version(),
            "issued_at": format_time(now),
            "expires_at": format_time(expires_at),
            "state": "active",
            "severity": severity,
            "texts": {
                lang: {"title": t["title"], "body": t.get("body", "")} for lang, t in texts.items()
            },
        }
        alert = _sign_and_store(store, keys, signed, user)
        store.audit(
            signed["issued_at"],
            user,
            "issue alert",
            alert.id,
            address,
            {"site": site_id, "severity": severity, "expires_at": signed["expires_at"]},
        )
    return alert


def cancel_alert(
    store: Store, keys: list[SigningKey], now: datetime, alert_id: str, *, user: str, address: str
) -> SignedAlert:
    """Sign a cancel for the alert (kept until the alert would have expired)."""
    with store.transaction():
        fleet = FleetStore(store)
        row = fleet.alert(alert_id)
        if row is None:
            raise NotFoundError(f"alert {alert_id!r} does not exist")
        old = json.loads(row.envelope)["signed"]
        if row.state == "cancelled":
            return SignedAlert(
                row.id, row.site_id, row.version, row.state, row.envelope.encode(), row.expires_at
            )
        signed = {
            **old,
            "version": fleet.next_alert_version(),
            "issued_at": format_time(now),
            "state": "cancelled",
        }
        alert = _sign_and_store(store, keys, signed, user)
        store.audit(signed["issued_at"], user, "cancel alert", alert_id, address, {})
    return alert


def manifest_alerts(
    site_id: str,
    sites: Mapping[str, Site],
    current: Mapping[str, AlertRecord],
    issued_at: str,
) -> dict[str, Any]:
    """The manifest fields for alerts: ``alert_sites`` (the site and its ancestors,
    whose alert topics the device follows) and ``alerts`` (their current signed
    alert envelopes, active or cancelled, not expired at ``issued_at``)."""
    chain = [s.id for s in site_chain(site_id, sites)] or [site_id]
    docs = [
        json.loads(current[s].envelope)
        for s in chain
        if s in current and current[s].expires_at > issued_at
    ]
    return {"alert_sites": chain, "alerts": docs}
