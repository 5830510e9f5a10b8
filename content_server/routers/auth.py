"""``/api/v1/auth/token``: sign in with user name and password (OAuth2 password form).

Failed attempts are counted per user name and per client address
(``throttle.py``); past the limit the answer is 429 with ``Retry-After``,
whatever the password. A disabled user cannot sign in.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm

from signage_core.timefmt import format_time

from ..access import client_address
from ..accounts import authenticate, issue_user_token
from ..deps import State
from ..errors import AuthenticationError
from ..schemas import TokenOut

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post(
    "/token",
    summary="Sign in: a bearer token for the admin API",
    responses={401: {"description": "Wrong name or password"}, 429: {"description": "Throttled"}},
)
def sign_in(
    form: Annotated[OAuth2PasswordRequestForm, Depends()], state: State, request: Request
) -> TokenOut:
    now = state.clock()
    address = client_address(request)
    state.throttle.check(form.username, address, time.monotonic())
    try:
        user = authenticate(state.store, form.username, form.password)
        if user.disabled:
            raise AuthenticationError(
                "this account is disabled; ask an administrator", invalid_token=True
            )
    except AuthenticationError:
        state.throttle.failed(form.username, address, time.monotonic())
        state.store.audit(format_time(now), form.username, "sign-in refused", "", address)
        raise
    state.throttle.succeeded(form.username)
    ttl = timedelta(minutes=state.settings.token_ttl_minutes)
    token = issue_user_token(state.store, user, now, ttl)
    state.store.audit(format_time(now), user.username, "sign-in", "", address)
    return TokenOut(access_token=token, expires_in=int(ttl.total_seconds()))
