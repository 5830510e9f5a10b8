"""``/api/v1/users``: accounts. Admins create, list and disable users of their sites;
everyone changes their own password (``PUT /users/me/password``, throttled like
sign-in: wrong current passwords count as failed sign-ins).

An admin whose account is scoped to a site manages only users scoped to that
site or below, and may not create an unscoped (all-sites) user.
"""

from __future__ import annotations

import time

from fastapi import APIRouter, Request

from signage_core.timefmt import format_time

from ..access import AdminUser, Audit, UserScope, client_address
from ..accounts import hash_password, verify_password
from ..deps import CurrentUser, State
from ..errors import InvalidInputError, NotFoundError
from ..models import User
from ..schemas_admin import PasswordChange, UserIn, UserOut

router = APIRouter(prefix="/users", tags=["users"])


def _out(u: User) -> UserOut:
    return UserOut(username=u.username, role=u.role, site_id=u.site_id, disabled=u.disabled)  # type: ignore[arg-type]


def _in_scope(u: User, scope: UserScope) -> bool:
    return scope.user.site_id is None or (u.site_id is not None and u.site_id in scope.ids)


@router.get("", summary="Users of the sites you manage (admins)")
def list_users(_: AdminUser, scope: UserScope, state: State) -> list[UserOut]:
    return [_out(u) for u in state.store.users() if _in_scope(u, scope)]


@router.post("", status_code=201, summary="Create a user (admins)")
def create_user(
    body: UserIn, _: AdminUser, scope: UserScope, state: State, audit: Audit
) -> UserOut:
    if body.site_id is None:
        if scope.user.site_id is not None:
            raise InvalidInputError("give site_id: you may only create users of your own sites")
        if body.role != "admin":
            raise InvalidInputError(f"give site_id: an {body.role} manages one site and below")
    else:
        scope.check_site(body.site_id)
    held = state.store.user(body.username)
    scope.check_new_id(
        body.username, "user", None if held is None else held.site_id, held is not None
    )
    user = User(body.username, hash_password(body.password), body.role, body.site_id)
    state.store.add_user(user, format_time(state.clock()))
    audit("create user", f"user {body.username}", {"role": body.role, "site_id": body.site_id})
    return _out(user)


@router.post("/{username}/disable", summary="Disable a user: sign-in refused, tokens revoked")
def disable_user(
    username: str, admin: AdminUser, scope: UserScope, state: State, audit: Audit
) -> UserOut:
    user = state.store.user(username)
    if user is None or not _in_scope(user, scope):
        raise NotFoundError(f"there is no user {username!r} at the sites you manage")
    if user.username == admin.username:
        raise InvalidInputError("you cannot disable your own account")
    state.store.set_user_disabled(username, True)
    audit("disable user", f"user {username}")
    return _out(User(user.username, user.password_hash, user.role, user.site_id, True))


@router.put(
    "/me/password",
    status_code=204,
    summary="Change your own password",
    responses={429: {"description": "Throttled"}},
)
def change_password(
    body: PasswordChange, user: CurrentUser, state: State, audit: Audit, request: Request
) -> None:
    # Throttled like sign-in: a stolen session cannot be used to guess the password.
    address = client_address(request)
    state.throttle.check(user.username, address, time.monotonic())
    if not verify_password(body.current_password, user.password_hash):
        state.throttle.failed(user.username, address, time.monotonic())
        raise InvalidInputError("the current password is wrong; nothing was changed")
    if body.new_password == body.current_password:
        raise InvalidInputError("the new password must differ from the current one")
    state.store.set_password_hash(user.username, hash_password(body.new_password))
    audit("change password", f"user {user.username}")
