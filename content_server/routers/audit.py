"""``/api/v1/audit``: the audit log, newest first (admins). There is no route that
changes it, and the database refuses UPDATE and DELETE of its rows (triggers).

An admin scoped to a site reads only the rows about the sites they manage: an
admin of A Đớt sees nothing of Hồng Vân. A row's sites come from what it names
(its target: a user, site, device, playlist, page, group or alert, and the
``site_id``, ``site`` and ``devices`` of its detail); a row that names none of
these (a sign-in, an upload, a deleted page) belongs to the site of the user
who acted. A row about every site, or about several sites of which one is not
theirs, or done by the command line, is shown only to unscoped admins, who
see everything.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Query

from ..access import AdminUser, UserScope
from ..deps import State
from ..models import AuditRecord
from ..schemas_admin import AuditEntry
from ..store import Store

router = APIRouter(prefix="/audit", tags=["audit"])
_BATCH = 1000
_EVERY_SITE = object()  # a row that concerns every site


def _sites_of(row: AuditRecord, subjects: Mapping[str, str | None]) -> set[object]:
    """The sites a row is about (``_EVERY_SITE`` among them for an all-sites row)."""
    found: set[object] = set()
    target, detail = row.target, row.detail

    def add(subject: str) -> bool:
        if subject not in subjects:
            return False
        site = subjects[subject]
        found.add(_EVERY_SITE if site is None else site)
        return True

    # Devices and alerts are named by their bare id.
    if not add(target) and not add(f"device {target}"):
        add(f"alert {target}")
    if isinstance(detail, Mapping):
        for key in ("site_id", "site"):
            if isinstance(detail.get(key), str):
                found.add(detail[key])
        devices = detail.get("devices")
        if isinstance(devices, list):
            for device_id in devices:
                if not add(f"device {device_id}"):
                    found.add(_EVERY_SITE)  # a device gone since: cannot tell its site
    if not found and not add(f"user {row.user}"):
        found.add(_EVERY_SITE)  # the command line, or a name that is no user
    return found


def _scoped(store: Store, site_ids: set[str], **filters: Any) -> Iterator[AuditRecord]:
    subjects = store.audit_subjects()
    offset = 0
    while batch := store.audit_entries(limit=_BATCH, offset=offset, **filters):
        offset += len(batch)
        for row in batch:
            if _sites_of(row, subjects) <= site_ids:
                yield row


@router.get("", summary="Who changed what, when and from where, at the sites you manage")
def list_audit(
    admin: AdminUser,
    scope: UserScope,
    state: State,
    user: Annotated[str | None, Query(max_length=64)] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> list[AuditEntry]:
    rows: list[AuditRecord]
    if admin.site_id is None:
        rows = state.store.audit_entries(user=user, action=action, limit=limit, offset=offset)
    else:
        rows = []
        for i, row in enumerate(_scoped(state.store, scope.ids, user=user, action=action)):
            if i >= offset + limit:
                break
            if i >= offset:
                rows.append(row)
    return [AuditEntry(**asdict(r)) for r in rows]
