"""The presenter decides what a traveller sees and when; no display needed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from signage_core.manifest import Manifest
from signage_player import strings
from signage_player.presenter import Card, Presenter, item_cards, programme
from tests.player.player_fakes import image_item, manifest, playlist, text_item

HUE = ZoneInfo("Asia/Ho_Chi_Minh")
WELCOME = text_item(
    "welcome",
    {
        "vi": {"title": "Chào mừng", "body": "Cửa khẩu A Đớt"},
        "lo": {"title": "ຍິນດີຕ້ອນຮັບ", "body": "ດ່ານ ອາເດີດ"},
        "en": {"title": "Welcome", "body": "A Dot Border Gate"},
    },
    duration_s=12,
)
HOURS = text_item(
    "hours",
    {"vi": {"title": "Giờ mở cửa"}, "lo": {"title": "ເວລາເປີດ"}},
    duration_s=8,
)
SHA = "a" * 64


def at(hhmm: str, day: str = "2026-11-26") -> datetime:
    return datetime.fromisoformat(f"{day}T{hhmm}:00").replace(tzinfo=HUE)


def daytime_over_fallback() -> Manifest:
    """Welcome from 07:00 to 17:00, the opening hours (the fallback) the rest of the day."""
    return manifest(
        [
            playlist("fallback", [HOURS], fallback=True),
            playlist(
                "daytime",
                [WELCOME],
                priority=10,
                schedule={"windows": [{"start": "07:00", "end": "17:00"}]},
            ),
        ]
    )


def keys(cards: tuple[Card, ...] | list[Card]) -> list[tuple[str, str]]:
    return [(c.item_id, c.language) for c in cards]


def next_cards(
    p: Presenter, n: int, playable: Callable[[Card], bool] | None = None
) -> list[tuple[str, str]]:
    cards = [p.advance(playable) for _ in range(n)]
    assert all(cards), cards
    return keys([c for c in cards if c])


def test_each_item_is_shown_in_each_language_in_turn() -> None:
    m = manifest([playlist("welcome", [WELCOME, HOURS], fallback=True)])
    p = programme(m, at("09:00"))
    assert keys(p.cards) == [
        ("welcome", "vi"),
        ("welcome", "lo"),
        ("welcome", "en"),
        ("hours", "vi"),
        ("hours", "lo"),
    ]
    assert [c.duration_s for c in p.cards] == [12, 12, 12, 8, 8]
    assert p.cards[1].title == "ຍິນດີຕ້ອນຮັບ" and p.cards[1].body == "ດ່ານ ອາເດີດ"


def test_side_by_side_puts_the_first_two_languages_of_a_text_item_on_one_card() -> None:
    img = image_item("map", SHA, {"vi": "Sơ đồ", "lo": "ແຜນທີ່"})
    both = playlist("welcome", [WELCOME, HOURS, img], fallback=True)
    both["bilingual"] = "side_by_side"
    m = manifest([both], assets={SHA: {"size": 1, "media_type": "x"}})
    cards = programme(m, at("09:00")).cards
    # vi | lo together, then English alone; images stay one language per card.
    assert [c.languages for c in cards] == [
        ("vi", "lo"), ("en",), ("vi", "lo"), ("vi",), ("lo",),
    ]  # fmt: skip
    assert cards[0].beside is not None and cards[0].beside.title == "ຍິນດີຕ້ອນຮັບ"
    assert cards[0].duration_s == 12  # a reader of either language gets the whole time
    # A second language that only falls back to the first's text: the card stays alone.
    vi_only = {"id": "x", "kind": "text", "duration_s": 5, "variants": {"vi": {"title": "Chỉ"}}}
    assert [c.languages for c in item_cards("p", vi_only, ["vi", "lo"], True)] == [("vi",)]


def test_a_missing_variant_falls_back_but_is_never_shown_twice_for_one_item() -> None:
    vi_only = {"id": "x", "kind": "text", "duration_s": 5, "variants": {"vi": {"title": "Chỉ"}}}
    en_only = {"id": "y", "kind": "text", "duration_s": 5, "variants": {"en": {"title": "Only"}}}
    assert keys(item_cards("p", vi_only, ["vi", "lo", "en"])) == [("x", "vi")]
    # Lao falls back to English first: the English text is shown once, in Lao's turn.
    assert keys(item_cards("p", en_only, ["vi", "lo", "en"])) == [("y", "en")]
    # A language this build does not know shows its own variant if there is one.
    xx = {"id": "z", "kind": "text", "duration_s": 5, "variants": {"xx": {"title": "?"}}}
    assert keys(item_cards("p", xx, ["xx", "vi"])) == [("z", "xx")]


def test_image_and_video_items_carry_their_asset_and_caption() -> None:
    img = image_item("map", SHA, {"vi": "Sơ đồ", "lo": "ແຜນທີ່"})
    video = {**img, "id": "clip", "kind": "video"}
    m = manifest(
        [playlist("maps", [img, video], fallback=True)],
        assets={SHA: {"size": 1, "media_type": "x"}},
    )
    cards = programme(m, at("09:00")).cards
    assert keys(cards) == [("map", "vi"), ("map", "lo"), ("clip", "vi"), ("clip", "lo")]
    assert cards[1].asset == SHA and cards[1].caption == "ແຜນທີ່" and cards[1].kind == "image"
    assert cards[3].asset == SHA and cards[3].caption == "ແຜນທີ່" and cards[3].kind == "video"


def test_peek_names_the_next_card_without_moving() -> None:
    m = manifest([playlist("p", [WELCOME, HOURS], fallback=True)])
    presenter = Presenter()
    presenter.update(m, at("09:00"))
    first = presenter.advance()
    upcoming = presenter.peek()
    assert upcoming is not None and upcoming != first
    assert presenter.peek() == upcoming  # peeking twice does not move
    assert presenter.advance() == upcoming
    # A card the player cannot play yet is passed over by peek as by advance.
    after = presenter.peek(lambda c: c.key != presenter.peek().key)  # type: ignore[union-attr]
    assert after is not None and after != presenter.peek()


def test_the_schedule_picks_playlists_and_says_when_it_next_changes() -> None:
    m = daytime_over_fallback()
    night = programme(m, at("06:59"))
    assert {c.playlist_id for c in night.cards} == {"fallback"}
    assert night.next_change_at == at("07:00")
    day = programme(m, at("07:00"))
    assert {c.playlist_id for c in day.cards} == {"daytime"}
    assert day.next_change_at == at("17:00")
    assert programme(None, at("07:00")).cards == ()


def test_the_presenter_loops_and_switches_when_the_schedule_changes() -> None:
    m = daytime_over_fallback()
    p = Presenter()
    assert p.update(m, at("06:59")) is True  # nothing on screen yet
    assert next_cards(p, 3) == [("hours", "vi"), ("hours", "lo"), ("hours", "vi")]
    assert not p.schedule_due(at("06:59")) and p.schedule_due(at("07:00"))
    # At 07:00 the card on screen is no longer scheduled: replace it now, from the start.
    assert p.update(m, at("07:00")) is True
    assert next_cards(p, 2) == [("welcome", "vi"), ("welcome", "lo")]


def test_new_content_keeps_the_position_and_lets_an_unchanged_card_finish() -> None:
    p = Presenter()
    m1 = manifest([playlist("welcome", [WELCOME, HOURS], fallback=True)], version=1)
    p.update(m1, at("09:00"))
    next_cards(p, 2)
    assert p.showing is not None and p.showing.key == ("welcome", "welcome", "lo")
    m2 = manifest([playlist("welcome", [WELCOME, HOURS], fallback=True)], version=2)
    assert p.update(m2, at("09:00")) is False  # same card: it plays to its end
    assert next_cards(p, 1) == [("welcome", "en")]


def test_a_corrected_card_is_shown_again_at_once_and_a_removed_one_gives_way() -> None:
    p = Presenter()
    p.update(manifest([playlist("welcome", [WELCOME, HOURS], fallback=True)]), at("09:00"))
    next_cards(p, 2)  # welcome / lo on screen
    fixed = {**WELCOME, "variants": {**WELCOME["variants"], "lo": {"title": "ຍິນດີຕ້ອນຮັບ!"}}}
    assert p.update(manifest([playlist("welcome", [fixed, HOURS], fallback=True)]), at("09:00"))
    card = p.advance()
    assert card is not None and card.key == ("welcome", "welcome", "lo")
    assert card.title == "ຍິນດີຕ້ອນຮັບ!"
    assert p.update(manifest([playlist("welcome", [HOURS], fallback=True)]), at("09:00"))
    assert next_cards(p, 1) == [("hours", "vi")]


def test_unplayable_cards_are_skipped_and_none_means_the_empty_state() -> None:
    img = image_item("map", SHA, {"vi": "Sơ đồ", "lo": "ແຜນທີ່"})
    m = manifest(
        [playlist("p", [img, HOURS], fallback=True)], assets={SHA: {"size": 1, "media_type": "x"}}
    )
    p = Presenter()
    p.update(m, at("09:00"))
    # The image is not in the cache yet: the text plays on its own.
    assert next_cards(p, 2, lambda c: c.kind != "image") == [("hours", "vi"), ("hours", "lo")]
    assert p.advance(lambda c: False) is None and p.showing is None
    p.update(None, at("09:00"))
    assert p.advance() is None


@pytest.mark.parametrize("hour", ["06:59", "17:00", "23:30"])
def test_outside_the_window_only_fallback_plays(hour: str) -> None:
    m = daytime_over_fallback()
    cards = programme(m, at(hour).astimezone(UTC) + timedelta(seconds=1)).cards
    assert {c.playlist_id for c in cards} == {"fallback"}


def test_the_status_corner_names_the_version_and_the_flags_a_technician_acts_on() -> None:
    assert strings.status_line(12, offline=False, expired=False) == "v12"
    line = strings.status_line(12, offline=True, expired=True)
    assert line.startswith("v12") and "offline" in line and "expired" in line
    assert "no content" in strings.status_line(None, offline=False, expired=False)
    skipped = strings.status_line(12, offline=False, expired=False, videos_skipped=2)
    assert skipped == "v12  ·  2 video bị bỏ qua · 2 video(s) skipped"
