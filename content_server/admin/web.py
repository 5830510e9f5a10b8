"""What every admin page shares: the router, ``render``, the session, CSRF, error pages.

Sessions are the API's own sign-in tokens (``user_tokens``), carried in a cookie
instead of an ``Authorization`` header: HttpOnly, SameSite=Strict, Secure when
the request came over HTTPS, ending after ``admin_session_minutes``. Signing
out revokes the token server-side; disabling a user revokes all of theirs
(``Store.set_user_disabled``), so a session never outlives its account.

CSRF: every form carries ``csrf_token`` (``{{ csrf_field() }}``); JavaScript
sends it as the ``X-CSRF-Token`` header. The token is an HMAC of the session
token, so it needs no storage and changes with every sign-in. Before sign-in
(the sign-in form itself) it is a random value also set in a cookie (double
submit). ``check_csrf`` runs on every unsafe method of ``router``: a request
without a valid token is refused with 403 and a message, before its route runs.

Errors on admin pages (a ``ContentServerError``: 404 of a device outside the
user's sites, 403, …) are shown as an HTML page in the user's language;
API routes keep their problem+json (``install_error_pages``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.exceptions import HTTPException as StarletteHTTPException

from signage_core.timefmt import format_time

from ..access import Scope, scope_of
from ..accounts import token_hash
from ..deps import State
from ..errors import ContentServerError, ForbiddenError
from ..models import User
from .i18n import LANGUAGES, N_, Languages, Translator

PREFIX = "/admin"
SESSION_COOKIE = "signage_session"
PRE_CSRF_COOKIE = "signage_csrf"
LANG_COOKIE = "signage_lang"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
# The admin's pages load nothing from another origin; the browser enforces it too.
PAGE_CSP = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; font-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'"
)


@dataclass(frozen=True)
class NavItem:
    """One link of the navigation in ``base.html``."""

    path: str
    label: str  # a catalog message id (wrap it in N_ where it is defined)
    admin_only: bool = False


# Pages add themselves here when their module is imported (see __init__.py).
NAV: list[NavItem] = []


class SignInRequired(Exception):
    """No valid session: the page answers with the sign-in page (303)."""


class CsrfError(ForbiddenError):
    code = "csrf"


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    return env


def languages(request: Request) -> Languages:
    langs: Languages = request.app.state.admin_languages
    return langs


def translator(request: Request) -> Translator:
    return languages(request).translator(request.cookies.get(LANG_COOKIE))


def csrf_for_session(session_token: str) -> str:
    return hmac.new(session_token.encode(), b"admin-csrf", hashlib.sha256).hexdigest()


def csrf_token(request: Request) -> str:
    """The token this browser's forms must carry (sets the pre-session cookie if needed)."""
    session = request.cookies.get(SESSION_COOKIE)
    if session and getattr(request.state, "admin_user", None) is not None:
        return csrf_for_session(session)
    pre = request.cookies.get(PRE_CSRF_COOKIE) or getattr(request.state, "new_pre_csrf", None)
    if not pre:
        pre = secrets.token_urlsafe(24)
        request.state.new_pre_csrf = pre
    return pre


async def check_csrf(request: Request) -> None:
    """Refuse an unsafe request without this browser's CSRF token (403)."""
    if request.method in SAFE_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        value = (await request.form()).get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    valid = []
    if session := request.cookies.get(SESSION_COOKIE):
        valid.append(csrf_for_session(session))
    if pre := request.cookies.get(PRE_CSRF_COOKIE):
        valid.append(pre)
    if not sent or not any(hmac.compare_digest(sent, v) for v in valid):
        raise CsrfError(
            N_(
                "This form has expired or did not come from this site, so it was not "
                "accepted. Reload the page and send it again."
            )
        )


# Every admin route goes through this router (CSRF on every unsafe method).
router = APIRouter(prefix=PREFIX, dependencies=[Depends(check_csrf)], include_in_schema=False)


def session_user(request: Request, state: State) -> User:
    """The signed-in user of this browser; otherwise the page sends them to sign in."""
    token = request.cookies.get(SESSION_COOKIE)
    user = None
    if token:
        user = state.store.user_by_token(token_hash(token), format_time(state.clock()))
    if user is None:
        raise SignInRequired()
    request.state.admin_user = user
    return user


SessionUser = Annotated[User, Depends(session_user)]


def session_scope(user: SessionUser, state: State) -> Scope:
    """The user with the sites they manage: exactly the API's ``UserScope``."""
    sites = state.store.sites()
    return Scope(user, sites, scope_of(user, sites))


SessionScope = Annotated[Scope, Depends(session_scope)]


def session_editor(user: SessionUser) -> User:
    if user.role not in ("admin", "editor"):
        raise ForbiddenError(N_("You may only read here: ask an administrator for editor rights."))
    return user


