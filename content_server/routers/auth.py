"""``/api/v1/auth/token``: sign in with user name and password (OAuth2 password form)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm

from signage_core.timefmt import format_time

from ..accounts import authenticate, issue_user_token
from ..deps import State
from ..errors import AuthenticationError
from ..schemas import TokenOut

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/token", summary="Sign in: a bearer token for the admin API")
def sign_in(
    form: Annotated[OAuth2PasswordRequestForm, Depends()], state: State, request: Request
) -> TokenOut:
    now = state.clock()
    address = request.client.host if request.client else ""
    try:
        user = authenticate(state.store, form.username, form.password)
    except AuthenticationError:
        state.store.audit(format_time(now), form.username, "sign-in refused", "", address)
        raise
    ttl = timedelta(minutes=state.settings.token_ttl_minutes)
    token = issue_user_token(state.store, user, now, ttl)
    state.store.audit(format_time(now), user.username, "sign-in", "", address)
    return TokenOut(access_token=token, expires_in=int(ttl.total_seconds()))
