"""The asset store: named by hash, stored once, typed by content, never half written."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest

from content_server.assets import AssetStore, sniff
from content_server.errors import InvalidInputError
from tests.server.content_server_kit import JPEG, MP4, png

WEBM = bytes.fromhex("1a45dfa39f4286810142f7810142f2810442f381084282847765626d")


@pytest.mark.parametrize(
    ("data", "media_type"),
    [
        (png(), "image/png"),
        (JPEG, "image/jpeg"),
        (MP4, "video/mp4"),
        (WEBM + bytes(40), "video/webm"),
        (b"\x00\x00\x00\x18ftypavif\x00\x00\x00\x00", None),  # an AVIF still image
        (b"GIF89a", None),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", None),
        (b"", None),
    ],
)
def test_the_type_comes_from_the_first_bytes(data: bytes, media_type: str | None) -> None:
    assert sniff(data[:64]) == media_type


def test_the_same_bytes_are_stored_once_under_their_hash(tmp_path: Path) -> None:
    store = AssetStore(tmp_path / "assets")
    data = png(40, 30)
    first = store.put_stream(io.BytesIO(data), max_bytes=10**6)
    second = store.put_stream(io.BytesIO(data), max_bytes=10**6)
    assert first == second
    assert first.sha256 == hashlib.sha256(data).hexdigest()
    assert first.size == len(data) and first.media_type == "image/png"
    assert store.path(first.sha256).read_bytes() == data
    assert [p.name for p in (tmp_path / "assets").iterdir() if p.is_file()] == [first.sha256]
    assert list(store.tmp.iterdir()) == []


@pytest.mark.parametrize(("data", "limit"), [(b"not media" * 10, 10**6), (MP4, 100)])
def test_a_refused_file_leaves_nothing_behind(tmp_path: Path, data: bytes, limit: int) -> None:
    store = AssetStore(tmp_path / "assets")
    with pytest.raises(InvalidInputError):
        store.put_stream(io.BytesIO(data), max_bytes=limit)
    assert [p for p in (tmp_path / "assets").rglob("*") if p.is_file()] == []