def session_admin(user: SessionUser) -> User:
    if user.role != "admin":
        raise ForbiddenError(N_("Only administrators may open this page."))
    return user


SessionEditor = Annotated[User, Depends(session_editor)]
SessionAdmin = Annotated[User, Depends(session_admin)]


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """The page ``template`` in the user's language, with what ``base.html`` needs."""
    tr = translator(request)
    env: Environment = request.app.state.admin_templates
    user: User | None = getattr(request.state, "admin_user", None)
    token = csrf_token(request)
    ctx: dict[str, Any] = {
        "request": request,
        "user": user,
        "lang": tr.lang,
        "languages": LANGUAGES,
        "tr": tr,
        "gettext": tr.markup,
        "ngettext": lambda s, p, n, **kw: tr.markup(s if n == 1 else p, num=n, **kw),
        "csrf_token": token,
        "roles": ROLES,
        "csrf_field": lambda: Markup(
            f'<input type="hidden" name="{CSRF_FIELD}" value="{Markup.escape(token)}">'
        ),
        "nav": [n for n in NAV if user is not None and (not n.admin_only or user.role == "admin")],
        "path": request.url.path,
        # where the language switch comes back to: this page, if it can be opened again
        "here": (
            request.url.path + (f"?{request.url.query}" if request.url.query else "")
            if request.method == "GET" and user is not None
            else f"{PREFIX}/fleet"
        ),
        **(context or {}),
    }
    body = env.get_template(template).render(ctx)
    response = HTMLResponse(body, status_code=status, headers=headers)
    response.headers["content-security-policy"] = PAGE_CSP
    response.headers["cache-control"] = "no-store"
    pre = getattr(request.state, "new_pre_csrf", None)
    if pre:
        set_cookie(request, response, PRE_CSRF_COOKIE, pre, max_age=None)
    return response


def set_cookie(
    request: Request, response: Response, name: str, value: str, *, max_age: int | None
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def is_admin_path(path: str) -> bool:
    return path == "/" or path == PREFIX or path.startswith(PREFIX + "/")


STATUS_TITLES = {
    400: N_("The request could not be used"),
    401: N_("Sign in first"),
    403: N_("Not allowed"),
    404: N_("Not found"),
    405: N_("Not allowed"),
    409: N_("Already exists"),
    413: N_("Too large"),
    422: N_("Please check what you entered"),
    429: N_("Too many attempts"),
    503: N_("Not available now"),
}


SOMETHING_WRONG = N_("Something went wrong")
ROLES = {"admin": N_("administrator"), "editor": N_("editor"), "viewer": N_("viewer")}


def error_page(request: Request, status: int, detail: str) -> HTMLResponse:
    tr = translator(request)
    title = tr.gettext(STATUS_TITLES.get(status, SOMETHING_WRONG))
    return render(
        request,
        "error.html",
        {"status": status, "title": title, "detail": tr.gettext(detail)},
        status=status,
    )


Handler = Callable[[Request, Exception], Awaitable[Response]]


def install_error_pages(app: FastAPI) -> None:
    """Admin paths get HTML error pages; every other path keeps the handler it had."""

    def wrap(exc_type: type[Exception]) -> None:
        previous: Handler | None = app.exception_handlers.get(exc_type)  # type: ignore[assignment]

        async def handler(request: Request, exc: Exception) -> Response:
            if is_admin_path(request.url.path):
                if isinstance(exc, SignInRequired):
                    return sign_in_redirect(request)
                if isinstance(exc, ContentServerError):
                    return error_page(request, exc.status, str(exc))
                if isinstance(exc, StarletteHTTPException):
                    return error_page(request, exc.status_code, str(exc.detail))
                if isinstance(exc, RequestValidationError):
                    return error_page(request, 422, N_("Some fields are missing or not valid."))
            assert previous is not None, exc_type
            return await previous(request, exc)

        app.add_exception_handler(exc_type, handler)

    for exc_type in (ContentServerError, StarletteHTTPException, RequestValidationError):
        wrap(exc_type)

    async def signin(request: Request, exc: Exception) -> Response:
        return sign_in_redirect(request)

    app.add_exception_handler(SignInRequired, signin)


def sign_in_redirect(request: Request) -> Response:
    target = request.url.path
    if request.url.query:
        target += "?" + request.url.query
    location = f"{PREFIX}/sign-in"
    if target.startswith(PREFIX + "/") and request.method == "GET":
        from urllib.parse import quote

        location += "?next=" + quote(target, safe="/")
    if request.headers.get("hx-request"):  # htmx: load the whole sign-in page
        return Response(status_code=204, headers={"HX-Redirect": location})
    return Response(status_code=303, headers={"location": location})


def safe_next(target: str | None) -> str:
    """Only a path of the admin itself (never another site) after signing in."""
    if target and target.startswith(PREFIX + "/") and "//" not in target and "\\" not in target:
        return target
    return f"{PREFIX}/fleet"
