"""Layouts as data: checking a manifest's ``layout``, and what the header and the ticker
show at a given instant (pure: the time is an argument)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from signage_core.errors import ManifestError
from signage_core.layout import (
    Notice,
    bilingual_mode,
    header_text,
    layout_form,
    next_notice_change,
    next_second,
    parse_layout,
    ticker_copies,
    ticker_offset,
    ticker_segments,
    ticker_speed,
)

TITLE = {"vi": "Cửa khẩu A Đớt", "lo": "ດ່ານ ອາເດີດ", "en": "A Dot Border Gate"}
# 2026-12-02 is a Wednesday; 23:59:58 UTC is already Thursday 06:59:58 in Huế.
WED_LATE_UTC = datetime(2026, 12, 2, 23, 59, 58, 250_000, tzinfo=UTC)


def test_the_header_reads_the_local_time_and_the_weekday_in_each_language() -> None:
    header = header_text(TITLE, ("vi", "lo", "en"), WED_LATE_UTC, "Asia/Ho_Chi_Minh")
    assert header.title == (("vi", TITLE["vi"]), ("lo", TITLE["lo"]), ("en", TITLE["en"]))
    assert header.clock == "06:59:58"
    assert header.date == "Thứ Năm • ວັນພະຫັດ • Thursday • 03/12/2026"
    one_second_later = header_text(
        TITLE, ("vi", "lo", "en"), WED_LATE_UTC + timedelta(seconds=1), "Asia/Ho_Chi_Minh"
    )
    assert (one_second_later.clock, one_second_later.date) == ("06:59:59", header.date)
    assert next_second(WED_LATE_UTC) == pytest.approx(0.75)


def test_a_minority_language_falls_back_and_nothing_is_said_twice() -> None:
    header = header_text({"vi": "Đồn"}, ("tth", "vi", "lo"), WED_LATE_UTC, "Asia/Ho_Chi_Minh")
    assert header.title == (("vi", "Đồn"),)
    assert header.date == "Thứ Năm • ວັນພະຫັດ • 03/12/2026"


def test_the_ticker_drops_a_notice_at_its_until_and_says_when() -> None:
    now = WED_LATE_UTC
    notices = [
        Notice("a", {"vi": "Hộ chiếu", "lo": "ໜັງສືຜ່ານແດນ", "en": "Passport"}),
        Notice("b", {"vi": "Đường trơn"}, until=now + timedelta(hours=2)),
    ]
    segments = ticker_segments(notices, ("vi", "lo", "en"), now)
    assert [(s.notice_id, s.language) for s in segments] == [
        ("a", "vi"), ("a", "lo"), ("a", "en"), ("b", "vi"),
    ]  # fmt: skip
    assert next_notice_change(notices, now) == now + timedelta(hours=2)
    later = ticker_segments(notices, ("vi", "lo", "en"), now + timedelta(hours=2))
    assert [s.notice_id for s in later] == ["a", "a", "a"]


@given(
    elapsed=st.floats(0, 1e6),
    speed=st.floats(1, 1000),
    period=st.floats(10, 50_000),
    zone=st.floats(100, 8000),
)
def test_once_in_the_copies_of_the_strip_always_cover_the_whole_zone(
    elapsed: float, speed: float, period: float, zone: float
) -> None:
    offset = ticker_offset(elapsed, speed, period, zone)
    assert -period - 1e-6 <= offset <= zone + 1e-6
    if elapsed * speed > zone:  # the head has crossed: no empty stretch from now on
        assert offset <= 1e-6
        assert offset + ticker_copies(period, zone) * period >= zone


def test_the_strip_enters_from_the_right_and_moves_left_at_its_speed() -> None:
    assert ticker_offset(0, 100, 500, 1000) == 1000
    assert ticker_offset(2, 100, 500, 1000) == 800
    assert ticker_offset(12, 100, 500, 1000) == -200
    assert ticker_offset(15, 100, 500, 1000) == 0  # one period on: the next copy in place
    # The same reading pace on every screen: three text heights a second.
    assert ticker_speed(30) * 2 == ticker_speed(60)


def test_a_layout_reads_back_what_it_was_and_bad_ones_say_what_is_wrong() -> None:
    value = {
        "orientation": "portrait",
        "header": True,
        "ticker": True,
        "title": TITLE,
        "notices": [{"id": "n", "texts": {"vi": "Xin chào"}, "until": None}],
    }
    assert layout_form(parse_layout(value)) == value
    for bad, words in [
        ({**value, "orientation": "upside"}, "orientation"),
        ({**value, "header": "yes"}, "'header'"),
        ({**value, "notices": [{"id": "n", "texts": {"vi": "x\ty"}}]}, None),
        ({**value, "notices": [{"id": "n", "texts": {"vi": "a" * 161}}]}, "160"),
        ({**value, "notices": [{"id": "n", "texts": {"vi": "a\u202eb"}}]}, "control"),
        ({**value, "colour": "red"}, "unknown key"),
        ({**value, "notices": [{"id": "n", "texts": {"vi": "a"}}] * 2}, "same id"),
    ]:
        if words is None:  # a tab is whitespace: folded into one line, accepted
            assert parse_layout(bad).notices[0].texts["vi"] == "x y"
            continue
        with pytest.raises(ManifestError, match=words):
            parse_layout(bad)


def test_bilingual_is_sequential_unless_asked() -> None:
    assert bilingual_mode({"id": "p"}) == "sequential"
    assert bilingual_mode({"id": "p", "bilingual": "side_by_side"}) == "side_by_side"
    with pytest.raises(ManifestError, match="side_by_side"):
        bilingual_mode({"id": "p", "bilingual": "both"})
