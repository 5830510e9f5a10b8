"""``/api/v1/alerts``: signed emergency notices shown over everything at a site.

An editor posts one for a site they manage, in every language of the site;
the server signs it, publishes it retained on the site's MQTT topic (devices
show it within seconds, and a device that connects later gets it at once) and
in new manifests for every device at the site and below (a device that misses
MQTT still gets it on its next sync). ``DELETE`` or ``POST …/cancel`` signs a
cancel the same two ways.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Request
from pydantic import AwareDatetime, BaseModel, Field

from ..access import EditorUser, UserScope
from ..alerts import SignedAlert, cancel_alert, issue_alert
from ..deps import State
from ..ingest import FleetLink
from ..models import AlertRecord, descendants
from ..publishing import publish
from ..state import ServerState
from ..store import FleetStore

router = APIRouter(prefix="/alerts", tags=["alerts"])


class AlertText(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    body: str = Field("", max_length=1500)


class AlertIn(BaseModel):
    site_id: str = Field(max_length=64, description="Shown at this site and every site below.")
    severity: Literal["emergency", "warning", "info"] = "emergency"
    texts: dict[str, AlertText] = Field(
        max_length=16,
        description="{language: {title, body}}: every language of the site, no other.",
    )
    expires_at: AwareDatetime = Field(description="When screens stop showing it (≤ 7 days).")


class AlertOut(BaseModel):
    id: str
    site_id: str
    version: int
    state: Literal["active", "cancelled"]
    severity: str
    issued_at: str
    expires_at: str
    texts: dict[str, dict[str, str]]
    delivered_via_mqtt: bool = Field(description="False: devices get it with their next sync.")


def _out(signed: dict[str, Any], mqtt: bool) -> AlertOut:
    keys = ("id", "site_id", "version", "state", "severity", "issued_at", "expires_at", "texts")
    return AlertOut(**{k: signed[k] for k in keys}, delivered_via_mqtt=mqtt)


def _send(request: Request, state: ServerState, alert: SignedAlert, user: str) -> bool:
    """Publish the alert retained, and new manifests (with it) for the devices below."""
    sites = state.store.sites()
    below = descendants(alert.site_id, sites)
    devices = [d.id for d in state.store.devices() if d.site_id in below]
    if devices:
        result = publish(
            state.store,
            state.keys,
            state.clock(),
            state.manifest_ttl,
            user=user,
            address=request.client.host if request.client else "",
            reason=f"alert {alert.id} {alert.state}",
            device_ids=devices,
            only_changed=True,
        )
        state.remember(result)
    fleet: FleetLink | None = request.app.state.fleet
    if fleet is None or not fleet.connected:
        return False
    return fleet.publish_alert(alert.site_id, alert.envelope)


@router.post("", status_code=201, summary="Post an emergency alert for a site")
def post_alert(
    body: AlertIn, user: EditorUser, scope: UserScope, request: Request, state: State
) -> AlertOut:
    scope.check_site(body.site_id)
    alert = issue_alert(
        state.store,
        state.keys,
        state.clock(),
        site_id=body.site_id,
        severity=body.severity,
        texts={lang: t.model_dump() for lang, t in body.texts.items()},
        expires_at=body.expires_at,
        user=user.username,
        address=request.client.host if request.client else "",
    )
    mqtt = _send(request, state, alert, user.username)
    return _out(json.loads(alert.envelope)["signed"], mqtt)


@router.get("", summary="Alerts of the sites you manage, newest first")
def list_alerts(scope: UserScope, state: State) -> list[AlertOut]:
    return [
        _out(json.loads(r.envelope)["signed"], True)
        for r in FleetStore(state.store).alerts()
        if r.site_id in scope.ids
    ]


def _scoped(alert_id: str, scope: UserScope, state: ServerState) -> AlertRecord:
    return scope.check_entity(
        FleetStore(state.store).alert(alert_id),
        f"there is no alert {alert_id!r} at the sites you manage",
    )


AlertId = Annotated[str, Path(max_length=64)]


@router.get("/{alert_id}", summary="One alert")
def get_alert(alert_id: AlertId, scope: UserScope, state: State) -> AlertOut:
    return _out(json.loads(_scoped(alert_id, scope, state).envelope)["signed"], True)


def _cancel(
    alert_id: str, user: EditorUser, scope: UserScope, request: Request, state: ServerState
) -> AlertOut:
    _scoped(alert_id, scope, state)
    alert = cancel_alert(
        state.store,
        state.keys,
        state.clock(),
        alert_id,
        user=user.username,
        address=request.client.host if request.client else "",
    )
    mqtt = _send(request, state, alert, user.username)
    return _out(json.loads(alert.envelope)["signed"], mqtt)


@router.post("/{alert_id}/cancel", summary="Cancel an alert (a signed cancel)")
def post_cancel(
    alert_id: AlertId, user: EditorUser, scope: UserScope, request: Request, state: State
) -> AlertOut:
    return _cancel(alert_id, user, scope, request, state)


@router.delete("/{alert_id}", summary="Cancel an alert (same as POST …/cancel)")
def delete_alert(
    alert_id: AlertId, user: EditorUser, scope: UserScope, request: Request, state: State
) -> AlertOut:
    return _cancel(alert_id, user, scope, request, state)
