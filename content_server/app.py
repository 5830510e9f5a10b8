"""The FastAPI application: ``create_app(settings)``.

Opens the data folder (``ServerState``), installs the problem+json error
handlers and the routers under ``/api/v1``, and while it runs, a background
task notices changes made by other processes and renews manifests before they
expire. Settings are always passed in; nothing is read at import.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any

import anyio
from fastapi import APIRouter, FastAPI

from . import problems
from .admin import install as install_admin
from .body_limit import BodyLimit, BodyLimits
from .clock import utc_now
from .fastpath import ManifestFastPath
from .ingest import FleetLink
from .keys import load_mqtt_server_password
from .routers import (
    API_PREFIX,
    assets,
    audit,
    auth,
    devices,
    feedback,
    groups,
    health,
    keys,
    layouts,
    pages,
    playlists,
    reports,
    sites,
    uploads,
    users,
)
from .routers import alerts as alerts_router
from .routers import fleet as fleet_router
from .routers.fleet import MAX_SCREENSHOT_BYTES
from .security_headers import SecurityHeaders
from .settings import Settings
from .state import ServerState
from .uploads import FORM_OVERHEAD

log = logging.getLogger(__name__)
RENEW_EVERY_S = 3600.0


async def _watch(state: ServerState, interval_s: float) -> None:
    loop = asyncio.get_running_loop()
    next_renewal = loop.time()
    while True:
        try:
            await anyio.to_thread.run_sync(state.reload_if_changed)
            if loop.time() >= next_renewal:
                next_renewal = loop.time() + RENEW_EVERY_S
                await anyio.to_thread.run_sync(state.refresh_expiring, state.clock())
                await anyio.to_thread.run_sync(state.prune_events, state.clock())
        except Exception:
            log.exception("refreshing the server's in-memory state failed; retrying")
        await asyncio.sleep(interval_s)


def _fleet_link(settings: Settings, state: ServerState) -> FleetLink | None:
    """The MQTT side (health in, commands and alerts out), if the server has a broker."""
    if not settings.mqtt_url:
        return None
    if settings.mqtt_password is not None:
        password = settings.mqtt_password.get_secret_value()
    else:
        password = load_mqtt_server_password(settings.mqtt_server_password_path)
    return FleetLink(
        state,
        url=settings.mqtt_url,
        password=password,
        ca_file=settings.mqtt_ca_file,
        default_interval_s=settings.heartbeat_interval_s,
        heartbeats_per_minute=settings.heartbeats_per_minute,
        heartbeat_burst=settings.heartbeat_burst,
    )


EVENTS_BODY_BYTES = 2 * 1024 * 1024  # 500 events of about 4 KiB each


class ContentServerApp(FastAPI):
    """FastAPI with two guards outside all of its own middleware: every answer, a 500
    of an unexpected failure included, gets the security headers, and no request body
    is read past its cap (``body_limit.py``, ``security_headers.py``)."""

    body_limits: BodyLimits

    def build_middleware_stack(self) -> Any:
        return SecurityHeaders(BodyLimit(super().build_middleware_stack(), self.body_limits))


def create_app(settings: Settings, *, clock: Callable[[], datetime] = utc_now) -> FastAPI:
    """The app for the data folder in ``settings``; ``NotInitialisedError`` if it is empty."""
    state = ServerState.open(settings, clock)

    try:
        fleet = _fleet_link(settings, state)
    except BaseException:
        state.close()
        raise

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if fleet is not None:
            fleet.start()
        task = asyncio.create_task(_watch(state, settings.reload_interval_s))
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            if fleet is not None:
                fleet.stop()
            state.close()

    docs = settings.api_docs
    app = ContentServerApp(
        title="Border-gate signage content server",
        version="1",
        summary="Signed multilingual playlists for the screens at the border gates of Huế.",
        lifespan=lifespan,
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        openapi_url="/openapi.json" if docs else None,
    )
    app.body_limits = BodyLimits(
        json=settings.max_json_body_bytes,
        upload=settings.max_upload_bytes + FORM_OVERHEAD,
        screenshot=MAX_SCREENSHOT_BYTES,
        events=EVENTS_BODY_BYTES,
    )
    app.state.server = state
    app.state.fleet = fleet
    problems.install(app)
    app.add_middleware(ManifestFastPath, state=state, prefix=API_PREFIX)  # before routing
    api = APIRouter(prefix=API_PREFIX)
    for module in (devices, assets, keys, auth, sites, playlists):
        api.include_router(module.router)
    for module in (users, uploads, pages, groups, reports, audit):
        api.include_router(module.router)
    api.include_router(fleet_router.router)
    api.include_router(alerts_router.router)
    api.include_router(feedback.router)
    api.include_router(layouts.router)
    app.include_router(api)
    app.include_router(health.router)
    install_admin(app, settings)  # the web admin at / and /admin/ (content_server/admin/)
    return app
