"""Where uploads are used: playlists (as published and as drafts) and kiosk pages.

``uses(playlists, drafts, pages)`` maps each asset's sha256 to the places that
show it, so the admin can say "used by playlist adot-welcome (published),
item 3" and refuse to delete what a screen may still need. A video's
thumbnail counts as used where the video is (the admin shows it). Reading
the store and deciding who may delete is the router's; this module only
looks at content it is given.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from .models import Page, Playlist


@dataclass(frozen=True, order=True)
class Use:
    """One place an asset is shown."""

    site_id: str
    kind: str  # "playlist" | "page"
    id: str  # the playlist or page id
    item_id: str | None  # playlists: the item; pages: None
    language: str
    state: str  # "published" | "draft" (pages have no drafts: "published")


def uses(
    live: Sequence[Playlist],
    drafts: Sequence[Playlist],
    pages: Sequence[Page],
    thumbnails: Mapping[str, str] | None = None,
) -> dict[str, list[Use]]:
    """``{sha256: sorted uses}``; ``thumbnails`` maps a video to its thumbnail's sha256."""
    found: dict[str, set[Use]] = {}

    def add(sha: str, use: Use) -> None:
        found.setdefault(sha, set()).add(use)
        if thumbnails and sha in thumbnails:
            found.setdefault(thumbnails[sha], set()).add(use)

    for state, playlists in (("published", live), ("draft", drafts)):
        for p in playlists:
            for item in p.items:
                for code, v in item["variants"].items():
                    if "asset" in v:
                        add(v["asset"], Use(p.site_id, "playlist", p.id, item["id"], code, state))
    for pg in pages:
        for code, v in pg.variants.items():
            if v.get("image"):
                add(v["image"], Use(pg.site_id, "page", pg.id, None, code, "published"))
    out = {}
    for sha, us in found.items():
        # an unchanged draft is the published content: name it once
        published = {replace(u, state="draft") for u in us if u.state == "published"}
        out[sha] = sorted(u for u in us if u not in published)
    return out


def describe(use: Use) -> str:
    """One line for a message: ``playlist adot-welcome (draft), item 3, lo``."""
    where = f"{use.kind} {use.id} ({use.state})"
    if use.item_id is not None:
        where += f", item {use.item_id}"
    return f"{where}, {use.language}"


def within(found: Iterable[Use], site_ids: set[str]) -> list[Use]:
    return [u for u in found if u.site_id in site_ids]
