"""Receiving an upload: a multipart body streamed to a temp file while it is hashed.

The request body is parsed as it arrives (``python_multipart``'s push
parser); the bytes of the one file part go straight to a temp file under the
asset store's ``tmp/`` while sha256 and size are computed, so a file is never
held in memory and a body over the limit is cut off with 413 as soon as it
passes it (or before reading, from ``Content-Length``). The file name is only
kept as a label: one holding a path, ``..``, NUL or control characters is
refused. What the bytes are is ``media.py``'s question.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import anyio
from fastapi import Request
from python_multipart.multipart import MultipartParser, parse_options_header

from .errors import InvalidInputError, PayloadTooLargeError

FORM_OVERHEAD = 64 * 1024  # multipart headers and boundaries allowed on top of the file


@dataclass
class Received:
    path: Path
    sha256: str
    size: int
    head: bytes
    filename: str


@dataclass
class _Part:
    headers: dict[str, str] = field(default_factory=dict)
    field: bytes = b""
    value: bytes = b""


def check_filename(raw: bytes) -> str:
    try:
        name = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InvalidInputError("the file name is not UTF-8 text; rename the file") from e
    bad = not name or len(name) > 255 or name in (".", "..")
    bad = bad or any(c in name for c in "/\\\x00") or ".." in name
    if bad or any(unicodedata.category(c) == "Cc" for c in name):
        raise InvalidInputError(
            f"the file name {name[:80]!r} is not allowed: give a plain name like map.png, "
            "without folders, '..', NUL or control characters"
        )
    return name


async def receive_file(request: Request, tmp_dir: Path, max_bytes: int) -> Received:
    """The one file part (form field ``file``) of a multipart request, on disk."""
    ctype, params = parse_options_header(request.headers.get("content-type"))
    if ctype != b"multipart/form-data" or b"boundary" not in params:
        raise InvalidInputError("send the file as multipart/form-data in a field named 'file'")
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > max_bytes + FORM_OVERHEAD:
        raise PayloadTooLargeError(
            f"the file is larger than the limit of {max_bytes} bytes; make it smaller"
        )
    tmp_dir.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=tmp_dir, suffix=".part")
    tmp = Path(name)
    out = os.fdopen(fd, "wb")
    digest = hashlib.sha256()
    state = {"size": 0, "files": 0, "in_file": False}
    head = bytearray()
    filename = [b""]
    part = _Part()
    pending: list[bytes] = []

    def on_header_field(data: bytes, start: int, end: int) -> None:
        part.field += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        part.value += data[start:end]

    def on_header_end() -> None:
        part.headers[part.field.decode("latin-1").lower()] = part.value.decode("latin-1")
        part.field = part.value = b""

    def on_headers_finished() -> None:
        disposition = part.headers.get("content-disposition", "").encode("latin-1")
        _, opts = parse_options_header(disposition)
        is_file = opts.get(b"name") == b"file" and b"filename" in opts
        if is_file:
            state["files"] += 1
            filename[0] = opts[b"filename"]
        state["in_file"] = is_file and state["files"] == 1

    def on_part_data(data: bytes, start: int, end: int) -> None:
        if not state["in_file"]:
            return
        chunk = data[start:end]
        state["size"] += len(chunk)
        if state["size"] > max_bytes:
            raise PayloadTooLargeError(
                f"the file is larger than the limit of {max_bytes} bytes; make it smaller"
            )
        if len(head) < 64:
            head.extend(chunk[: 64 - len(head)])
        digest.update(chunk)
        pending.append(chunk)

    def on_part_end() -> None:
        part.headers = {}
        state["in_file"] = False

    parser = MultipartParser(
        params[b"boundary"],
        {
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
        },
    )
    try:
        async for chunk in request.stream():
            try:
                parser.write(chunk)
            except (PayloadTooLargeError, InvalidInputError):
                raise
            except Exception as e:  # the parser's own errors: a malformed body
                raise InvalidInputError(f"the multipart body cannot be read: {e}") from e
            if pending:
                data = b"".join(pending)
                pending.clear()
                await anyio.to_thread.run_sync(out.write, data)
        parser.finalize()
        await anyio.to_thread.run_sync(out.close)
        if state["files"] != 1:
            raise InvalidInputError("send exactly one file, in a multipart form field named 'file'")
        return Received(
            tmp, digest.hexdigest(), state["size"], bytes(head), check_filename(filename[0])
        )
    except BaseException:
        out.close()
        tmp.unlink(missing_ok=True)
        raise
