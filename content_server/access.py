"""Who may do what: roles, the sites a user manages, lookup-or-404 dependencies, the audit trail.

A user manages their site and every site below it; an admin with no site
manages all of them. ``viewer`` reads, ``editor`` also changes content
(playlists, pages, assets, device groups) of the sites it manages, ``admin`` also manages
users, site settings and reads the audit log.

Every route that takes an id loads the entity through one of the ``Scoped…``
dependencies here: an entity outside the user's sites is answered exactly
like one that does not exist (404), so a guard of one gate cannot even learn
which ids another gate uses. Writes record themselves with ``Audit``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Protocol, TypeVar

from fastapi import Depends, Path, Request

from signage_core.timefmt import format_time

from .deps import CurrentUser, State
from .errors import ConflictError, ForbiddenError, NotFoundError
from .models import Device, Group, Page, Playlist, Site, User, descendants
from .state import ServerState
from .store import GroupStore

ID_PATTERN = r"^[a-z0-9][a-z0-9-]{0,63}$"
SHA_PATTERN = r"^[0-9a-f]{64}$"


def scope_of(user: User, sites: Mapping[str, Site]) -> set[str]:
    """Ids of the sites the user manages."""
    return set(sites) if user.site_id is None else descendants(user.site_id, sites)


def client_address(request: Request) -> str:
    return request.client.host if request.client else ""


def editor(user: CurrentUser) -> User:
    if user.role not in ("admin", "editor"):
        raise ForbiddenError(
            f"user {user.username!r} is a viewer and may only read; ask an administrator "
            "for editor rights to change content"
        )
    return user


def admin(user: CurrentUser) -> User:
    if user.role != "admin":
        raise ForbiddenError(
            f"only administrators may do this; user {user.username!r} is {user.role}"
        )
    return user


EditorUser = Annotated[User, Depends(editor)]
AdminUser = Annotated[User, Depends(admin)]


@dataclass
class AuditTrail:
    """Writes one audit row per change: who, when, from where, what."""

    state: ServerState
    user: User
    address: str

    def __call__(self, action: str, target: str, detail: Mapping[str, Any] | None = None) -> None:
        ts = format_time(self.state.clock())
        self.state.store.audit(ts, self.user.username, action, target, self.address, detail)


def audit_trail(state: State, user: CurrentUser, request: Request) -> AuditTrail:
    return AuditTrail(state, user, client_address(request))


Audit = Annotated[AuditTrail, Depends(audit_trail)]


class AtSite(Protocol):
    """An entity that belongs to one site: a device, a page, a group, an alert, …"""

    @property
    def site_id(self) -> str: ...


Entity = TypeVar("Entity", bound=AtSite)


@dataclass(frozen=True)
class Scope:
    """The user with the sites they manage (read once per request)."""

    user: User
    sites: dict[str, Site]
    ids: set[str]

    def check_site(self, site_id: str, what: str = "site") -> Site:
        """The site, if the user manages it; 404 (never 403) otherwise."""
        if site_id not in self.ids:
            raise NotFoundError(f"there is no {what} {site_id!r} among the sites you manage")
        return self.sites[site_id]

    def check_entity(self, found: Entity | None, missing: str) -> Entity:
        """``found``, if it is at one of the user's sites; 404 with ``missing`` otherwise,
        exactly as if it did not exist."""
        if found is None or found.site_id not in self.ids:
            raise NotFoundError(missing)
        return found

    def check_new_id(self, new_id: str, what: str, taken_by: str | None, taken: bool) -> None:
        """Refuse an id for a new entity without telling what exists outside the user's sites.

        ``taken``: an entity with this id exists; ``taken_by``: the site it belongs to
        (None: no site, like an all-sites user). An id in another site's name space (it
        starts with that site's id and a hyphen, like ``hongvan-…`` for an editor of A Đớt)
        and an id taken outside the user's sites get the same 403, whether or not it is
        taken; 409 ("exists already") only for an id taken at the user's own sites.
        """
        prefix = max(
            (s for s in self.sites if new_id == s or new_id.startswith(f"{s}-")),
            key=len,
            default=None,
        )
        foreign_name = prefix is not None and prefix not in self.ids
        everywhere = self.user.site_id is None
        outside = taken and not everywhere and (taken_by is None or taken_by not in self.ids)
        if foreign_name or outside:
            own = sorted(s for s in self.ids if self.sites[s].parent_id not in self.ids)
            hint = f" (for example {own[0]}-…)" if own else ""
            raise ForbiddenError(
                f"the id {new_id!r} cannot be used for a {what} at the sites you manage; "
                f"choose another id, starting with the id of one of your sites{hint}"
            )
        if taken:
            raise ConflictError(f"a {what} {new_id!r} exists already; choose another id")


def user_scope(user: CurrentUser, state: State) -> Scope:
    sites = state.store.sites()
    return Scope(user, sites, scope_of(user, sites))


UserScope = Annotated[Scope, Depends(user_scope)]


def scoped_site(site_id: Annotated[str, Path(max_length=64)], scope: UserScope) -> Site:
    return scope.check_site(site_id)


def scoped_device(
    device_id: Annotated[str, Path(max_length=64)], scope: UserScope, state: State
) -> Device:
    return scope.check_entity(
        state.store.device(device_id), f"there is no device {device_id!r} at the sites you manage"
    )


@dataclass(frozen=True)
class PlaylistRecord:
    """A playlist as a user sees it: the draft being edited and what is live."""

    draft: Playlist
    live: Playlist | None

    @property
    def id(self) -> str:
        return self.draft.id


def scoped_playlist(
    playlist_id: Annotated[str, Path(max_length=64)], scope: UserScope, state: State
) -> PlaylistRecord:
    live = state.store.playlist(playlist_id)
    draft = state.store.draft(playlist_id) or live
    if draft is None or not all(p.site_id in scope.ids for p in (draft, live) if p is not None):
        raise NotFoundError(f"there is no playlist {playlist_id!r} at the sites you manage")
    return PlaylistRecord(draft, live)


def scoped_asset(
    sha256: Annotated[str, Path(pattern=SHA_PATTERN)], scope: UserScope, state: State
) -> str:
    owners = set(state.store.asset_owners(sha256))
    if not owners & scope.ids and not (scope.user.site_id is None and state.store.asset(sha256)):
        raise NotFoundError(f"there is no asset {sha256[:12]}… at the sites you manage")
    return sha256


def scoped_page(
    page_id: Annotated[str, Path(max_length=64)], scope: UserScope, state: State
) -> Page:
    page = next((p for p in state.store.pages() if p.id == page_id), None)
    return scope.check_entity(page, f"there is no kiosk page {page_id!r} at the sites you manage")


ScopedSite = Annotated[Site, Depends(scoped_site)]
ScopedDevice = Annotated[Device, Depends(scoped_device)]
ScopedPlaylist = Annotated[PlaylistRecord, Depends(scoped_playlist)]
ScopedAsset = Annotated[str, Depends(scoped_asset)]
ScopedPage = Annotated[Page, Depends(scoped_page)]


def scoped_group(
    group_id: Annotated[str, Path(max_length=64)], scope: UserScope, state: State
) -> Group:
    return scope.check_entity(
        GroupStore(state.store).group(group_id),
        f"there is no device group {group_id!r} at the sites you manage",
    )


ScopedGroup = Annotated[Group, Depends(scoped_group)]
