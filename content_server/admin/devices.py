"""Screens: enrol one (its configuration shown and downloadable once), its page with
live health and a screenshot on request, re-key and revoke.

The rules are the API's: enrolling and re-keying need an editor of the device's site
(``provisioning.issue``, as ``POST /api/v1/devices``), revoking an administrator
(``routers/fleet.revoke``); a device outside the user's sites is 404. The
configuration is never stored: the page that shows it is the only copy (no-store),
and the download button carries it in the page itself.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated
from urllib.parse import quote

from fastapi import Form, Path, Request
from fastapi.responses import HTMLResponse, Response

from signage_core import topics
from signage_core.timefmt import format_time

from ..access import AuditTrail, Scope, client_address
from ..deps import State
from ..errors import ConflictError, ContentServerError, ForbiddenError
from ..models import Device
from ..provisioning import MAX_NAME_CHARS, EnrolmentUnavailableError, Issued, issue
from ..routers import fleet as fleet_api
from ..state import ServerState
from ..store import FleetStore
from .fleet import STATE_LABELS, fleet_rows, site_name
from .i18n import N_
from .web import (
    PREFIX,
    SessionAdmin,
    SessionEditor,
    SessionScope,
    render,
    router,
    translator,
)

DeviceId = Annotated[str, Path(max_length=64)]
ID_HELP = N_(
    "Lowercase letters, digits and hyphens, starting with the site's id, like adot-hall-2."
)


def scoped_device(scope: Scope, state: ServerState, device_id: str) -> Device:
    """The device, if it is at one of the user's sites; 404 otherwise (as the API)."""
    return scope.check_entity(
        state.store.device(device_id), N_("There is no such screen at the sites you manage.")
    )


