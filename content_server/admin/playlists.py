"""The playlist pages: the list, the editor (languages side by side, the schedule with
its summary in plain words, the pre-publish check highlighted in the fields), a
preview of each slide in each language, publish, history and roll back.

Every action is the API's own function (``routers/playlists.py``, ``drafts.py``):
the same checks, scoping (another gate's playlist is a 404 here too), audit and
signing. The form's fields are ``playlist_form.py``'s.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from signage_core import languages as langs
from signage_core.errors import LanguageError, ScheduleError
from signage_core.schedule import WEEKDAYS, Schedule
from signage_core.schedule_text import summary

from ..access import AuditTrail, PlaylistRecord, Scope, client_address, scoped_playlist
from ..deps import State
from ..drafts import Finding, check_draft, draft_from
from ..errors import ContentServerError, InvalidInputError
from ..fonts import describe
from ..models import Playlist, effective_languages, effective_required
from ..routers import playlists as api
from ..schemas_admin import PlaylistIn, RollbackIn
from .fleet import site_name
from .i18n import N_, Translator
from .playlist_form import WINDOWS, form_of, item_indexes, parse
from .web import NAV, NavItem, SessionEditor, SessionScope, render, router, translator

NAV.append(NavItem("/admin/playlists", N_("Playlists")))
DAY_NAMES = {"vi": ("T2", "T3", "T4", "T5", "T6", "T7", "CN"),
             "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")}  # fmt: skip
KIND_LABELS = {"text": N_("Text"), "image": N_("Picture"), "video": N_("Video")}
PROBLEMS = {
    "missing-required": N_("Missing: required before publishing."),
    "missing-shown": N_("Missing: screens will show another language instead."),
    "undrawable": N_("Screens cannot draw: %(chars)s"),
}


def lang_name(code: str, ui: str) -> str:
    """A language as the page's reader calls it: "tiếng Lào" in Vietnamese, "ພາສາລາວ" else."""
    try:
        found = langs.get(code)
    except LanguageError:
        return code
    return found.name_vi[:1].lower() + found.name_vi[1:] if ui == "vi" else found.name


def schedule_words(schedule: Mapping[str, Any] | None, lang: str) -> str:
    try:
        return summary(Schedule.from_dict(schedule), lang if lang in ("vi", "en") else "vi")
    except ScheduleError:
        return ""


def _record(playlist_id: str, scope: Scope, state: State) -> PlaylistRecord:
    return scoped_playlist(playlist_id, scope, state)


@router.get("/playlists")
def playlist_list(request: Request, scope: SessionScope, state: State) -> HTMLResponse:
    tr = translator(request)
    out = api.list_playlists(scope, state, "site_id", None)
    rows = []
    for p in out:
        blocking = [w for w in p.warnings if "publishing is refused" in w]
        rows.append({
            "p": p, "name": p.draft.name.get(tr.lang) or p.draft.name.get("vi") or p.id,
            "schedule": schedule_words(p.draft.schedule, tr.lang),
            "blocking": len(blocking), "live": p.live is not None,
        })  # fmt: skip
    ctx = {"rows": rows, "sites": scope.sites, "site_name": site_name,
           "can_edit": scope.user.role in ("admin", "editor")}  # fmt: skip
    return render(request, "playlists.html", ctx)


def _assets(state: State, scope: Scope, site_id: str) -> dict[str, list[dict[str, Any]]]:
    """Uploads the editor may pick, per kind."""
    ids = scope.ids
    thumbs = set(state.store.thumbnails().values())
    out: dict[str, list[dict[str, Any]]] = {"image": [], "video": []}
    seen: set[str] = set()
    for a in state.store.owned_assets(ids):
        if a.sha256 in seen or a.sha256 in thumbs:
            continue
        seen.add(a.sha256)
        kind = "video" if a.media_type.startswith("video/") else "image"
        out[kind].append({"sha256": a.sha256, "name": a.original_name})
    return out


def _findings_by_field(
    findings: list[Finding], values: Mapping[str, Any], tr: Translator
) -> dict[str, list[tuple[str, bool]]]:
    """``{"item-<i>-<lang>": [(message, blocking)]}`` for the cells of the editor."""
    index = {values.get(f"item-{i}-id"): i for i in item_indexes(values)}
    out: dict[str, list[tuple[str, bool]]] = {}
    for f in findings:
        if f.item_id not in index:
            continue
        chars = ", ".join(describe(c) for c in f.chars)
        msg = (
            tr.gettext(PROBLEMS[f.problem], chars=chars)
            if f.chars
            else tr.gettext(PROBLEMS[f.problem])
        )
        out.setdefault(f"item-{index[f.item_id]}-{f.language}", []).append((msg, f.blocking))
    return out


