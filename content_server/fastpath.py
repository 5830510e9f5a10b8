"""The manifest poll, answered before FastAPI: a plain ASGI middleware.

Every screen polls ``GET /api/v1/devices/{id}/manifest``; the answer is
precomputed bytes in memory (``ServerState.manifests``) and the token check is
a dict lookup. FastAPI's routing and dependency injection cost several times
the work of the answer itself (see ``bench/bench_manifest_polls.py``), so a
poll that will succeed — valid token of that very device, a manifest held —
is answered here with the route's own answer (``routers.devices.manifest_answer``).
Anything else (no or wrong token, another device's id, no manifest yet) goes
on to the FastAPI route, which answers it with its problem+json.
"""

from __future__ import annotations

import re
from typing import Any

from .accounts import token_hash
from .routers import devices
from .state import ServerState


class ManifestFastPath:
    def __init__(self, app: Any, state: ServerState, prefix: str) -> None:
        self.app = app
        self.state = state
        route = re.escape(prefix + devices.router.prefix)
        self._path = re.compile(f"^{route}/([^/]+)/manifest$")

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            m = self._path.match(scope["path"])
            if m is not None and await self._answer(m.group(1), scope, send):
                return
        await self.app(scope, receive, send)

    async def _answer(self, device_id: str, scope: Any, send: Any) -> bool:
        auth = inm = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                auth = value
            elif name == b"if-none-match":
                inm = value.decode("latin-1")
        if auth is None or auth[:7].lower() != b"bearer ":
            return False
        token = auth[7:].strip().decode("latin-1")
        if self.state.device_tokens.get(token_hash(token)) != device_id:
            return False
        cached = self.state.manifests.get(device_id)
        if cached is None:
            return False
        await devices.manifest_answer(cached, inm).send(send)
        return True
