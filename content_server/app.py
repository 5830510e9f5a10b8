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
from datetime import UTC, datetime

import anyio
from fastapi import APIRouter, FastAPI

from . import problems
from .fastpath import ManifestFastPath
from .ingest import FleetLink
from .keys import load_mqtt_server_password
from .routers import alerts as alerts_router
from .routers import (
    assets,
    audit,
    auth,
    devices,
    groups,
    health,
    keys,
    pages,
    playlists,
    reports,
    sites,
    uploads,
    users,
)
from .routers import fleet as fleet_router
from .settings import Settings
from .state import ServerState

log = logging.getLogger(__name__)
API_PREFIX = "/api/v1"
RENEW_EVERY_S = 3600.0


def utc_now() -> datetime:
    return datetime.now(UTC)


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
        default_interval_s=settings.heartbeat_interval_s,
        heartbeats_per_minute=settings.heartbeats_per_minute,
        heartbeat_burst=settings.heartbeat_burst,
    )


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

    app = FastAPI(
        title="Border-gate signage content server",
        version="1",
        summary="Signed multilingual playlists for the screens at the border gates of Huế.",
        lifespan=lifespan,
    )
    app.state.server = state
    app.state.fleet = fleet
    problems.install(app)
    app.add_middleware(ManifestFastPath, state=state)  # the hot poll, before routing
    api = APIRouter(prefix=API_PREFIX)
    for module in (devices, assets, keys, auth, sites, playlists):
        api.include_router(module.router)
    for module in (users, uploads, pages, groups, reports, audit):
        api.include_router(module.router)
    api.include_router(fleet_router.router)
    api.include_router(alerts_router.router)
    app.include_router(api)
    app.include_router(health.router)
    return app
