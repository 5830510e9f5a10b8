"""``/api/v1/devices``: a device's manifest and records (device token), the list (users).

The manifest route is the hot path: ``async``, answered from memory with the
precomputed envelope bytes; ``ETag`` is the version, so an unchanged manifest
costs a ``304``. ``manifest_answer`` builds that answer for this route and for
``content_server.fastpath``, which sends it before FastAPI routes a valid poll.

Records are bounded per device (a stolen device token cannot fill the disk): a
record bigger than ``event_max_bytes`` is 413 (the device sets it aside), a batch
past the device's allowance (``events_per_hour``, ``event_burst``) is 429 with
``Retry-After`` (the device keeps it and sends it later).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, Response
from pydantic import BaseModel, Field

from signage_core import topics
from signage_core.timefmt import format_time

from ..access import EditorUser, ScopedDevice, UserScope, client_address
from ..deps import CurrentUser, OwnDevice, State
from ..errors import NotFoundError, PayloadTooLargeError, TooManyRequestsError
from ..models import Device, descendants
from ..provisioning import MAX_NAME_CHARS, Issued, issue
from ..schemas import DeviceOut, EventBatch, EventsAccepted
from ..state import CachedManifest

router = APIRouter(prefix="/devices", tags=["devices"])


def etag_matches(if_none_match: str, etag: str) -> bool:
    tags = [t.strip() for t in if_none_match.split(",")]
    return "*" in tags or any(t.removeprefix("W/") == etag for t in tags)


@dataclass(frozen=True)
class ManifestAnswer:
    """A manifest poll's answer as sent: status, raw ASGI headers, body."""

    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes

    def response(self) -> Response:
        response = Response(self.body, status_code=self.status)
        response.raw_headers = list(self.headers)
        return response

    async def send(self, send: Any) -> None:
        await send({"type": "http.response.start", "status": self.status, "headers": self.headers})
        await send({"type": "http.response.body", "body": self.body})


def manifest_answer(cached: CachedManifest, if_none_match: str | None) -> ManifestAnswer:
    """``200`` with the envelope bytes, or ``304`` if ``If-None-Match`` names its version."""
    headers = [(b"etag", cached.etag.encode()), (b"cache-control", b"no-cache")]
    if if_none_match is not None and etag_matches(if_none_match, cached.etag):
        return ManifestAnswer(304, headers, b"")
    headers += [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(cached.body)).encode()),
    ]
    return ManifestAnswer(200, headers, cached.body)


@router.get(
    "/{device_id}/manifest",
    summary="The device's signed manifest",
    responses={
        200: {"content": {"application/json": {}}, "description": "The signed envelope."},
        304: {"description": "Unchanged since the version in If-None-Match."},
    },
)
async def get_manifest(
    device_id: OwnDevice,
    state: State,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    cached = state.manifests.get(device_id)
    if cached is None:
        raise NotFoundError(
            f"no manifest has been published for device {device_id!r} yet; "
            "import playlists for its site or run `content-server publish`"
        )
    return manifest_answer(cached, if_none_match).response()


@router.post(
    "/{device_id}/events",
    summary="Store proof-of-play and feedback records",
    responses={
        413: {
            "description": "A record is bigger than the server takes (the device sets it aside)."
        },
        429: {
            "description": "Over the device's allowance: keep the records, send after Retry-After."
        },
    },
)
def post_events(device_id: OwnDevice, batch: EventBatch, state: State) -> EventsAccepted:
    records = []
    limit = state.settings.event_max_bytes
    for event in batch.events:
        body = event.model_dump(mode="json")
        body["id"] = str(event.id)
        record = {**body, "ts": format_time(event.ts)}
        size = len(json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode())
        if size > limit:
            raise PayloadTooLargeError(
                f"record {record['id']} is {size} bytes; a record may have at most {limit} "
                "(a feedback comment is at most 500 characters)"
            )
        records.append(record)
    wait = state.event_limit.take(device_id, len(records), state.clock().timestamp())
    if wait > 0:
        raise TooManyRequestsError(
            f"device {device_id} sent more records than the server takes for now "
            f"({state.settings.events_per_hour:g} an hour); keep them and send them again "
            "after Retry-After seconds",
            retry_after=max(1, math.ceil(wait)),
        )
    new, dup = state.store.add_events(device_id, records, format_time(state.clock()))
    return EventsAccepted(accepted=new, duplicates=dup)


@router.get("", summary="Devices of the sites you manage")
def list_devices(user: CurrentUser, state: State) -> list[DeviceOut]:
    sites = state.store.sites()
    scope = set(sites) if user.site_id is None else descendants(user.site_id, sites)
    return [
        device_out(d, state)
        for d in state.store.devices(include_revoked=True)
        if d.site_id in scope
    ]


def device_out(d: Device, state: State) -> DeviceOut:
    cached = state.manifests.get(d.id)
    return DeviceOut(
        id=d.id,
        site_id=d.site_id,
        created_at=d.created_at,
        revoked=d.revoked,
        manifest_version=cached.version if cached else None,
    )


class DeviceIn(BaseModel):
    id: str = Field(
        max_length=64, description="Lowercase letters, digits and hyphens, like adot-hall-2."
    )
    site_id: str = Field(max_length=64, description="A site you manage.")
    name: str = Field("", max_length=MAX_NAME_CHARS, description="What people call it.")


class EnrolledOut(BaseModel):
    id: str
    site_id: str
    name: str
    token: str = Field(description="The device's bearer token: in `config`, shown only now.")
    mqtt_password: str = Field(description="Its MQTT password: in `config`, shown only now.")
    config: str = Field(
        description="The device's whole configuration file (TOML), as `content-server "
        "add-device` writes it. The server keeps only hashes: this is the only copy."
    )
    note: str = Field(
        "", description="What is left to do by hand (the broker not updated), if anything."
    )


def _enrolled(issued: Issued) -> EnrolledOut:
    return EnrolledOut(
        id=issued.device.id,
        site_id=issued.device.site_id,
        name=issued.name,
        token=issued.credentials.token,
        mqtt_password=issued.credentials.mqtt_password,
        config=issued.config,
        note=issued.broker_note,
    )


def _request_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


@router.post(
    "",
    status_code=201,
    summary="Enrol a device: its credentials and configuration file, shown once",
    responses={
        409: {"description": "A device with this id exists already (re-key it instead)."},
        503: {"description": "The server does not know the broker's address for devices."},
    },
)
def enrol_device(
    body: DeviceIn, user: EditorUser, scope: UserScope, request: Request, state: State
) -> EnrolledOut:
    scope.check_site(body.site_id)
    old = state.store.device(body.id)
    if topics.valid_id(body.id):  # a malformed id gets enrol()'s message
        scope.check_new_id(body.id, "device", old.site_id if old else None, old is not None)
    issued = issue(
        state,
        body.id,
        body.site_id,
        body.name,
        replace=False,
        request_url=_request_url(request),
        user=user.username,
        address=client_address(request),
    )
    return _enrolled(issued)


@router.post(
    "/{device_id}/rekey",
    summary="New credentials for a device (its old configuration stops working)",
    responses={503: {"description": "The server does not know the broker's address."}},
)
def rekey_device(
    device: ScopedDevice, user: EditorUser, request: Request, state: State
) -> EnrolledOut:
    issued = issue(
        state,
        device.id,
        device.site_id,
        "",
        replace=True,
        request_url=_request_url(request),
        user=user.username,
        address=client_address(request),
    )
    return _enrolled(issued)
