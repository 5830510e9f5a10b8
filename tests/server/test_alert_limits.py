"""An alert is written in the site's languages only and stays well below the broker's
packet limit once signed: anything else is refused before it is signed or stored."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from content_server.alerts import MAX_ALERT_BYTES
from content_server.models import Site
from content_server.store import FleetStore
from signage_core.timefmt import format_time
from tests.server.api_kit import add_user
from tests.server.content_server_kit import Server

TEXTS = {
    "vi": {"title": "Cửa khẩu tạm đóng", "body": "Vui lòng chờ hướng dẫn."},
    "lo": {"title": "ດ່ານປິດຊົ່ວຄາວ", "body": "ກະລຸນາລໍຖ້າ."},
}


def _post(server: Server, auth: dict[str, str], site: str, texts: dict[str, Any]) -> Any:
    body = {"site_id": site, "severity": "emergency", "texts": texts,
            "expires_at": format_time(server.clock[0] + timedelta(hours=2))}  # fmt: skip
    return server.client.post("/api/v1/alerts", json=body, headers=auth)


def test_an_alert_in_languages_the_site_does_not_show_is_refused(server: Server) -> None:
    editor = add_user(server, "guard-hv", "editor", "hongvan")  # Hồng Vân shows vi, lo
    invented = {f"x{i:02d}": {"title": "t", "body": "b" * 1000} for i in range(40)}
    cases = [
        ({**TEXTS, **dict(list(invented.items())[:12])}, "shows vi, lo only"),
        (
            {**TEXTS, "en": {"title": "Closed", "body": ""}},
            "shows vi, lo only: remove the text(s) in en",
        ),
        ({**TEXTS, **invented}, "at most 16"),  # refused before any look-up
    ]
    for texts, words in cases:
        r = _post(server, editor, "hongvan", texts)
        assert r.status_code == 422, r.text
        assert r.headers["content-type"] == "application/problem+json"
        assert words in r.json()["detail"]
    assert FleetStore(server.state.store).alerts() == []

    r = _post(server, editor, "hongvan", TEXTS)
    assert r.status_code == 201, r.text


def test_an_alert_too_big_to_publish_is_refused_with_what_to_do(server: Server) -> None:
    store = server.state.store
    every = ["vi", "lo", "en", "tth", "pac", "ktv"]
    store.put_site(Site("hongvan", "hue", {"vi": "Hồng Vân"}, every, ["vi", "lo"]), "x")
    editor = add_user(server, "guard-hv", "editor", "hongvan")
    lao = "ດ່ານປິດ "  # 3 bytes a letter in UTF-8
    full = {"title": (lao * 40)[:200], "body": (lao * 300)[:1500]}
    r = _post(server, editor, "hongvan", dict.fromkeys(every, full))
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert f"{MAX_ALERT_BYTES // 1024} KiB" in detail and "shorten" in detail
    assert FleetStore(store).alerts() == []

    half = {"title": full["title"], "body": full["body"][:600]}
    r = _post(server, editor, "hongvan", dict.fromkeys(every, half))
    assert r.status_code == 201, r.text
    envelope = FleetStore(store).alerts()[0].envelope.encode()
    assert len(envelope) <= MAX_ALERT_BYTES
