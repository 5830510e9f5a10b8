"""Fleet health and control: ``/api/v1/fleet``, ``/api/v1/devices/{id}`` and its commands.

Users see the devices of the sites they manage (their site and below): a
device elsewhere is answered as if it did not exist. Reading needs any role;
commands need ``editor``; revoking needs ``admin``. A device uploads its
screenshot with its own token. Health comes from ``ingest.FleetLink`` (live
MQTT); without a broker the server answers what its database remembers.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

import anyio
from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from signage_core.timefmt import format_time

from .. import broker
from ..access import AdminUser, Audit, EditorUser, ScopedDevice, UserScope
from ..deps import OwnDevice, State
from ..errors import ContentServerError, InvalidInputError, NotFoundError
from ..health import DeviceHealth, state_at
from ..ingest import FleetLink, load_health
from ..models import Device, descendants
from ..state import ServerState
from ..store import FleetStore

router = APIRouter(tags=["fleet"])
MAX_SCREENSHOT_BYTES = 8 * 1024 * 1024
HealthState = Literal["online", "stale", "offline", "unknown"]


class MqttUnavailableError(ContentServerError):
    status = 503
    title = "MQTT unavailable"
    code = "mqtt-unavailable"


class HealthOut(BaseModel):
    state: HealthState = Field(description="online, stale (3 intervals silent), offline, unknown")
    session: int = Field(description="The device's newest MQTT session number.")
    status: str | None = Field(description="The newest status it (or its last will) sent.")
    status_at: str | None
    last_heartbeat_at: str | None = Field(description="When the server received it.")
    heartbeat: dict[str, Any] | None = Field(description="The newest heartbeat, as sent.")


class DeviceStatusOut(BaseModel):
    id: str
    site_id: str
    revoked: bool
    manifest_version: int | None = Field(description="Newest manifest published for it.")
    health: HealthOut


class CommandIn(BaseModel):
    cmd: Literal["sync", "screenshot", "restart", "overlay"]
    ttl_s: int = Field(300, ge=1, le=86400, description="Dropped by the device after this.")


class CommandOut(BaseModel):
    cmd: str
    id: str
    issued_at: str
    expires_at: str


def _fleet(request: Request) -> FleetLink | None:
    fleet: FleetLink | None = request.app.state.fleet
    return fleet


def _health_map(request: Request, state: State) -> dict[str, DeviceHealth]:
    fleet = _fleet(request)
    return fleet.snapshot() if fleet is not None else load_health(FleetStore(state.store))


def _t(value: datetime | None) -> str | None:
    return format_time(value) if value else None


def _out(d: Device, h: DeviceHealth | None, state: State, now: datetime) -> DeviceStatusOut:
    h = h or DeviceHealth(d.id)
    cached = state.manifests.get(d.id)
    return DeviceStatusOut(
        id=d.id,
        site_id=d.site_id,
        revoked=d.revoked,
        manifest_version=cached.version if cached else None,
        health=HealthOut(
            state="offline" if d.revoked else state_at(h, now, state.settings.heartbeat_interval_s),  # type: ignore[arg-type]
            session=h.session,
            status=h.status_state,
            status_at=_t(h.status_at),
            last_heartbeat_at=_t(h.heartbeat_at),
            heartbeat=h.heartbeat,
        ),
    )


@router.get("/fleet", summary="Health of every device of the sites you manage")
def fleet(
    request: Request,
    scope: UserScope,
    state: State,
    site: Annotated[str | None, Query(description="Only this site and the sites below it.")] = None,
    health: Annotated[HealthState | None, Query(alias="state")] = None,
) -> list[DeviceStatusOut]:
    ids = scope.ids
    if site is not None:
        scope.check_site(site)
        ids = ids & descendants(site, scope.sites)
    now = state.clock()
    known = _health_map(request, state)
    out = [
        _out(d, known.get(d.id), state, now)
        for d in state.store.devices(include_revoked=True)
        if d.site_id in ids
    ]
    return [d for d in out if health is None or d.health.state == health]


@router.get("/devices/{device_id}", summary="A device: its site, manifest and live health")
def get_device(device: ScopedDevice, request: Request, state: State) -> DeviceStatusOut:
    return _out(device, _health_map(request, state).get(device.id), state, state.clock())


@router.post(
    "/devices/{device_id}/commands",
    status_code=202,
    summary="Send a device a command (sync, screenshot, restart) over MQTT",
)
def post_command(
    device: ScopedDevice,
    body: CommandIn,
    _: EditorUser,
    request: Request,
    state: State,
    audit: Audit,
) -> CommandOut:
    fleet = _fleet(request)
    if fleet is None or not fleet.connected:
        raise MqttUnavailableError(
            "the server is not connected to the MQTT broker, so it cannot reach devices now; "
            "check `--mqtt-url` and that Mosquitto runs"
        )
    if device.revoked:
        raise InvalidInputError(f"device {device.id} is revoked")
    payload = fleet.send_command(device.id, body.cmd, state.clock(), timedelta(seconds=body.ttl_s))
    audit("command", device.id, {"cmd": body.cmd, "id": payload["id"]})
    return CommandOut(**payload)


@router.post(
    "/devices/{device_id}/revoke", summary="Revoke a device: token and MQTT account stop working"
)
def revoke(
    device: ScopedDevice, user: AdminUser, request: Request, state: State
) -> DeviceStatusOut:
    broker.revoke_device(
        state.store,
        device.id,
        format_time(state.clock()),
        user=user.username,
        address=request.client.host if request.client else "",
    )
    state.reload()  # the token map: refused from the next request on
    revoked = state.store.device(device.id) or device
    return _out(revoked, None, state, state.clock())


_PNG = b"\x89PNG\r\n\x1a\n"


@router.post(
    "/devices/{device_id}/screenshot",
    status_code=204,
    summary="A device uploads a PNG of its screen (device token), or says it has none",
    openapi_extra={
        "requestBody": {
            "content": {
                "image/png": {"schema": {"type": "string", "format": "binary"}},
                "application/json": {"schema": {"type": "object"}},
            }
        }
    },
)
async def post_screenshot(device_id: OwnDevice, request: Request, state: State) -> Response:
    body = await request.body()
    if len(body) > MAX_SCREENSHOT_BYTES:
        raise InvalidInputError("a screenshot may be at most 8 MiB")
    headless = request.headers.get("content-type", "").startswith("application/json")
    if not headless and not body.startswith(_PNG):
        raise InvalidInputError("send the screenshot as a PNG (Content-Type: image/png)")
    await anyio.to_thread.run_sync(_store_screenshot, state, device_id, None if headless else body)
    return Response(status_code=204)


def _store_screenshot(state: ServerState, device_id: str, png: bytes | None) -> None:
    now = format_time(state.clock())
    fleet = FleetStore(state.store)
    if png is None:
        fleet.put_screenshot(device_id, now, None, "this device has no screen (headless)")
        return
    folder = state.settings.data_dir / "screenshots"
    folder.mkdir(exist_ok=True)
    name = f"{device_id}.png"
    tmp = folder / f".{name}.tmp"
    tmp.write_bytes(png)
    tmp.replace(folder / name)
    fleet.put_screenshot(device_id, now, name, "")


@router.get(
    "/devices/{device_id}/screenshot",
    summary="The newest screenshot the device uploaded",
    responses={200: {"content": {"image/png": {}}}},
)
def get_screenshot(device: ScopedDevice, state: State) -> Response:
    row = FleetStore(state.store).screenshot(device.id)
    if row is None:
        raise NotFoundError(
            f"device {device.id} has not sent a screenshot yet; send it the 'screenshot' command"
        )
    if row.file is None or not re.fullmatch(r"[a-z0-9-]+\.png", row.file):
        raise NotFoundError(f"device {device.id} has no screen: {row.note}")
    data = (state.settings.data_dir / "screenshots" / row.file).read_bytes()
    return Response(data, media_type="image/png", headers={"X-Taken-At": row.taken_at})


@router.get("/fleet/ingest", summary="Counters of the MQTT ingest (admins)")
def ingest_stats(_: AdminUser, request: Request) -> dict[str, int]:
    fleet = _fleet(request)
    return dict(fleet.stats) if fleet is not None else {}
