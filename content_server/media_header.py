"""The size a media file declares in its header, read without decoding it.

A PNG says its width and height in ``IHDR``, a JPEG in its first ``SOF``
marker, an MP4 in the visual sample entry of its ``stsd`` box and a WebM in
the ``PixelWidth``/``PixelHeight`` of its video track. A decoder trusts these
numbers and allocates for them, so ``media.py`` refuses an oversized file by
its header before any decoder sees it.

Only the header is read, with bounded work: a fixed number of boxes,
markers or elements is visited, seeking over the rest, never loading a file
into memory. ``None`` means the header does not say (a damaged file); what
to do about it is the caller's decision.
"""

from __future__ import annotations

import struct
from typing import BinaryIO

MAX_STEPS = 4096  # boxes, markers or elements visited before giving up

# JPEG start-of-frame markers (baseline, progressive, lossless, arithmetic), not DHT/JPG/DAC.
_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
_JPEG_MAX_GARBAGE = 4096  # stray bytes tolerated between two markers
# ISO-BMFF boxes that hold the ``stsd`` of a video track, and the sample entries of video.
_MP4_PATH = (b"moov", b"trak", b"mdia", b"minf", b"stbl", b"stsd")
_MP4_HANDLERS = (b"moov", b"trak", b"mdia", b"minf", b"stbl")
# WebM (Matroska) element ids: Segment, Tracks, TrackEntry, Video, PixelWidth, PixelHeight.
_EBML_SEGMENT, _EBML_TRACKS, _EBML_TRACK = 0x18538067, 0x1654AE6B, 0xAE
_EBML_VIDEO, _EBML_WIDTH, _EBML_HEIGHT = 0xE0, 0xB0, 0xBA


def declared_size(f: BinaryIO, media_type: str) -> tuple[int, int] | None:
    """``(width, height)`` the header of ``f`` declares, or None if it does not say."""
    try:
        f.seek(0)
        if media_type == "image/png":
            return _png(f)
        if media_type == "image/jpeg":
            return _jpeg(f)
        if media_type == "video/mp4":
            return _mp4(f)
        if media_type == "video/webm":
            return _webm(f)
    except (OSError, struct.error, ValueError):
        return None
    return None


def _png(f: BinaryIO) -> tuple[int, int] | None:
    head = f.read(24)
    if len(head) < 24 or head[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", head[16:24])
    return width, height


def _jpeg(f: BinaryIO) -> tuple[int, int] | None:
    if f.read(2) != b"\xff\xd8":
        return None
    for _ in range(MAX_STEPS):
        byte = f.read(1)
        skipped = 0
        while byte and byte != b"\xff" and skipped < _JPEG_MAX_GARBAGE:
            byte, skipped = f.read(1), skipped + 1  # stray bytes: libjpeg skips them too
        if byte != b"\xff":
            return None
        marker = f.read(1)
        while marker == b"\xff":  # fill bytes
            marker = f.read(1)
        if not marker:
            return None
        m = marker[0]
        if m == 0x01 or 0xD0 <= m <= 0xD7:  # no length
            continue
        if m in (0xD9, 0xDA):  # end of image, start of scan: no frame header before
            return None
        (length,) = struct.unpack(">H", f.read(2))
        if length < 2:
            return None
        if m in _SOF:
            data = f.read(5)
            height, width = struct.unpack(">HH", data[1:5])
            return width, height
        f.seek(length - 2, 1)
    return None


def _boxes(f: BinaryIO, end: int | None, steps: list[int]) -> list[tuple[bytes, int, int]]:
    """``(type, start of payload, end)`` of the boxes from here to ``end``."""
    out = []
    while end is None or f.tell() + 8 <= end:
        steps[0] += 1
        if steps[0] > MAX_STEPS:
            raise ValueError("too many boxes")
        start = f.tell()
        head = f.read(8)
        if len(head) < 8:
            break
        size, kind = struct.unpack(">I4s", head)
        payload = start + 8
        if size == 1:
            (size,) = struct.unpack(">Q", f.read(8))
            payload += 8
        elif size == 0:
            size = f.seek(0, 2) - start if end is None else end - start
        if size < payload - start:
            raise ValueError("bad box size")
        out.append((kind, payload, start + size))
        f.seek(start + size)
    return out


def _mp4(f: BinaryIO) -> tuple[int, int] | None:
    steps = [0]
    sizes: list[tuple[int, int]] = []

    def walk(end: int | None, depth: int) -> None:
        for kind, payload, box_end in _boxes(f, end, steps):
            if depth < len(_MP4_HANDLERS) and kind == _MP4_HANDLERS[depth]:
                f.seek(payload)
                walk(box_end, depth + 1)
            elif depth == len(_MP4_HANDLERS) and kind == b"stsd":
                f.seek(payload + 8)  # version, flags, entry count
                for _entry, entry_payload, _entry_end in _boxes(f, box_end, steps):
                    # VisualSampleEntry: 6 reserved, 2 index, 16 predefined, then w, h.
                    f.seek(entry_payload + 24)
                    width, height = struct.unpack(">HH", f.read(4))
                    if width and height:
                        sizes.append((width, height))
            f.seek(box_end)

    walk(None, 0)
    return max(sizes, key=lambda s: s[0] * s[1]) if sizes else None


def _vint(f: BinaryIO, keep_marker: bool) -> int | None:
    first = f.read(1)
    if not first:
        raise ValueError("end of file")
    b = first[0]
    length = 1
    while length <= 8 and not b & (0x80 >> (length - 1)):
        length += 1
    if length > 8:
        raise ValueError("bad EBML number")
    value = b if keep_marker else b & (0xFF >> length)
    rest = f.read(length - 1)
    if len(rest) != length - 1:
        raise ValueError("end of file")
    for byte in rest:
        value = (value << 8) | byte
    if not keep_marker and value == (1 << (7 * length)) - 1:
        return None  # unknown size
    return value


def _webm(f: BinaryIO) -> tuple[int, int] | None:
    size_of_file = f.seek(0, 2)
    f.seek(0)
    width = height = 0
    steps = 0
    ends = [size_of_file]
    # Descend into Segment > Tracks > TrackEntry > Video, skip every other element.
    containers = (_EBML_SEGMENT, _EBML_TRACKS, _EBML_TRACK, _EBML_VIDEO)
    while f.tell() < size_of_file and steps < MAX_STEPS:
        steps += 1
        while len(ends) > 1 and f.tell() >= ends[-1]:
            ends.pop()
        element = _vint(f, keep_marker=True)
        size = _vint(f, keep_marker=False)
        start = f.tell()
        end = ends[-1] if size is None else start + size
        if element in containers:
            ends.append(end)
            continue
        if element in (_EBML_WIDTH, _EBML_HEIGHT) and size is not None and size <= 8:
            value = int.from_bytes(f.read(size), "big")
            if element == _EBML_WIDTH:
                width = max(width, value)
            else:
                height = max(height, value)
        f.seek(end)
    return (width, height) if width and height else None