def _enrol_form(
    request: Request,
    scope: Scope,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    tr = translator(request)
    sites = sorted(((s, site_name(scope.sites[s], tr.lang)) for s in scope.ids), key=lambda p: p[0])
    return render(
        request,
        "device_new.html",
        {
            "sites": sites,
            "values": values or {},
            "errors": errors or {},
            "id_help": ID_HELP,
            "max_name": MAX_NAME_CHARS,
        },
        status=status,
    )


def _shown_once(request: Request, issued: Issued, rekeyed: bool) -> HTMLResponse:
    return render(
        request,
        "device_enrolled.html",
        {
            "device": issued.device,
            "name": issued.name,
            "config": issued.config,
            "download": "data:application/toml;charset=utf-8," + quote(issued.config),
            "filename": f"{issued.device.id}.toml",
            "rekeyed": rekeyed,
            "note": issued.broker_note,
        },
        status=200 if rekeyed else 201,
    )


@router.get("/devices/new")
def enrol_form(request: Request, scope: SessionScope, _: SessionEditor) -> HTMLResponse:
    return _enrol_form(request, scope)


@router.post("/devices/new")
def enrol_submit(
    request: Request,
    scope: SessionScope,
    user: SessionEditor,
    state: State,
    device_id: Annotated[str, Form(alias="id", max_length=200)] = "",
    site_id: Annotated[str, Form(max_length=200)] = "",
    name: Annotated[str, Form(max_length=1000)] = "",
) -> HTMLResponse:
    tr = translator(request)
    device_id = device_id.strip()
    values = {"id": device_id, "site_id": site_id, "name": name}
    errors: dict[str, str] = {}
    if site_id not in scope.ids:
        errors["site_id"] = tr.gettext(N_("Choose one of your sites."))
    if not topics.valid_id(device_id):
        errors["id"] = tr.gettext(ID_HELP)
    if len(name.strip()) > MAX_NAME_CHARS:
        errors["name"] = tr.gettext(N_("At most %(n)s characters."), n=MAX_NAME_CHARS)
    if not errors:
        old = state.store.device(device_id)
        try:
            scope.check_new_id(device_id, "device", old.site_id if old else None, old is not None)
        except ConflictError:
            errors["id"] = tr.gettext(
                N_("A screen with this id exists already. Choose another id, or re-key it.")
            )
        except ForbiddenError:
            errors["id"] = tr.gettext(
                N_("This id cannot be used at your sites: start it with your site's id.")
            )
    if errors:
        return _enrol_form(request, scope, values=values, errors=errors, status=422)
    try:
        issued = issue(
            state,
            device_id,
            site_id,
            name,
            replace=False,
            request_url=str(request.base_url).rstrip("/"),
            user=user.username,
            address=client_address(request),
        )
    except EnrolmentUnavailableError as e:
        errors["form"] = tr.gettext(
            N_(
                "This server is not set up to enrol screens from the browser: ask the "
                "technician (%(detail)s)."
            ),
            detail=str(e),
        )
        return _enrol_form(request, scope, values=values, errors=errors, status=503)
    return _shown_once(request, issued, rekeyed=False)


@router.get("/devices/{device_id}")
def device_page(
    request: Request,
    device_id: DeviceId,
    scope: SessionScope,
    state: State,
    notice: str = "",
) -> HTMLResponse:
    device = scoped_device(scope, state, device_id)
    rows = [r for r in fleet_rows(request, state, {device.site_id}) if r.id == device.id]
    tr = translator(request)
    notices = {
        "revoked": N_("The screen was revoked: its token and broker account no longer work.")
    }
    return render(
        request,
        "device.html",
        {
            "device": device,
            "row": rows[0] if rows else None,
            "labels": STATE_LABELS,
            "site": site_name(scope.sites[device.site_id], tr.lang),
            "name": state.store.device_names().get(device.id, ""),
            "can_edit": scope.user.role in ("admin", "editor"),
            "is_admin": scope.user.role == "admin",
            "now": state.clock(),
            "notice": notices.get(notice, ""),
        },
    )


@router.post("/devices/{device_id}/rekey")
def rekey(
    request: Request, device_id: DeviceId, scope: SessionScope, user: SessionEditor, state: State
) -> HTMLResponse:
    device = scoped_device(scope, state, device_id)
    issued = issue(
        state,
        device.id,
        device.site_id,
        "",
        replace=True,
        request_url=str(request.base_url).rstrip("/"),
        user=user.username,
        address=client_address(request),
    )
    return _shown_once(request, issued, rekeyed=True)


@router.post("/devices/{device_id}/revoke")
def revoke(
    request: Request, device_id: DeviceId, scope: SessionScope, user: SessionAdmin, state: State
) -> Response:
    device = scoped_device(scope, state, device_id)
    fleet_api.revoke(device, user, request, state)
    location = f"{PREFIX}/devices/{device.id}?notice=revoked"
    return Response(status_code=303, headers={"location": location})


@router.post("/devices/{device_id}/screenshot")
def ask_screenshot(
    request: Request, device_id: DeviceId, scope: SessionScope, user: SessionEditor, state: State
) -> HTMLResponse:
    """Ask the device for a picture of its screen (the API's command), then show the
    panel that waits for it."""
    device = scoped_device(scope, state, device_id)
    audit = AuditTrail(state, user, client_address(request))
    asked_at = format_time(state.clock() - timedelta(seconds=1))
    try:
        fleet_api.post_command(
            device, fleet_api.CommandIn(cmd="screenshot", ttl_s=120), user, request, state, audit
        )
    except ContentServerError as e:
        return _shot_panel(request, state, device, asked_at, error=str(e))
    return _shot_panel(request, state, device, asked_at)


@router.get("/devices/{device_id}/screenshot-panel")
def screenshot_panel(
    request: Request, device_id: DeviceId, scope: SessionScope, state: State, since: str = ""
) -> HTMLResponse:
    device = scoped_device(scope, state, device_id)
    return _shot_panel(request, state, device, since)


def _shot_panel(
    request: Request, state: ServerState, device: Device, since: str, error: str = ""
) -> HTMLResponse:
    row = FleetStore(state.store).screenshot(device.id)
    fresh = row is not None and (not since or row.taken_at >= since)
    return render(
        request,
        "_screenshot.html",
        {
            "device": device,
            "shot": row if fresh else None,
            "waiting": bool(since) and not fresh and not error,
            "since": since,
            "error": error,
        },
    )


@router.get("/devices/{device_id}/screenshot.png")
def screenshot_png(device_id: DeviceId, scope: SessionScope, state: State) -> Response:
    device = scoped_device(scope, state, device_id)
    return fleet_api.get_screenshot(device, state)
