"""Dependencies the routers share, as ``Annotated`` aliases.

``State``: the ``ServerState`` of this app. ``CurrentDevice``: the id of the
device whose bearer token came with the request (401 otherwise), checked
against the in-memory token map, no database; only a token missing there is
looked up in the database (a device ``add-device`` enrolled a moment ago works
at once, before the next reload). ``OwnDevice``: the same, and it
must be the ``{device_id}`` of the path (403 otherwise). ``CurrentUser``: the
signed-in user of an admin request (401 otherwise).
"""

from __future__ import annotations

from typing import Annotated

import anyio
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer, OAuth2PasswordBearer

from signage_core.timefmt import format_time

from .accounts import token_hash
from .errors import AuthenticationError, ForbiddenError
from .models import User
from .state import ServerState

device_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="DeviceToken",
    description="The `token` from the device's configuration file.",
)
user_bearer = OAuth2PasswordBearer(
    tokenUrl="/api/v1/auth/token", auto_error=False, scheme_name="UserToken"
)


async def get_state(request: Request) -> ServerState:
    # async: the hot device routes must not hop to the thread pool for this.
    state: ServerState = request.app.state.server
    return state


State = Annotated[ServerState, Depends(get_state)]


async def current_device(
    state: State,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(device_bearer)],
) -> str:
    if credentials is None:
        raise AuthenticationError(
            "this needs the device's token: send 'Authorization: Bearer <token>' "
            "with the token from the device's configuration file"
        )
    hashed = token_hash(credentials.credentials)
    device_id = state.device_tokens.get(hashed)
    if device_id is None:  # enrolled by the CLI since the last reload? (one indexed query)
        device_id = await anyio.to_thread.run_sync(state.device_for_unknown_token, hashed)
    if device_id is None:
        raise AuthenticationError(
            "the device token is not valid: it is wrong, or the device was re-enrolled "
            "or revoked; enrol it again with `content-server add-device --replace`",
            invalid_token=True,
        )
    return device_id


CurrentDevice = Annotated[str, Depends(current_device)]


async def own_device(device_id: str, current: CurrentDevice) -> str:
    if device_id != current:
        raise ForbiddenError(
            f"this token belongs to device {current!r}, not to {device_id!r}; "
            "a device may only read and write its own data"
        )
    return device_id


OwnDevice = Annotated[str, Depends(own_device)]


def current_user(state: State, token: Annotated[str | None, Depends(user_bearer)]) -> User:
    if token is None:
        raise AuthenticationError(
            "sign in first: POST your user name and password to /api/v1/auth/token"
        )
    user = state.store.user_by_token(token_hash(token), format_time(state.clock()))
    if user is None:
        raise AuthenticationError(
            "your sign-in has expired or is not valid; sign in again", invalid_token=True
        )
    return user


CurrentUser = Annotated[User, Depends(current_user)]
