"""The audit log for administrators: who did what, when and from where, at their sites.

The rows and their scoping are the API's (``routers/audit.list_audit``): an admin of
one gate reads only the rows about that gate's sites; an admin of every site reads all.
"""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import Query, Request
from fastapi.responses import HTMLResponse

from ..deps import State
from ..routers.audit import list_audit
from .i18n import N_
from .web import NAV, NavItem, SessionAdmin, SessionScope, render, router

NAV.append(NavItem("/admin/audit", N_("Audit log"), admin_only=True))
PAGE_ROWS = 100


@router.get("/audit")
def audit_page(
    request: Request,
    admin: SessionAdmin,
    scope: SessionScope,
    state: State,
    user: Annotated[str, Query(max_length=64)] = "",
    action: Annotated[str, Query(max_length=64)] = "",
    page: Annotated[int, Query(ge=1, le=10**6)] = 1,
) -> HTMLResponse:
    rows = list_audit(
        admin,
        scope,
        state,
        user=user or None,
        action=action or None,
        limit=PAGE_ROWS + 1,
        offset=(page - 1) * PAGE_ROWS,
    )
    return render(
        request,
        "audit.html",
        {
            "rows": rows[:PAGE_ROWS],
            "more": len(rows) > PAGE_ROWS,
            "page": page,
            "user_filter": user,
            "action_filter": action,
            "detail": lambda d: json.dumps(d, ensure_ascii=False, sort_keys=True) if d else "",
        },
    )
