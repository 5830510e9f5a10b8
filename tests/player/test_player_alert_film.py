"""An emergency alert over a playing screen, filmed (issue 9, "seamless"): it covers
everything within 2 s of reaching the player, and when it ends the card comes back in
the next picture, with no blank, black or half-drawn picture on the way in or out.

The player runs with a fake runtime that hands a trusted alert over from another
thread, as the runtime's MQTT link does; ``ffmpeg -f x11grab`` films the screen.
Every filmed picture must be, pixel for pixel, the card, the alert or (a picture caught
mid-update) a mix of the two: anything else is a flash. A few pictures around both
changes land in ``tests/artifacts/film-alert-*.png``.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.player.film import Film, blank
from tests.player.player_fakes import LAO_PARAGRAPH, VI_BODY, playlist, signed_dict, text_item
from tests.player.test_player_display import run_player
from tests.player.test_player_video import save_film_frames
from tests.support.xvfb import Display, xvfb

pytestmark = [pytest.mark.display, pytest.mark.live]

FPS = 20
AFTER_S, SHOWN_S = 3.0, 4.0
# A pixel belongs to a reference picture when within this many grey levels of it
# (x11grab's scaling blurs text edges a little).
NEAR = 12
CLEAN_SHARE = 0.995  # of a picture's pixels, near the card or near the alert
ALERT_TEXTS = {
    "vi": {
        "title": "Tạm dừng làm thủ tục xuất nhập cảnh",
        "body": "Quý khách vui lòng ở lại khu vực chờ và làm theo hướng dẫn của Bộ đội Biên phòng.",
    },
    "lo": {
        "title": "ໂຈະການເຮັດພິທີການຜ່ານແດນຊົ່ວຄາວ",
        "body": "ກະລຸນາລໍຖ້າຢູ່ບໍລິເວນລໍຖ້າ ແລະ ປະຕິບັດຕາມຄຳແນະນຳຂອງເຈົ້າໜ້າທີ່ປ້ອງກັນຊາຍແດນ",
    },
}


@pytest.fixture(scope="module")
def display(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Display]:
    with xvfb(tmp_path_factory.mktemp("xvfb")) as d:
        yield d


def near(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.abs(a.astype(np.int16) - b.astype(np.int16)) <= NEAR


def test_an_alert_covers_the_screen_within_2_s_and_leaves_without_a_flash(
    display: Display, tmp_path: Path
) -> None:
    card = text_item(
        "welcome",
        {
            "vi": {"title": "Cửa khẩu A Đớt – Tà Vàng", "body": VI_BODY},
            "lo": {"title": "ດ່ານອາເດີດ", "body": LAO_PARAGRAPH},
        },
        duration_s=60,  # one card the whole run: the film's only change is the alert
    )
    signed = signed_dict([playlist("adot", [card], fallback=True)], languages=("vi",))
    exit_after = AFTER_S + SHOWN_S + 4
    with Film(display.name, tmp_path / "film.gray", fps=FPS) as film:
        film_started = time.monotonic()
        report = run_player(
            display,
            tmp_path,
            {
                "manifest": signed,
                "alert": {"after": AFTER_S, "seconds": SHOWN_S, "texts": ALERT_TEXTS},
                "exit_after": exit_after,
                "run_to_exit": True,
            },
        )
        film_ended = time.monotonic()
    assert report["problems"] == []
    delivered = report["alert"]["delivered"]
    frames = film.frames()
    # x11grab keeps its rate on a busy machine by repeating or skipping pictures; the
    # time of picture i is taken from the film's own span.
    per_frame = (film_ended - film_started) / len(frames)

    def at(i: int) -> float:
        return film_started + i * per_frame

    first_card = next(i for i, f in enumerate(frames) if not blank(f))
    before = [i for i in range(first_card, len(frames)) if at(i) < delivered - 0.3]
    assert len(before) >= FPS // 2, "the card was not filmed for long before the alert"
    card_ref = frames[before[-1]]
    # The alert's own picture: the middle of its time on screen.
    alert_ref = frames[
        min(len(frames) - 1, int((delivered + SHOWN_S / 2 - film_started) / per_frame))
    ]
    covered = near(alert_ref, card_ref).mean()
    assert covered < 0.2, f"the alert's picture is {covered:.0%} the card's: not covering it"

    # Up to the moment the app began to close (then its window goes).
    end = next(
        i for i in range(len(frames) + 1) if i == len(frames) or at(i) >= report["stopped_at"]
    )
    kinds = []
    for i in range(first_card, end):
        is_card, is_alert = near(frames[i], card_ref), near(frames[i], alert_ref)
        if is_alert.mean() >= CLEAN_SHARE:
            kinds.append("alert")
        elif is_card.mean() >= CLEAN_SHARE:
            kinds.append("card")
        elif (is_card | is_alert).mean() >= CLEAN_SHARE:
            kinds.append("mix")  # caught mid-update: rows of one and rows of the other
        else:
            kinds.append("flash")
    flashes = [first_card + k for k, kind in enumerate(kinds) if kind == "flash"]
    alert_frames = [first_card + k for k, kind in enumerate(kinds) if kind == "alert"]
    assert alert_frames, "the alert was never filmed covering the screen"
    shown_at, gone_at = alert_frames[0], alert_frames[-1] + 1
    save_film_frames(
        frames,
        [shown_at - 2, shown_at, shown_at + 1, gone_at - 1, gone_at, gone_at + 1, *flashes[:3]],
        "film-alert",
    )
    assert not flashes, (
        f"{len(flashes)} filmed pictures are neither the card nor the alert, at "
        f"{[round(at(i) - delivered, 2) for i in flashes[:10]]} s from the alert's arrival"
    )
    took = at(shown_at) - delivered
    assert took <= 2.0, f"the alert covered the screen {took:.2f} s after it arrived"
    # It stays for its time (give or take the film's grain and the 0.5 s re-check), then
    # the card is back and stays: one change in, one change out.
    on_screen = at(gone_at) - at(shown_at)
    assert SHOWN_S - 1.0 <= on_screen <= SHOWN_S + 1.5, f"shown {on_screen:.1f} s"
    after = kinds[gone_at - first_card :]
    assert after and set(after) <= {"card", "mix"}, "the alert came back after it ended"
    assert after.count("card") >= FPS, "the card was not filmed for a second after the alert"
    changes = sum(1 for a, b in itertools.pairwise(kinds) if a != b and "mix" not in (a, b))
    mixes = kinds.count("mix")
    assert changes + mixes <= 4, f"the picture changed {changes} times (and {mixes} mixed)"
