"""``/api/v1/auth``: sign in with user name and password (OAuth2 password form), sign out.

Failed attempts are counted per user name and client address together, and
per address (``throttle.py``); past the limit the answer is 429 with
``Retry-After``, whatever the password, with a wait that doubles at each
further failure. An unknown name, a wrong password and a disabled account get
the same 401. ``POST /auth/logout`` ends the token at once, server-side.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import OAuth2PasswordRequestForm

from signage_core.timefmt import format_time

from ..access import client_address
from ..accounts import authenticate, issue_user_token, token_hash
from ..deps import CurrentUser, State, user_bearer
from ..errors import AuthenticationError
from ..schemas import TokenOut

router = APIRouter(prefix="/auth", tags=["auth"])
AUDITED_NAME_CHARS = 64  # user names have at most 32


@router.post(
    "/token",
    summary="Sign in: a bearer token for the admin API",
    responses={
        401: {"description": "Wrong name or password, or a disabled account"},
        429: {"description": "Throttled"},
    },
)
def sign_in(
    form: Annotated[OAuth2PasswordRequestForm, Depends()], state: State, request: Request
) -> TokenOut:
    now = state.clock()
    address = client_address(request)
    state.throttle.check(form.username, address, time.monotonic())
    try:
        user = authenticate(state.store, form.username, form.password)
    except AuthenticationError:
        state.throttle.failed(form.username, address, time.monotonic())
        # Any name goes into the audit log, but no longer than a user name can be.
        name = form.username[:AUDITED_NAME_CHARS]
        state.store.audit(format_time(now), name, "sign-in refused", "", address)
        raise
    state.throttle.succeeded(form.username, address)
    ttl = timedelta(minutes=state.settings.token_ttl_minutes)
    token = issue_user_token(state.store, user, now, ttl)
    state.store.audit(format_time(now), user.username, "sign-in", "", address)
    return TokenOut(access_token=token, expires_in=int(ttl.total_seconds()))


@router.post(
    "/logout",
    status_code=204,
    summary="Sign out: this token stops working at once",
    responses={401: {"description": "Not signed in, or the token has ended already"}},
)
def sign_out(
    user: CurrentUser,
    token: Annotated[str | None, Depends(user_bearer)],
    state: State,
    request: Request,
) -> Response:
    assert token is not None  # CurrentUser refused a request without one
    state.store.revoke_user_token(token_hash(token))
    ts = format_time(state.clock())
    state.store.audit(ts, user.username, "sign-out", "", client_address(request))
    return Response(status_code=204)
