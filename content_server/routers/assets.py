"""``/api/v1/assets/{sha256}``: media bytes for devices, by hash.

Any valid device token may fetch any stored asset (assets are not secret, and
a hash cannot be guessed; limiting a device to its own manifest's assets is a
later step). The bytes never change for a hash: strong ``ETag`` = the hash,
cached forever. ``Range`` (one range: ``a-b``, ``a-``, ``-n``) gives ``206``, a
range past the end ``416``; ``If-Range`` honours the range only for our ETag.
A malformed or multi-part range is ignored, as RFC 9110 allows: the whole file.
Files are streamed in chunks, never read whole.

Behind nginx (``accel_redirect_prefix`` set) the answer to an authorised request for
a stored asset is empty, with ``X-Accel-Redirect: <prefix><sha256>``: nginx sends the
file itself from the asset store and handles ``Range``. The token check, the 404 and
the 304 stay here.
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated

import anyio
from fastapi import APIRouter, Header, Response
from fastapi.responses import FileResponse, StreamingResponse

from ..assets import SHA256_RE
from ..deps import CurrentDevice, State
from ..errors import NotFoundError, RangeNotSatisfiableError
from .devices import etag_matches

router = APIRouter(prefix="/assets", tags=["assets"])
CHUNK = 256 * 1024
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """``(first, last)`` byte offsets, inclusive; None: serve the whole file."""
    m = _RANGE.match(header.replace(" ", ""))
    if m is None:
        return None
    first_s, last_s = m.groups()
    if not first_s and not last_s:
        return None
    if not first_s:
        suffix = int(last_s)
        if suffix == 0 or size == 0:
            raise RangeNotSatisfiableError(f"the file has {size} bytes", size)
        return max(size - suffix, 0), size - 1
    first = int(first_s)
    last = int(last_s) if last_s else size - 1
    if last_s and last < first:
        return None
    if first >= size:
        raise RangeNotSatisfiableError(f"the file has {size} bytes; range starts at {first}", size)
    return first, min(last, size - 1)


async def _read(path: Path, first: int, length: int) -> AsyncIterator[bytes]:
    async with await anyio.open_file(path, "rb") as f:
        await f.seek(first)
        while length > 0:
            chunk = await f.read(min(CHUNK, length))
            if not chunk:
                return
            length -= len(chunk)
            yield chunk


@router.get(
    "/{sha256}",
    summary="An asset's bytes",
    responses={
        200: {"content": {"application/octet-stream": {}}},
        206: {"description": "The requested range."},
        304: {"description": "Unchanged (it never changes)."},
        416: {"description": "The range starts past the end."},
    },
)
async def get_asset(
    sha256: str,
    device: CurrentDevice,
    state: State,
    range_: Annotated[str | None, Header(alias="range")] = None,
    if_range: Annotated[str | None, Header()] = None,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    media_type = state.asset_types.get(sha256) if SHA256_RE.match(sha256) else None
    path = state.asset_store.root / sha256
    try:
        stat = await anyio.to_thread.run_sync(os.stat, path) if media_type else None
    except FileNotFoundError:
        stat = None
    if media_type is None or stat is None:
        raise NotFoundError(f"no asset {sha256[:64]!r} is stored on this server")
    etag = f'"{sha256}"'
    headers = {
        "ETag": etag,
        "Cache-Control": "public, max-age=31536000, immutable",
        "Accept-Ranges": "bytes",
    }
    if if_none_match is not None and etag_matches(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    prefix = state.settings.accel_redirect_prefix
    if prefix is not None:
        # nginx sends the file (and answers Range) from its internal location; it keeps
        # our Content-Type and Cache-Control but not the ETag, which its site adds back.
        headers["X-Accel-Redirect"] = prefix + sha256
        return Response(status_code=200, media_type=media_type, headers=headers)
    wanted = None
    if range_ is not None and (if_range is None or if_range.strip() == etag):
        wanted = parse_range(range_, stat.st_size)
    if wanted is None:
        if range_ is None:
            return FileResponse(path, media_type=media_type, headers=headers, stat_result=stat)
        headers["Content-Length"] = str(stat.st_size)
        return StreamingResponse(
            _read(path, 0, stat.st_size), media_type=media_type, headers=headers
        )
    first, last = wanted
    headers["Content-Range"] = f"bytes {first}-{last}/{stat.st_size}"
    headers["Content-Length"] = str(last - first + 1)
    return StreamingResponse(
        _read(path, first, last - first + 1),
        status_code=206,
        media_type=media_type,
        headers=headers,
    )
