"""Alerts: send one to a site (texts in each of its languages, an end time), confirm,
then watch which screens show it, and cancel it.

Sending and cancelling are the API's own routes called in-process
(``routers/alerts.post_alert`` and ``_cancel``): the same checks, the same signing,
MQTT and manifests, the same audit rows. Which screens show an alert comes from
their heartbeats (``alerts.showing``), refreshed on the page every few seconds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from signage_core.timefmt import parse_time

from ..access import Scope
from ..deps import State
from ..errors import ContentServerError
from ..models import AlertRecord, descendants, effective_languages
from ..routers import alerts as alerts_api
from ..state import ServerState
from ..store import FleetStore
from .fleet import STATE_LABELS, fleet_rows, site_name
from .i18n import N_, Translator
from .web import NAV, PREFIX, NavItem, SessionEditor, SessionScope, render, router, translator

NAV.append(NavItem("/admin/alerts", N_("Alerts")))
AlertId = Annotated[str, Path(max_length=64)]
LANGUAGE_NAMES = {"vi": N_("Vietnamese"), "lo": N_("Lao"), "en": N_("English")}
SEVERITIES = {
    "emergency": N_("Emergency"),
    "warning": N_("Warning"),
    "info": N_("Information"),
}
DEFAULT_HOURS = 4


@dataclass(frozen=True)
class Draft:
    """What the form holds, before and after the confirmation step."""

    site_id: str
    severity: str
    texts: dict[str, dict[str, str]]
    expires_local: str  # the form's datetime-local value, in the admin's time zone

    def expires_at(self, tr: Translator) -> datetime | None:
        try:
            moment = datetime.fromisoformat(self.expires_local)
        except ValueError:
            return None
        return moment.replace(tzinfo=tr.zone) if moment.tzinfo is None else moment


def _alert(scope: Scope, state: ServerState, alert_id: str) -> AlertRecord:
    return scope.check_entity(
        FleetStore(state.store).alert(alert_id),
        N_("There is no such alert at the sites you manage."),
    )


def _signed(row: AlertRecord) -> dict[str, Any]:
    signed: dict[str, Any] = json.loads(row.envelope)["signed"]
    return signed


@router.get("/alerts")
def alerts_page(request: Request, scope: SessionScope, state: State) -> HTMLResponse:
    rows = [r for r in FleetStore(state.store).alerts() if r.site_id in scope.ids]
    now = state.clock()
    items: list[dict[str, Any]] = []
    for r in rows:
        signed = _signed(r)
        active = r.state == "active" and parse_time(r.expires_at) > now
        items.append({"row": r, "signed": signed, "active": active})
    items.sort(key=lambda i: i["row"].issued_at, reverse=True)
    items.sort(key=lambda i: not i["active"])  # active first, newest first within
    return render(
        request,
        "alerts.html",
        {
            "items": items,
            "severities": SEVERITIES,
            "site_name": site_name,
            "sites": scope.sites,
            "can_edit": scope.user.role in ("admin", "editor"),
        },
    )


def _form(
    request: Request,
    scope: Scope,
    state: ServerState,
    draft: Draft | None,
    *,
    errors: dict[str, str] | None = None,
    status: int = 200,
    confirm: bool = False,
) -> HTMLResponse:
    tr = translator(request)
    sites = sorted(((s, site_name(scope.sites[s], tr.lang)) for s in scope.ids), key=lambda p: p[0])
    langs = effective_languages(draft.site_id, scope.sites) if draft and draft.site_id else []
    screens = 0
    if draft and draft.site_id in scope.ids:
        below = descendants(draft.site_id, scope.sites)
        screens = sum(d.site_id in below for d in state.store.devices())
    return render(
        request,
        "alert_confirm.html" if confirm else "alert_new.html",
        {
            "sites": sites,
            "draft": draft,
            "langs": langs,
            "language_names": LANGUAGE_NAMES,
            "severities": SEVERITIES,
            "errors": errors or {},
            "screens": screens,
            "site_label": site_name(scope.sites[draft.site_id], tr.lang)
            if draft and draft.site_id in scope.sites
            else "",
            "expires_shown": tr.when(draft.expires_at(tr)) if draft else "",
        },
        status=status,
    )


@router.get("/alerts/new")
def new_alert(
    request: Request,
    scope: SessionScope,
    _: SessionEditor,
    state: State,
    site: Annotated[str, Query(max_length=64)] = "",
) -> HTMLResponse:
    tr = translator(request)
    if site:
        scope.check_site(site)
    until = (state.clock() + timedelta(hours=DEFAULT_HOURS)).astimezone(tr.zone)
    draft = Draft(site, "emergency", {}, until.strftime("%Y-%m-%dT%H:%M")) if site else None
    return _form(request, scope, state, draft)


async def _draft(request: Request) -> Draft:
    form = await request.form()
    texts: dict[str, dict[str, str]] = {}
    for key, value in form.multi_items():
        if isinstance(value, str) and key.startswith(("title_", "body_")):
            kind, lang = key.split("_", 1)
            texts.setdefault(lang, {"title": "", "body": ""})[kind] = value.strip()
    return Draft(
        site_id=str(form.get("site_id", "")),
        severity=str(form.get("severity", "emergency")),
        texts=texts,
        expires_local=str(form.get("expires", "")),
    )


def _check(tr: Translator, scope: Scope, state: ServerState, draft: Draft) -> dict[str, str]:
    errors: dict[str, str] = {}
    scope.check_site(draft.site_id)
    if draft.severity not in SEVERITIES:
        errors["severity"] = tr.gettext(N_("Choose how serious it is."))
    for lang in effective_languages(draft.site_id, scope.sites):
        text = draft.texts.get(lang, {})
        if not text.get("title"):
            errors[f"title_{lang}"] = tr.gettext(N_("Write the title in this language."))
        elif len(text["title"]) > 200:
            errors[f"title_{lang}"] = tr.gettext(N_("At most %(n)s characters."), n=200)
        if len(text.get("body", "")) > 1500:
            errors[f"body_{lang}"] = tr.gettext(N_("At most %(n)s characters."), n=1500)
    expires = draft.expires_at(tr)
    now = state.clock()
    if expires is None:
        errors["expires"] = tr.gettext(N_("Give the date and time when it ends."))
    elif expires <= now:
        errors["expires"] = tr.gettext(N_("The end must be later than now."))
    elif expires - now > timedelta(days=7):
        errors["expires"] = tr.gettext(N_("An alert may last at most 7 days."))
    return errors


@router.post("/alerts/review")
async def review_alert(
    request: Request, scope: SessionScope, _: SessionEditor, state: State
) -> HTMLResponse:
    """The confirmation step: what will be shown, where, until when."""
    draft = await _draft(request)
    tr = translator(request)
    errors = _check(tr, scope, state, draft)
    if errors:
        return _form(request, scope, state, draft, errors=errors, status=422)
    return _form(request, scope, state, draft, confirm=True)


@router.post("/alerts/send")
async def send_alert(
    request: Request, scope: SessionScope, user: SessionEditor, state: State
) -> Response:
    draft = await _draft(request)
    tr = translator(request)
    errors = _check(tr, scope, state, draft)
    expires = draft.expires_at(tr)
    if errors or expires is None:
        return _form(request, scope, state, draft, errors=errors, status=422)
    langs = effective_languages(draft.site_id, scope.sites)
    try:
        body = alerts_api.AlertIn(
            site_id=draft.site_id,
            severity=draft.severity,  # type: ignore[arg-type]
            texts={lang: alerts_api.AlertText(**draft.texts[lang]) for lang in langs},
            expires_at=expires,
        )
        out = alerts_api.post_alert(body, user, scope, request, state)
    except (ContentServerError, ValidationError) as e:
        errors["form"] = str(e)
        return _form(request, scope, state, draft, errors=errors, status=422)
    return Response(status_code=303, headers={"location": f"{PREFIX}/alerts/{out.id}"})


def _showing(request: Request, state: ServerState, row: AlertRecord) -> dict[str, Any]:
    below = descendants(row.site_id, state.store.sites())
    rows = [r for r in fleet_rows(request, state, below) if r.state != "revoked"]
    return {
        "showing": [r for r in rows if row.id in r.alerts_showing],
        "not_showing": [r for r in rows if row.id not in r.alerts_showing],
        "labels": STATE_LABELS,
    }


def _in_site_order(
    texts: dict[str, dict[str, str]], site_id: str, scope: Scope
) -> list[tuple[str, dict[str, str]]]:
    """The texts in the order of the site's languages (Vietnamese first), not A–Z."""
    order = effective_languages(site_id, scope.sites)
    rank = {lang: i for i, lang in enumerate(order)}
    return sorted(texts.items(), key=lambda kv: (rank.get(kv[0], len(rank)), kv[0]))