def _editor(
    request: Request, scope: Scope, state: State, values: dict[str, Any], *,
    record: PlaylistRecord | None, errors: Mapping[str, str] | None = None,
    findings: list[Finding] | None = None, message: str | None = None,
    problem: str | None = None, status: int = 200,
) -> HTMLResponse:  # fmt: skip
    tr = translator(request)
    site_id = values.get("site_id") or (record.draft.site_id if record else "")
    if site_id not in scope.ids:
        site_id = sorted(scope.ids)[0] if scope.ids else ""
        values["site_id"] = site_id
    languages = effective_languages(site_id, scope.sites) if site_id else ["vi", "lo"]
    required = effective_required(site_id, scope.sites) if site_id else ["vi", "lo"]
    indexes = item_indexes(values)
    blank = (max(indexes) + 1) if indexes else 0
    values.setdefault(f"item-{blank}-kind", "")
    if findings is None and record is not None:
        findings = check_draft(record.draft, state)
    schedule: dict[str, Any] = {}
    if values.get("weekday"):
        schedule["weekdays"] = list(values["weekday"])
    windows = [{"start": values.get(f"win-{n}-start"), "end": values.get(f"win-{n}-end")}
               for n in range(WINDOWS) if values.get(f"win-{n}-start")]  # fmt: skip
    if windows:
        schedule["windows"] = windows
    for k in ("start_date", "end_date"):
        if values.get(k):
            schedule[k] = values[k]
    ctx = {
        "values": values,
        "errors": {k: tr.gettext(v) for k, v in (errors or {}).items()},
        "cells": _findings_by_field(findings or [], values, tr),
        "blocking": [f for f in findings or [] if f.blocking],
        "warnings": [f for f in findings or [] if not f.blocking],
        "record": record,
        "new": record is None,
        "langs": [langs.get(c) for c in languages],
        "required": required,
        "site_choices": [scope.sites[s] for s in sorted(scope.ids)],
        "site_name": site_name,
        "assets": _assets(state, scope, site_id),
        "indexes": [*indexes, blank] if blank not in indexes else indexes,
        "kinds": KIND_LABELS,
        "weekdays": list(zip(WEEKDAYS, DAY_NAMES.get(tr.lang, DAY_NAMES["vi"]), strict=True)),
        "windows": range(WINDOWS),
        "schedule_text": schedule_words(schedule or None, tr.lang),
        "revisions": state.store.revisions(record.id) if record else [],
        "unpublished": record is not None
        and (record.live is None or record.live.content() != record.draft.content()),
        "message": message,
        "problem": problem,
        "lang_name": lambda code: lang_name(code, tr.lang),
        "can_edit": scope.user.role in ("admin", "editor"),
    }
    return render(request, "playlist_edit.html", ctx, status=status)


@router.get("/playlists/new")
def playlist_new(
    request: Request, user: SessionEditor, scope: SessionScope, state: State,
    site: Annotated[str | None, Query(max_length=64)] = None,
) -> HTMLResponse:  # fmt: skip
    if site:
        scope.check_site(site)
    values: dict[str, Any] = {"site_id": site or "", "priority": "0", "item-0-kind": "text",
                              "item-0-duration": "10", "item-0-position": "1"}  # fmt: skip
    return _editor(request, scope, state, values, record=None)


@router.get("/playlists/{playlist_id}")
def playlist_edit(
    playlist_id: str, request: Request, scope: SessionScope, state: State
) -> HTMLResponse:
    record = _record(playlist_id, scope, state)
    values = form_of({"id": record.id, **record.draft.content()})
    done = request.query_params.get("done")
    message = None
    if done == "saved":
        message = translator(request).gettext("The draft was saved.")
    elif done == "published":
        message = translator(request).gettext(
            "Published: revision %(n)s. The screens fetch it now.",
            n=request.query_params.get("rev", ""),
        )
    return _editor(request, scope, state, values, record=record, message=message)


def _form_values(form: Any) -> dict[str, Any]:
    values: dict[str, Any] = {k: v for k, v in form.items() if isinstance(v, str)}
    values["weekday"] = [d for d in form.getlist("weekday") if isinstance(d, str)]
    return values


