"""QR codes for a page's official link, drawn with segno (pure Python, PNG without Pillow).

Only https links reach here (the server refuses others at import and in the API);
the kiosk checks again, so a manifest with another scheme shows no code rather than
one that sends a phone somewhere unexpected.
"""

from __future__ import annotations

import io
from functools import lru_cache

import segno

from signage_core.manifest import link_problem


def is_official_link(url: str) -> bool:
    """Whether the server's rule for a page's link holds (``manifest.link_problem``)."""
    return link_problem(url) is None


@lru_cache(maxsize=64)
def qr_png(url: str, scale: int = 8) -> bytes:
    """The QR code of ``url`` as PNG bytes: black on white with the standard quiet zone."""
    if not is_official_link(url):
        raise ValueError(f"not an https link: {url!r}")
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="png", scale=scale, border=4)
    return out.getvalue()
