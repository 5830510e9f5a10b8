"""The web admin: server-rendered pages for border guards, at ``/`` and ``/admin/...``.

``install(app, settings)`` (called by ``create_app``) mounts the pages, the static files
(``static/``: our CSS and script, htmx vendored from npm with its licence) and the
repository's Noto fonts at ``/admin/fonts/`` so Lao always renders. Nothing is loaded
from another origin; the pages' Content-Security-Policy enforces it.

How to add a page
-----------------
1. A module here, say ``media.py``, with routes on the shared router, so CSRF is
   checked on every unsafe method before your route runs::

       from .web import NAV, NavItem, SessionScope, SessionEditor, render, router
       from .i18n import N_

       NAV.append(NavItem("/admin/media", N_("Media")))   # the link in base.html

       @router.get("/media")                  # served at /admin/media
       def media_page(request: Request, scope: SessionScope, state: State) -> HTMLResponse:
           return render(request, "media.html", {"items": ...})

   Import the module in ``_PAGES`` below (the order there is the navigation's order).
2. Who: ``SessionUser`` (any signed-in user; none: sent to the sign-in page),
   ``SessionEditor``, ``SessionAdmin`` (403 page otherwise), ``SessionScope`` (the
   API's ``access.Scope``: ``scope.check_site(id)`` and ``scope.ids``). Load an entity
   by id only through the scope, and raise ``NotFoundError`` for one outside it, like
   the API: an editor of one gate gets 404 for another gate's page. ``devices.py``
   has ``scoped_device``; reuse the ``access.py`` rules for the rest.
3. Templates: ``templates/media.html`` with ``{% extends "base.html" %}`` and
   ``{% block title %}`` / ``{% block main %}``. Every ``<form method="post">`` contains
   ``{{ csrf_field() }}``; htmx requests send the token already (``hx-headers`` on
   ``<body>``); other JavaScript sends the ``X-CSRF-Token`` header (``{{ csrf_token }}``).
   Inline scripts and styles are refused by the CSP: put them in ``static/``.
4. Words: write them in English inside ``{{ _("...") }}`` (params:
   ``_("%(n)s screens", n=3)``, escaped) or, in Python, ``N_("...")`` and translate
   with ``translator(request).gettext(msg, **params)``. Add each message with its
   Vietnamese to ``locale/vi/LC_MESSAGES/messages.po`` (``tests/admin/test_catalog.py``
   fails on a message without one). Dates, numbers and sizes: ``tr.when(ts)``,
   ``tr.ago(ts, now)``, ``tr.number(n)``, ``tr.size(bytes)`` in templates.
5. Errors: raise the usual ``ContentServerError`` subclasses; on admin paths they
   become an HTML page in the user's language (the message is looked up in the catalog).
6. Tests: ``tests/admin/admin_kit.py`` (a real ``content-server serve`` and Chromium;
   ``sign_in(page, ...)``, ``shoot(page, "media")`` saves desktop and phone screenshots).
"""

from __future__ import annotations

import importlib
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from ..fonts import SOURCE_FONTS
from ..settings import Settings
from .i18n import Languages
from .web import PREFIX, STATIC, environment, install_error_pages, router

# Page modules, in the navigation's order; each adds its routes to ``web.router``.
_PAGES = (
    "signin", "fleet", "alerts", "devices",
    "playlists", "kiosk_pages", "media", "reports",  # the content pages
    "audit",
)  # fmt: skip
FONT_FILES = frozenset(
    {
        "NotoSans-Regular.ttf",
        "NotoSans-Bold.ttf",
        "NotoSansLao-Regular.ttf",
        "NotoSansLao-Bold.ttf",
    }
)


@router.get("/fonts/{name}")
def font(name: str, request: Request) -> FileResponse:
    """The repository's Noto fonts, so Lao renders on a PC that has no Lao font."""
    folder: Path = request.app.state.admin_fonts
    if name not in FONT_FILES or not (folder / name).is_file():
        raise HTTPException(404, "no such font")
    return FileResponse(
        folder / name, media_type="font/ttf", headers={"cache-control": "max-age=86400"}
    )


def install(app: FastAPI, settings: Settings) -> None:
    """Mount the admin on ``app``: pages, static files, fonts, HTML error pages."""
    modules = [importlib.import_module(f"{__name__}.{name}") for name in _PAGES]
    app.state.admin_templates = environment()
    app.state.admin_languages = Languages(settings.admin_timezone)
    app.state.admin_fonts = settings.fonts_dir or SOURCE_FONTS
    app.include_router(modules[0].root)
    app.include_router(router)
    app.mount(f"{PREFIX}/static", StaticFiles(directory=STATIC), name="admin-static")
    install_error_pages(app)