async def _save(
    request: Request, scope: Scope, state: State, user: Any, record: PlaylistRecord | None
) -> Response:
    form = await request.form()
    values = _form_values(form)
    if record is not None:
        values["id"] = record.id
    action = values.get("action", "save")
    site_id = values.get("site_id", "")
    if site_id not in scope.ids:
        return _editor(request, scope, state, values, record=record, status=422,
                       errors={"site_id": N_("Choose one of your sites.")})  # fmt: skip
    languages = effective_languages(site_id, scope.sites)
    parsed = parse(values, languages, new=record is None)
    if parsed.errors:
        return _editor(request, scope, state, values, record=record, errors=parsed.errors,
                       status=422)  # fmt: skip
    body_dict = {**parsed.body, "id": values.get("id", "")}
    tr = translator(request)
    try:
        body = PlaylistIn.model_validate(body_dict)
        audit = AuditTrail(state, user, client_address(request))
        if action == "check":
            draft = draft_from(body.id, body, state, api._asset_scope(scope))
            return _editor(request, scope, state, values, record=record,
                           findings=check_draft(draft, state),
                           message=tr.gettext("Checked; nothing was saved."))  # fmt: skip
        if record is None:
            api.create_playlist(body, user, scope, state, audit)
        else:
            api.put_playlist(record, body, user, scope, state, audit)
    except ValidationError:
        return _editor(request, scope, state, values, record=record, status=422,
                       problem=tr.gettext("Some fields are missing or not valid."))  # fmt: skip
    except (InvalidInputError, ContentServerError) as e:
        if isinstance(e, ContentServerError) and e.status not in (403, 409, 422):
            raise
        return _editor(request, scope, state, values, record=record, status=e.status,
                       problem=tr.gettext(str(e)))  # fmt: skip
    return Response(status_code=303, headers={"location": f"/admin/playlists/{body.id}?done=saved"})


@router.post("/playlists/new", response_model=None)
async def playlist_create(
    request: Request, user: SessionEditor, scope: SessionScope, state: State
) -> Response:
    return await _save(request, scope, state, user, None)


@router.post("/playlists/{playlist_id}", response_model=None)
async def playlist_update(
    playlist_id: str, request: Request, user: SessionEditor, scope: SessionScope, state: State
) -> Response:
    return await _save(request, scope, state, user, _record(playlist_id, scope, state))


@router.post("/playlists/{playlist_id}/publish", response_model=None)
def playlist_publish(
    playlist_id: str, request: Request, user: SessionEditor, scope: SessionScope, state: State
) -> Response:
    record = _record(playlist_id, scope, state)
    try:
        done = api.post_publish(record, user, scope, state, request)
    except ContentServerError as e:
        if e.status != 422:
            raise
        values = form_of({"id": record.id, **record.draft.content()})
        return _editor(request, scope, state, values, record=record, status=422,
                       problem=translator(request).gettext(
                           "Not published: fix what is marked in red first."))  # fmt: skip
    return Response(
        status_code=303,
        headers={"location": f"/admin/playlists/{record.id}?done=published&rev={done.revision}"},
    )


@router.post("/playlists/{playlist_id}/rollback", response_model=None)
def playlist_rollback(
    playlist_id: str, request: Request, user: SessionEditor, scope: SessionScope, state: State,
    revision: Annotated[int, Form(ge=1)],
) -> Response:  # fmt: skip
    record = _record(playlist_id, scope, state)
    done = api.post_rollback(record, RollbackIn(revision=revision), user, scope, state, request)
    return Response(
        status_code=303,
        headers={"location": f"/admin/playlists/{record.id}?done=published&rev={done.revision}"},
    )


@router.get("/playlists/{playlist_id}/preview")
def playlist_preview(
    playlist_id: str, request: Request, scope: SessionScope, state: State,
    item: Annotated[str, Query(max_length=64)],
) -> HTMLResponse:  # fmt: skip
    """One slide as a screen shows it, in each language of the site (with fallbacks)."""
    record = _record(playlist_id, scope, state)
    p: Playlist = record.draft
    found = next((i for i in p.items if i["id"] == item), None)
    if found is None:
        raise InvalidInputError(N_("This item is not in the playlist."))
    slides = []
    for code in effective_languages(p.site_id, scope.sites):
        picked = langs.pick(found["variants"], code)
        slides.append({"lang": langs.get(code), "shown": picked[0] if picked else None,
                       "variant": picked[1] if picked else None})  # fmt: skip
    ctx = {"playlist": p, "item": found, "slides": slides,
           "name": p.name.get("vi") or p.id}  # fmt: skip
    return render(request, "playlist_preview.html", ctx)
