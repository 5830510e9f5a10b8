"""The feedback button in the whole kiosk app: on every screen, in the language on
screen; it opens the form in that language with the page being read chosen, and
the feedback sent there reaches the server with that page. Real system, real window,
real taps."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.kiosk.feedback_kit import kiosk_window, lao_actions, text_problems
from tests.support.stack import Stack, admin_headers, artifacts_dir
from tests.support.xvfb import xvfb

DEVICE = "adot-hall-k2"
IDLE_DEVICE = "adot-hall-k3"  # the idle test's kiosk, beside it in the same hall
ART = artifacts_dir()
BUTTON = {"vi": "Góp ý", "lo": "ສະແດງຄຳເຫັນ", "en": "Feedback"}


def feedback_button(state: dict[str, Any]) -> dict[str, Any] | None:
    return next((b for b in state["buttons"] if b["action"] == "feedback"), None)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """One system for both tests, each with a kiosk of its own (so records of its own)."""
    s = Stack.running(
        tmp_path_factory.mktemp("stack"), {DEVICE: "adot-hall", IDLE_DEVICE: "adot-hall"}
    )
    try:
        for device in (DEVICE, IDLE_DEVICE):
            config = s.root / "devices" / f"{device}.toml"
            config.write_text(config.read_text() + "\npoll_interval_s = 1\n", encoding="utf-8")
        yield s
    finally:
        s.stop()


def feedback_from(stack: Stack, device: str) -> list[dict[str, Any]]:
    """The feedback the server holds from ``device``'s kiosk."""
    r = requests.get(
        f"{stack.server_url}/api/v1/feedback",
        params={"site_id": "adot-hall"},
        headers=admin_headers(stack),
        timeout=10,
    )
    assert r.status_code == 200, r.text
    return [item for item in r.json()["items"] if item["device_id"] == device]


@pytest.mark.live
def test_feedback_from_a_page_in_lao_reaches_the_server_with_that_page(
    tmp_path: Path, stack: Stack
) -> None:
    config = stack.root / "devices" / f"{DEVICE}.toml"
    with xvfb(tmp_path / "x") as display:
        with kiosk_window(display, tmp_path / "kiosk", config=str(config), app=True) as window:
            state = window.wait(
                lambda s: any(b["action"].startswith("open:") for b in s["buttons"]),
                "the home screen with the site's categories",
                timeout=60,
            )
            assert feedback_button(state)["label"] == BUTTON[state["kiosk_language"]]
            window.tap("lang:lo")
            state = window.wait(lambda s: s["kiosk_language"] == "lo", "Lao on screen")
            assert feedback_button(state)["label"] == BUTTON["lo"]

            home = {b["action"] for b in state["buttons"] if b["action"].startswith("open:")}
            window.tap(sorted(home)[0])

            def pages(s: dict[str, Any]) -> list[dict[str, Any]]:
                return [b for b in s["buttons"] if b["action"].startswith("open:")]

            state = window.wait(
                lambda s: (
                    s["screen"] == "CategoryView"
                    and bool(pages(s))
                    and not {b["action"] for b in pages(s)} & home
                ),
                "the category's pages",
            )
            assert feedback_button(state)["label"] == BUTTON["lo"]
            page = pages(state)[0]
            page_id = page["action"].removeprefix("open:")
            window.tap(page["action"])
            state = window.wait(lambda s: s["screen"] == "PageView", "the page")
            assert feedback_button(state)["label"] == BUTTON["lo"]
            window.shot(ART / "kiosk-feedback-lo-button-on-page.png")

            window.tap("feedback")
            state = window.wait(lambda s: s["form"] == 1 and s["state"] == "form", "the form")
            assert state["language"] == "lo" and state["layout"] == "lo"
            chosen = [b["action"] for b in state["buttons"] if b["selected"]]
            assert chosen == [f"page:{page_id}"]
            window.tap("rate:2")
            for action in lao_actions("ຊ້າ"):
                window.tap(action)
            window.wait(lambda s: s["text"] == "ຊ້າ", "the comment")
            window.shot(ART / "kiosk-feedback-lo-in-kiosk.png")
            assert text_problems(window.state()) == []
            window.tap("send")
            window.wait(lambda s: s["state"] == "thanks", "the thank-you")
            state = window.wait(
                lambda s: s["state"] == "done" and s["screen"] == "HomeView", "home again", 20
            )
            assert state["kiosk_language"] == "lo"

            window.tap("contrast")  # high contrast, then the form in Vietnamese
            window.tap("lang:vi")
            window.wait(lambda s: s["kiosk_language"] == "vi", "Vietnamese on screen")
            window.tap("feedback")
            state = window.wait(lambda s: s["form"] == 2 and s["state"] == "form", "the form")
            assert state["language"] == "vi"
            window.shot(ART / "kiosk-feedback-vi-high-contrast.png")
            assert text_problems(window.state()) == []
            window.tap("cancel")
            window.wait(lambda s: s["state"] == "done", "home after cancel")

            window.wait(lambda s: s["pending"] == 0, "the record acknowledged", 60)
        items = feedback_from(stack, DEVICE)
        assert [(i["rating"], i["language"], i["page_id"], i["comment"]) for i in items] == [
            (2, "lo", page_id, "ຊ້າ")
        ]


@pytest.mark.live
def test_a_form_left_alone_is_thrown_away_when_the_kiosk_falls_idle(
    tmp_path: Path, stack: Stack
) -> None:
    config = stack.root / "devices" / f"{IDLE_DEVICE}.toml"
    with xvfb(tmp_path / "x") as display:
        scenario = {"config": str(config), "app": True, "idle_s": 6}
        with kiosk_window(display, tmp_path / "kiosk", **scenario) as window:
            window.wait(lambda s: feedback_button(s) is not None, "the feedback button", 60)
            window.tap("feedback")
            window.wait(lambda s: s["form"] == 1 and s["state"] == "form", "the form")
            window.tap("rate:1")
            for action in ("char:x", "char:y", "char:z"):
                window.tap(action)
            window.wait(lambda s: s["text"] == "xyz", "the comment")
            state = window.wait(lambda s: s["attract"], "the attract loop", 30)
            assert state["state"] == "done"  # the form is gone with what was typed
            window.tap_at(640, 360)  # a touch ends the attract loop
            state = window.wait(lambda s: not s["attract"] and s["screen"] == "HomeView", "home")
            window.tap("feedback")
            state = window.wait(lambda s: s["form"] == 2 and s["state"] == "form", "a new form")
            assert state["text"] == ""
            assert not any(
                b["selected"] for b in state["buttons"] if b["action"].startswith("rate:")
            )
            # everything the kiosk queued (its plays in the attract loop) reached the server
            window.wait(lambda s: s["pending"] == 0, "the queue sent", 60)
        assert feedback_from(stack, IDLE_DEVICE) == []
