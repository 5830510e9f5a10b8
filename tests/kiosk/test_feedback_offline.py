"""A traveller's feedback typed on the kiosk's on-screen keyboard, in Lao and in
Vietnamese with tones, while the server is down; the kiosk then loses power (killed)
and starts again: both reach the server once it is back, exactly once each, and
nothing typed appears in any log. Screenshots of the form, the keyboards and the
thank-you in Lao and Vietnamese; no text overflows its widget or lacks a glyph.

Real parts: the whole system as processes (``tests.support.stack``), the device
runtime with its record queue on disk, a Kivy window under Xvfb, taps with
``xdotool`` on that window, HTTP to the real server.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests

from tests.kiosk.feedback_kit import kiosk_window, lao_actions, latin_actions, text_problems
from tests.support.stack import Stack, admin_headers, artifacts_dir, read_db
from tests.support.xvfb import xvfb

DEVICE = "adot-hall-k1"
LAO = "ເຈົ້າໜ້າທີ່ດີຫຼາຍ"
VI = "Cảm ơn, thủ tục nhanh"
VI_KEYS = "Camr own, thu{3} tucj nhanh"  # Telex, and the hỏi key on the screen for "thủ"
PAGES = [["adot-kiosk-customs", "Hải quan / ພາສີ"], ["adot-kiosk-documents", "Giấy tờ"]]
ART = artifacts_dir()


@pytest.mark.live
def test_feedback_typed_offline_in_lao_and_vietnamese_arrives_once(
    tmp_path: Path, stack: Stack
) -> None:
    config = stack.root / "devices" / f"{DEVICE}.toml"
    config.write_text(config.read_text() + "\npoll_interval_s = 1\n", encoding="utf-8")
    stack.kill("server")  # the link to the city is down

    with xvfb(tmp_path / "x") as display:
        scenario = {"config": str(config), "languages": ["lo", "vi"], "pages": PAGES}
        with kiosk_window(display, tmp_path / "kiosk", **scenario) as window:

            def big_keys(s: dict[str, Any]) -> bool:  # at least 9 mm, for a finger
                return all(min(k["w"], k["h"]) >= s["key_min"] - 1 for k in s["keys"])

            state = window.wait(big_keys, "every key at least 9 mm wide and high")
            assert state["language"] == "lo" and state["layout"] == "lo"

            window.tap("rate:4")
            for action in lao_actions(LAO):
                window.tap(action)
            state = window.wait(lambda s: s["text"] == LAO, "the Lao comment")
            window.shot(ART / "kiosk-feedback-lo-form.png")
            assert text_problems(window.state()) == []
            window.tap("shift")
            window.shot(ART / "kiosk-feedback-lo-keyboard-shift.png")
            assert text_problems(window.state()) == []
            window.tap("shift")
            window.tap("send")
            window.wait(lambda s: s["state"] == "thanks", "the thank-you")
            window.shot(ART / "kiosk-feedback-lo-thanks.png")
            assert text_problems(window.state()) == []

            state = window.wait(lambda s: s["form"] == 2 and s["state"] == "form", "the next form")
            assert state["language"] == "vi" and state["layout"] == "vi"
            window.tap("rate:5")
            window.tap("page:adot-kiosk-customs")
            for action in latin_actions(VI_KEYS):
                window.tap(action)
            window.wait(lambda s: s["text"] == VI, "the Vietnamese comment")
            window.shot(ART / "kiosk-feedback-vi-form.png")
            assert text_problems(window.state()) == []
            window.tap("send")
            window.wait(lambda s: s["state"] == "thanks", "the thank-you")
            window.shot(ART / "kiosk-feedback-vi-thanks.png")
            assert text_problems(window.state()) == []
            # both are in the queue on disk, the server being down
            window.wait(lambda s: s["state"] == "done" and s["pending"] == 2, "two queued")
            window.proc.kill()  # a power cut at the post
            window.proc.wait(10)
        first_log = window.log_path.read_text(encoding="utf-8", errors="replace")

        scenario = {"config": str(config), "languages": ["en"], "pages": PAGES}
        with kiosk_window(display, tmp_path / "kiosk-again", **scenario) as window:
            window.wait(lambda s: s["pending"] == 2, "the queue kept across the restart")
            stack.start_server()
            headers = admin_headers(stack)

            def at_server() -> list[dict[str, Any]]:
                r = requests.get(
                    f"{stack.server_url}/api/v1/feedback",
                    params={"site_id": "adot-hall"},
                    headers=headers,
                    timeout=10,
                )
                assert r.status_code == 200, r.text
                items: list[dict[str, Any]] = r.json()["items"]
                return items

            window.wait(lambda s: s["pending"] == 0, "the queue to be acknowledged", 90)
            items = at_server()
            assert len(items) == 2
            by_language = {item["language"]: item for item in items}
            assert by_language["lo"]["comment"] == LAO and by_language["lo"]["rating"] == 4
            assert by_language["lo"].get("page_id") is None
            assert by_language["vi"]["comment"] == VI and by_language["vi"]["rating"] == 5
            assert by_language["vi"]["page_id"] == "adot-kiosk-customs"
            assert all(item["device_id"] == DEVICE for item in items)
            # one row each in the server's database, and the kiosk's queue is empty
            assert read_db(stack, "SELECT count(*) FROM events WHERE kind = 'feedback'") == [(2,)]
            assert window.state()["pending"] == 0
        kiosk_log = first_log + window.log_path.read_text(encoding="utf-8", errors="replace")

    assert "feedback" in kiosk_log and "queued (rating 4)" in kiosk_log  # logging is on
    logs = kiosk_log + stack.log("server")
    for fragment in ("ເຈົ້າໜ້າ", "ຫຼາຍ", "thủ tục", "nhanh", "Cảm ơn", "Camr"):
        assert fragment not in logs, f"{fragment!r} was logged"


@pytest.fixture
def stack(tmp_path: Path) -> Stack:  # type: ignore[misc]
    s = Stack.running(tmp_path / "stack", {DEVICE: "adot-hall"})
    yield s
    s.stop()
