"""What the screen shows, card by card, and when the schedule next changes. No Kivy.

How a traveller sees it: **one language per card, full screen, each item in
each of the site's languages in turn** — item 1 in Vietnamese, item 1 in Lao,
item 1 in English, then item 2 in Vietnamese, and so on, in the order of the
manifest's ``languages``. Each card keeps the item's full ``duration_s``: a
Lao reader needs as long as a Vietnamese one. A reader never waits more than
one item for their language, and the text stays large enough to read from the
queue. (Stacking Vietnamese and Lao on one card halves the type size and makes
long Lao paragraphs unreadable from a distance.)

A playlist whose ``bilingual`` is ``side_by_side`` shows each text item's first two
variants on one card (``Card.beside``: vi | lo), then any further language alone;
its image and video items stay one language per card.

Fallbacks: a language's card shows the variant ``signage_core.languages.pick``
chooses (Lao falls back to English, then Vietnamese). Within one item each
variant is shown once: if English is missing and falls back to the Vietnamese
text just shown, there is no English card for that item.

Which playlists play is ``signage_core.schedule.evaluate``'s answer; its
``next_change_at`` is passed on so the app arms one timer for it. Text, image
and video items are shown; ``peek`` names the card after the one on screen, so
the app can prepare it (decode a video's first frame, lay out text) in advance.

``Presenter`` keeps the position in the programme across content updates: an
unchanged card on screen plays to its end, a corrected one is shown again at
once, a removed one gives way to the start of the new programme.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from signage_core import languages
from signage_core.errors import LanguageError
from signage_core.layout import bilingual_mode
from signage_core.manifest import Manifest
from signage_core.schedule import evaluate

PLAYABLE_KINDS = ("text", "image", "video")


@dataclass(frozen=True)
class Card:
    """One item in one language, as shown on screen."""

    playlist_id: str
    item_id: str
    kind: str  # "text", "image" or "video"
    language: str  # the language of the variant shown (after fallback)
    variant: Mapping[str, Any]  # text: {title, body}; image, video: {asset, caption}
    duration_s: int
    beside: Card | None = None  # side by side: the second language, on the same screen

    @property
    def key(self) -> tuple[str, str, str]:
        return self.playlist_id, self.item_id, self.language

    @property
    def languages(self) -> tuple[str, ...]:
        """Every language this card shows (two when side by side)."""
        return (self.language,) if self.beside is None else (self.language, self.beside.language)

    @property
    def title(self) -> str:
        return str(self.variant.get("title") or "")

    @property
    def body(self) -> str:
        return str(self.variant.get("body") or "")

    @property
    def caption(self) -> str:
        return str(self.variant.get("caption") or "")

    @property
    def asset(self) -> str | None:
        asset = self.variant.get("asset")
        return str(asset) if asset else None


@dataclass(frozen=True)
class Programme:
    """The cards to loop through now, and the instant the schedule can change the answer."""

    cards: tuple[Card, ...]
    next_change_at: datetime | None


EMPTY = Programme((), None)


def _pick(variants: Mapping[str, Any], code: str) -> tuple[str, Any] | None:
    try:
        return languages.pick(variants, code)
    except LanguageError:  # a code this build does not know: its own variant only
        return (code, variants[code]) if code in variants else None


def item_cards(
    playlist_id: str, item: Mapping[str, Any], langs: Sequence[str], side_by_side: bool = False
) -> list[Card]:
    """The cards of one item: one per language of ``langs``, each variant at most once;
    ``side_by_side`` (text items only): the first two on one card."""
    variants: Mapping[str, Any] = item.get("variants") or {}
    order = list(langs) or list(variants)
    cards: list[Card] = []
    shown: set[str] = set()
    for code in order:
        picked = _pick(variants, code)
        if picked is None or picked[0] in shown:
            continue
        shown.add(picked[0])
        cards.append(
            Card(
                playlist_id=playlist_id,
                item_id=str(item["id"]),
                kind=str(item["kind"]),
                language=picked[0],
                variant=picked[1],
                duration_s=int(item["duration_s"]),
            )
        )
    if side_by_side and item.get("kind") == "text" and len(cards) >= 2:
        first, second, *rest = cards
        return [replace(first, beside=second), *rest]
    return cards


def programme(
    manifest: Manifest | None, now: datetime, kinds: Sequence[str] = PLAYABLE_KINDS
) -> Programme:
    """The cards of the playlists scheduled at ``now`` (aware), in order, and the next change."""
    if manifest is None:
        return EMPTY
    playlists = manifest.playlists
    slot = evaluate(playlists, now, manifest.timezone)
    by_id = {str(p["id"]): p for p in playlists}
    cards: list[Card] = []
    for pid in slot.playlist_ids:
        side_by_side = bilingual_mode(by_id[pid]) == "side_by_side"
        for item in by_id[pid].get("items", []):
            if item.get("kind") in kinds:
                cards.extend(item_cards(pid, item, manifest.languages, side_by_side))
    return Programme(tuple(cards), slot.next_change_at)


class Presenter:
    """Screen logic of the player: which card comes next, and when to look at the schedule."""

    def __init__(self, kinds: Sequence[str] = PLAYABLE_KINDS) -> None:
        self._kinds = tuple(kinds)
        self.programme = EMPTY
        self._pos = -1
        self.showing: Card | None = None

    @property
    def next_change_at(self) -> datetime | None:
        return self.programme.next_change_at

    def schedule_due(self, now: datetime) -> bool:
        """Whether ``now`` has reached the schedule's next change (a timer may fire late
        or early when the wall clock is corrected)."""
        at = self.programme.next_change_at
        return at is not None and now >= at

    def update(self, manifest: Manifest | None, now: datetime) -> bool:
        """Recompute the programme; True if the card on screen must be replaced now."""
        new = programme(manifest, now, self._kinds)
        self.programme = new
        showing = self.showing
        if showing is None:
            self._pos = -1
            return True
        if showing in new.cards:
            self._pos = new.cards.index(showing)
            return False
        keys = [c.key for c in new.cards]
        # Corrected text: show the new version of the same card; removed: start over.
        self._pos = keys.index(showing.key) - 1 if showing.key in keys else -1
        return True

    def peek(self, playable: Callable[[Card], bool] | None = None) -> Card | None:
        """The card ``advance`` would return now, without moving."""
        cards = self.programme.cards
        for step in range(1, len(cards) + 1):
            card = cards[(self._pos + step) % len(cards)]
            if playable is None or playable(card):
                return card
        return None

    def advance(self, playable: Callable[[Card], bool] | None = None) -> Card | None:
        """The next card to show (looping), skipping those ``playable`` refuses; None if none."""
        cards = self.programme.cards
        for step in range(1, len(cards) + 1):
            pos = (self._pos + step) % len(cards)
            if playable is None or playable(cards[pos]):
                self._pos = pos
                self.showing = cards[pos]
                return cards[pos]
        self.showing = None
        return None
