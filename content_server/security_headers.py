"""Security headers on every answer: a plain ASGI middleware around the whole app.

It wraps everything, the device fast path and the error answers included (also
the 500 of an unexpected failure, answered outside FastAPI's own middleware), and
adds:

- ``X-Content-Type-Options: nosniff``: a browser never guesses a type, so an
  uploaded file cannot be run as a page or a script;
- ``X-Frame-Options: DENY`` and ``Content-Security-Policy: frame-ancestors 'none'``:
  no page of the server can be framed by another site (clickjacking);
- ``Referrer-Policy: no-referrer``: nothing of our addresses leaks to other sites;
- ``Strict-Transport-Security`` only when the request came over TLS: the scheme
  of the ASGI scope is ``https``, which uvicorn sets when it terminates TLS itself,
  or from ``X-Forwarded-Proto`` when the request comes from an address in its
  ``--forwarded-allow-ips`` (default 127.0.0.1: a reverse proxy on the same host).
  Over plain HTTP the header would mean nothing, and a client never trusts it there.

A header the app set itself is left as it is.
"""

from __future__ import annotations

from typing import Any

HSTS = b"max-age=31536000"
_ALWAYS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", b"frame-ancestors 'none'"),
    (b"referrer-policy", b"no-referrer"),
)


class SecurityHeaders:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = list(_ALWAYS)
        if scope.get("scheme") == "https":
            extra.append((b"strict-transport-security", HSTS))

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                headers += [(k, v) for k, v in extra if k not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
