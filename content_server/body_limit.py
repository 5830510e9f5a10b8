"""Request bodies bounded before anything reads them: a plain ASGI middleware.

FastAPI reads and parses a JSON body before it checks the token, so without a
bound one token-less request could make the server hold and parse any number
of bytes. This middleware sits outside everything else and gives each class of
route its own cap (``BodyLimits``): small for JSON, the upload limit for media
uploads (streamed to disk by ``uploads.py`` as before), the screenshot cap for
device screenshots, and one for batches of device events.

A ``Content-Length`` over the cap is answered with 413 problem+json before the
app is called at all. A body without one (``Transfer-Encoding: chunked``) is
counted as the app reads it; the moment it passes the cap the client gets the
413, the app is told the client went away, and whatever the app still tries to
send is dropped. The checks of the routes themselves stay as they are.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

_UPLOAD = re.compile(r"^/(api/v1/assets|admin/media/upload)/?$")  # the admin's is the API's
_SCREENSHOT = re.compile(r"^/api/v1/devices/[^/]+/screenshot/?$")
_EVENTS = re.compile(r"^/api/v1/devices/[^/]+/events/?$")


@dataclass(frozen=True)
class BodyLimits:
    """The largest body, in bytes, each class of route accepts."""

    json: int
    upload: int
    screenshot: int
    events: int

    def for_path(self, path: str) -> tuple[int, str]:
        """The cap for a request to ``path``, and what the body is, for the message."""
        if _UPLOAD.match(path):
            return self.upload, "an upload"
        if _SCREENSHOT.match(path):
            return self.screenshot, "a screenshot"
        if _EVENTS.match(path):
            return self.events, "a batch of events"
        return self.json, "a request body"


def _problem(limit: int, what: str) -> tuple[list[tuple[bytes, bytes]], bytes]:
    body = json.dumps(
        {
            "type": "urn:border-signage:problem:too-large",
            "title": "Request too large",
            "status": 413,
            "detail": f"{what} may be at most {limit} bytes; send less "
            "(split it, or make the file smaller)",
            "limit": limit,
        }
    ).encode()
    headers = [
        (b"content-type", b"application/problem+json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    return headers, body


def _log_refusal(scope: Any, limit: int, how: str) -> None:
    client = scope.get("client") or ("?", 0)
    log.info(
        "%s %s from %s: body %s over %d bytes, refused with 413",
        scope["method"],
        scope["path"],
        client[0],
        how,
        limit,
    )


class BodyLimit:
    def __init__(self, app: Any, limits: BodyLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, what = self.limits.for_path(scope["path"])
        for name, value in scope["headers"]:
            if name == b"content-length":
                if value.isdigit() and int(value) > limit:
                    await self._refuse(send, limit, what)
                    _log_refusal(scope, limit, "announced")
                    return
                break
        answered = False  # our 413 went out: the app's own answer is dropped
        started = False
        received = 0

        async def counting_receive() -> Any:
            nonlocal answered, received
            if answered:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    if not started:
                        await self._refuse(send, limit, what)
                    answered = True
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Any) -> None:
            nonlocal started
            if answered:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not answered:
                raise
            # The app failed on the cut-off body; the client already has its 413.
            log.debug("after a 413 for %s", scope["path"], exc_info=True)
        if answered:
            _log_refusal(scope, limit, "sent")

    @staticmethod
    async def _refuse(send: Any, limit: int, what: str) -> None:
        headers, body = _problem(limit, what)
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})
