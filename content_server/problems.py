"""Every error a client sees, as ``application/problem+json`` (RFC 9457).

The one place where exceptions become HTTP responses: our own
``ContentServerError`` tree (each class names its status), FastAPI's request
validation errors, Starlette's HTTP errors (unknown address, wrong method), a
client that stopped sending its body (logged, no traceback) and,
last, anything unexpected, which is logged here and answered with a 500 that
gives nothing away. A problem has ``type``, ``title``, ``status`` and
``detail``; some add members (``errors`` for validation and import problems).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from .errors import (
    AuthenticationError,
    ContentServerError,
    ImportFailedError,
    PublishRefusedError,
    RangeNotSatisfiableError,
    TooManyRequestsError,
)

log = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = "urn:border-signage:problem:"


class ProblemResponse(JSONResponse):
    media_type = PROBLEM_JSON


def problem(
    status: int,
    detail: str,
    *,
    title: str | None = None,
    type_: str = "about:blank",
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> ProblemResponse:
    body = {
        "type": type_,
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        **extra,
    }
    return ProblemResponse(body, status_code=status, headers=dict(headers or {}))


async def _domain(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, ContentServerError)
    headers: dict[str, str] = {}
    extra: dict[str, Any] = {}
    if isinstance(exc, AuthenticationError):
        headers["WWW-Authenticate"] = (
            'Bearer error="invalid_token"' if exc.invalid_token else "Bearer"
        )
    if isinstance(exc, RangeNotSatisfiableError):
        headers["Content-Range"] = f"bytes */{exc.size}"
    if isinstance(exc, ImportFailedError | PublishRefusedError):
        extra["errors"] = exc.problems
    if isinstance(exc, TooManyRequestsError):
        headers["Retry-After"] = str(exc.retry_after)
    if exc.status >= 500:
        log.error("%s %s: %s", request.method, request.url.path, exc)
    return problem(
        exc.status,
        str(exc),
        title=exc.title,
        type_=TYPE_PREFIX + exc.code,
        headers=headers,
        **extra,
    )


def _where(loc: Any) -> str:
    return ".".join(str(p) for p in loc) if isinstance(loc, list | tuple) else str(loc)


async def _validation(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [{"loc": list(e.get("loc", ())), "msg": str(e.get("msg", ""))} for e in exc.errors()]
    shown = "; ".join(f"{_where(e['loc'])}: {e['msg']}" for e in errors[:5])
    more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
    return problem(
        422,
        f"the request is not valid: {shown}{more}",
        title="Invalid request",
        type_=TYPE_PREFIX + "invalid-request",
        errors=errors,
    )


async def _http(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404:
        detail = f"nothing here: {request.method} {request.url.path}"
    elif exc.status_code == 405:
        detail = f"{request.method} is not allowed on {request.url.path}"
    elif exc.status_code == 400 and exc.detail == "There was an error parsing the body":
        detail = "the request body cannot be read: send valid JSON in UTF-8 (see /docs)"
    else:
        detail = str(exc.detail)
    return problem(exc.status_code, detail, headers=exc.headers)


async def _gone(request: Request, exc: Exception) -> ProblemResponse:
    # The client went away mid-body, or ``body_limit`` cut the body off after its 413:
    # nobody reads this answer, and it is no server fault worth a traceback.
    log.info("%s %s: the client stopped sending the body", request.method, request.url.path)
    return problem(400, "the request body ended before it was complete")


async def _unexpected(request: Request, exc: Exception) -> ProblemResponse:
    log.exception("unexpected error in %s %s", request.method, request.url.path, exc_info=exc)
    return problem(500, "an unexpected error happened; the details are in the server's log")


def install(app: FastAPI) -> None:
    app.add_exception_handler(ContentServerError, _domain)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(ClientDisconnect, _gone)
    app.add_exception_handler(Exception, _unexpected)
