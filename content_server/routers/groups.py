"""``/api/v1/groups``: device groups, the other way to assign a playlist.

A group belongs to a site (its scope) and lists devices at that site or below
it. A playlist that names groups (``groups: [...]``, which must be at the
playlist's site or below) goes only to their members instead of to every
device of its site tree. Reading needs any role, writing ``editor``; a group
outside the user's sites is 404 like everything else (``access.scoped_group``).

Membership decides what devices play, so a write signs new manifests at once
for the devices that joined or left (only those whose content changed). A
group still named by a playlist (live or draft) cannot be deleted, nor moved
out from under that playlist's site. Every write is audited.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from signage_core.timefmt import format_time

from ..access import Audit, EditorUser, Scope, ScopedGroup, UserScope, client_address
from ..deps import State
from ..errors import ConflictError, InvalidInputError
from ..models import descendants
from ..publishing import publish
from ..schemas_admin import ID, GroupBody, GroupIn, GroupOut
from ..state import ServerState
from ..store import GroupStore

router = APIRouter(prefix="/groups", tags=["groups"])


def _checked(group_id: str, body: GroupBody, state: ServerState, scope: Scope) -> dict[str, Any]:
    scope.check_site(body.site_id)
    if len(set(body.members)) != len(body.members):
        raise InvalidInputError("members: a device is listed twice")
    below = descendants(body.site_id, scope.sites)
    for device_id in body.members:
        device = state.store.device(device_id)
        if device is None or device.revoked or device.site_id not in below:
            raise InvalidInputError(
                f"members: there is no device {device_id!r} at site {body.site_id} or below it"
            )
    return {"id": group_id, **body.model_dump()}


def _users(group_id: str, state: ServerState) -> list[Any]:
    """Playlists, live or draft, that name the group."""
    found = {p.id: p for p in [*state.store.playlists(), *state.store.drafts()]}
    return [p for p in found.values() if group_id in p.groups]


def _sign(
    state: ServerState, devices: set[str], user: str, request: Request, group_id: str
) -> None:
    if not devices:
        return
    result = publish(
        state.store,
        state.keys,
        state.clock(),
        timedelta(days=state.settings.manifest_ttl_days),
        user=user,
        address=client_address(request),
        reason=f"device group {group_id}",
        device_ids=devices,
        only_changed=True,
    )
    state.remember(result)


def _out(group_id: str, state: ServerState) -> GroupOut:
    group = GroupStore(state.store).group(group_id)
    assert group is not None
    return GroupOut(**asdict(group))


@router.get("", summary="Device groups of the sites you manage")
def list_groups(
    scope: UserScope, state: State, site_id: Annotated[str | None, Query(pattern=ID)] = None
) -> list[GroupOut]:
    return [
        GroupOut(**asdict(g))
        for g in GroupStore(state.store).groups()
        if g.site_id in scope.ids and (site_id is None or g.site_id == site_id)
    ]


@router.post("", status_code=201, summary="Create a device group")
def create_group(
    body: GroupIn, _: EditorUser, scope: UserScope, state: State, audit: Audit
) -> GroupOut:
    scope.check_site(body.site_id)
    groups = GroupStore(state.store)
    held = groups.group(body.id)
    scope.check_new_id(
        body.id, "device group", None if held is None else held.site_id, held is not None
    )
    group = _checked(body.id, body, state, scope)
    groups.put_group(group, format_time(state.clock()))
    audit("create group", f"group {body.id}", {"site_id": body.site_id, "members": body.members})
    return _out(body.id, state)


@router.get("/{group_id}", summary="A device group")
def get_group(group: ScopedGroup) -> GroupOut:
    return GroupOut(**asdict(group))


@router.put("/{group_id}", summary="Replace a device group (its members play its playlists)")
def put_group(
    group: ScopedGroup,
    body: GroupBody,
    user: EditorUser,
    scope: UserScope,
    state: State,
    audit: Audit,
    request: Request,
) -> GroupOut:
    new = _checked(group.id, body, state, scope)
    for p in _users(group.id, state):
        if body.site_id not in descendants(p.site_id, scope.sites):
            raise ConflictError(
                f"playlist {p.id} (site {p.site_id}) names group {group.id}; "
                f"the group cannot move to site {body.site_id}, outside the playlist's sites"
            )
    GroupStore(state.store).put_group(new, format_time(state.clock()))
    audit("edit group", f"group {group.id}", {"site_id": body.site_id, "members": body.members})
    _sign(state, set(group.members) | set(body.members), user.username, request, group.id)
    return _out(group.id, state)


@router.delete("/{group_id}", status_code=204, summary="Delete a device group")
def delete_group(group: ScopedGroup, _: EditorUser, state: State, audit: Audit) -> Response:
    users = _users(group.id, state)
    if users:
        names = ", ".join(sorted(p.id for p in users))
        raise ConflictError(
            f"device group {group.id} is named by playlist(s) {names}; remove it from them first"
        )
    GroupStore(state.store).delete_group(group.id)
    audit("delete group", f"group {group.id}")
    return Response(status_code=204)
