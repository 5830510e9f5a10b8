"""Signing in and out of the admin, and the language switch.

Sign-in is the API's: the same accounts and password check (``accounts.authenticate``),
the same throttling per user name and address (``state.throttle``: past the limit the
page says how long to wait, whatever the password) and the same audit rows. What
differs is where the token goes: into an HttpOnly cookie (``web.py``).
"""

from __future__ import annotations

import math
import time
from datetime import timedelta
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from signage_core.timefmt import format_time

from ..access import client_address
from ..accounts import authenticate, issue_user_token, token_hash
from ..deps import State
from ..errors import AuthenticationError, TooManyRequestsError
from ..routers.auth import AUDITED_NAME_CHARS
from .i18n import LANGUAGES, N_
from .web import (
    LANG_COOKIE,
    PREFIX,
    SESSION_COOKIE,
    SignInRequired,
    render,
    router,
    safe_next,
    session_user,
    set_cookie,
    translator,
)

root = APIRouter(include_in_schema=False)


@root.get("/")
def home(request: Request, state: State) -> Response:
    """The server's address opens the admin: the fleet, or the sign-in page first."""
    try:
        session_user(request, state)
    except SignInRequired:
        return Response(status_code=303, headers={"location": f"{PREFIX}/sign-in"})
    return Response(status_code=303, headers={"location": f"{PREFIX}/fleet"})


def _sign_in_page(
    request: Request, next_: str, *, username: str = "", error: str = "", status: int = 200
) -> HTMLResponse:
    return render(
        request,
        "signin.html",
        {"next": safe_next(next_), "username": username, "error": error},
        status=status,
    )


@router.get("/sign-in")
def sign_in_form(request: Request, next: Annotated[str, Query()] = "") -> HTMLResponse:
    return _sign_in_page(request, next)


@router.post("/sign-in")
def sign_in(
    request: Request,
    state: State,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    tr = translator(request)
    now = state.clock()
    address = client_address(request)
    try:
        state.throttle.check(username, address, time.monotonic())
    except TooManyRequestsError as e:
        wait = math.ceil(e.retry_after or 60)
        minutes = max(1, math.ceil(wait / 60))
        message = tr.gettext(
            N_(
                "Too many wrong attempts. Wait %(minutes)s minute(s), then try again; "
                "if you forgot your password, ask an administrator."
            ),
            minutes=minutes,
        )
        page = _sign_in_page(request, next, username=username, error=message, status=429)
        page.headers["retry-after"] = str(wait)
        return page
    try:
        user = authenticate(state.store, username, password)
    except AuthenticationError:
        state.throttle.failed(username, address, time.monotonic())
        name = username[:AUDITED_NAME_CHARS]
        state.store.audit(format_time(now), name, "sign-in refused", "", address, {"via": "admin"})
        message = tr.gettext(
            N_(
                "Wrong user name or password, or the account is disabled. Check both, "
                "or ask an administrator."
            )
        )
        return _sign_in_page(request, next, username=username, error=message, status=401)
    state.throttle.succeeded(username, address)
    ttl = timedelta(minutes=state.settings.admin_session_minutes)
    token = issue_user_token(state.store, user, now, ttl)
    state.store.audit(format_time(now), user.username, "sign-in", "", address, {"via": "admin"})
    response = Response(status_code=303, headers={"location": safe_next(next)})
    set_cookie(request, response, SESSION_COOKIE, token, max_age=int(ttl.total_seconds()))
    return response


@router.post("/sign-out")
def sign_out(request: Request, state: State) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        user = state.store.user_by_token(token_hash(token), format_time(state.clock()))
        state.store.revoke_user_token(token_hash(token))
        if user is not None:
            ts = format_time(state.clock())
            address = client_address(request)
            state.store.audit(ts, user.username, "sign-out", "", address, {"via": "admin"})
    response = Response(status_code=303, headers={"location": f"{PREFIX}/sign-in"})
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/language")
def choose_language(
    request: Request,
    to: Annotated[str, Query(max_length=8)],
    next: Annotated[str, Query(max_length=2000)] = "",
) -> Response:
    """Switch the pages' language (a preference only: a plain link may do it)."""
    response = Response(status_code=303, headers={"location": quote(safe_next(next), safe="/?=&-")})
    if to in LANGUAGES:
        set_cookie(request, response, LANG_COOKIE, to, max_age=400 * 24 * 3600)
    return response