@router.get("/alerts/{alert_id}")
def alert_page(
    request: Request, alert_id: AlertId, scope: SessionScope, state: State
) -> HTMLResponse:
    row = _alert(scope, state, alert_id)
    signed = _signed(row)
    active = row.state == "active" and parse_time(row.expires_at) > state.clock()
    return render(
        request,
        "alert.html",
        {
            "row": row,
            "signed": signed,
            "texts": _in_site_order(signed["texts"], row.site_id, scope),
            "active": active,
            "severities": SEVERITIES,
            "language_names": LANGUAGE_NAMES,
            "site": site_name(scope.sites[row.site_id], translator(request).lang),
            "can_edit": scope.user.role in ("admin", "editor"),
            **_showing(request, state, row),
        },
    )


@router.get("/alerts/{alert_id}/devices")
def alert_devices(
    request: Request, alert_id: AlertId, scope: SessionScope, state: State
) -> HTMLResponse:
    row = _alert(scope, state, alert_id)
    return render(request, "_alert_devices.html", {"row": row, **_showing(request, state, row)})


@router.post("/alerts/{alert_id}/cancel")
def cancel_alert(
    request: Request, alert_id: AlertId, scope: SessionScope, user: SessionEditor, state: State
) -> Response:
    _alert(scope, state, alert_id)
    alerts_api._cancel(alert_id, user, scope, request, state)
    return Response(status_code=303, headers={"location": f"{PREFIX}/alerts/{alert_id}"})
