"""The feedback form in a real window under Xvfb, tapped with xdotool, over a runtime
that keeps records in a list: no rating, no record; cancel records nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk_app.feedback_model import WORDS
from tests.kiosk.feedback_kit import kiosk_window, latin_actions, text_problems
from tests.support.xvfb import xvfb


@pytest.mark.live
def test_send_without_rating_asks_for_one_and_cancel_records_nothing(tmp_path: Path) -> None:
    with xvfb(tmp_path / "x", 1280, 800) as display:  # a 4:3 kiosk
        scenario = {"languages": ["en", "vi"]}
        with kiosk_window(display, tmp_path / "kiosk", **scenario) as window:
            for action in latin_actions("Slow"):
                window.tap(action)
            window.tap("send")
            state = window.wait(
                lambda s: any(t["text"] == WORDS["en"]["need_rating"] for t in s["texts"]),
                "the form to ask for a rating",
            )
            assert state["state"] == "form" and state["recorded"] == []
            assert state["text"] == "Slow"  # what was typed is kept
            assert text_problems(state) == []

            window.tap("cancel")
            state = window.wait(lambda s: s["form"] == 2, "the next form after cancel")
            assert state["recorded"] == [] and state["text"] == ""  # nothing kept
            assert state["language"] == "vi"

            window.tap("rate:3")
            window.tap("send")
            state = window.wait(lambda s: s["state"] == "thanks", "the thank-you")
            assert state["recorded"] == [
                {"kind": "feedback", "ts": state["recorded"][0]["ts"], "rating": 3,
                 "language": "vi"}
            ]  # fmt: skip
        log = window.log_path.read_text(encoding="utf-8", errors="replace")
    assert "queued (rating 3)" in log  # logging is on, down to DEBUG
    assert "Slow" not in log  # what was typed is not
