"""``/api/v1/audit``: the audit log, newest first (admins). There is no route that
changes it, and the database refuses UPDATE and DELETE of its rows (triggers)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Query

from ..access import AdminUser
from ..deps import State
from ..schemas_admin import AuditEntry

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get("", summary="Who changed what, when and from where")
def list_audit(
    _: AdminUser,
    state: State,
    user: Annotated[str | None, Query(max_length=64)] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> list[AuditEntry]:
    rows = state.store.audit_entries(user=user, action=action, limit=limit, offset=offset)
    return [AuditEntry(**asdict(r)) for r in rows]
