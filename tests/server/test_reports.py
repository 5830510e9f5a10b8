"""Reports: proof of play per day, uptime per device, the yearly report per gate, CSV
for Excel; scoped to the sites the user manages. Dates are relative to the server's
(injected) clock."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import date, datetime, timedelta
from typing import Any

from content_server.store import FleetStore
from content_server.uptime import ZONE
from signage_core.timefmt import format_time
from tests.server.api_kit import add_user, sign_in
from tests.server.content_server_kit import ADMIN_PASSWORD, Server

URL = "/api/v1/devices/{}/events"


def record(kind: str, at: datetime, **extra: Any) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "kind": kind, "ts": format_time(at), **extra}


def play(at: datetime, item: str = "welcome") -> dict[str, Any]:
    return record(
        "play", at, playlist_id="adot-welcome", item_id=item, language="vi", duration_ms=12000
    )


def send(server: Server, device: str, events: list[dict[str, Any]]) -> None:
    r = server.client.post(URL.format(device), json={"events": events}, headers=server.auth(device))
    assert r.status_code == 200, r.text


def today(server: Server) -> date:
    return server.clock[0].astimezone(ZONE).date()


def test_plays_per_day_and_item_with_a_csv_excel_reads(server: Server) -> None:
    now = server.clock[0]
    day = today(server)
    yesterday_noon = datetime.combine(
        day - timedelta(days=1), datetime.min.time(), ZONE
    ) + timedelta(hours=12)
    send(server, "adot-hall-1", [play(yesterday_noon), play(yesterday_noon), play(now, "gate-map")])
    send(server, "hongvan-1", [play(now)])
    admin = sign_in(server, "admin", ADMIN_PASSWORD)
    q = {"since": str(day - timedelta(days=1)), "until": str(day)}
    rows = server.client.get("/api/v1/reports/plays/daily", params=q, headers=admin).json()
    got = {(r["day"], r["site_id"], r["device_id"], r["item_id"], r["plays"]) for r in rows}
    assert got == {
        (str(day - timedelta(days=1)), "adot-hall", "adot-hall-1", "welcome", 2),
        (str(day), "adot-hall", "adot-hall-1", "gate-map", 1),
        (str(day), "hongvan", "hongvan-1", "welcome", 1),
    }
    editor = add_user(server, "guard-adot", "editor", "adot")
    mine = server.client.get("/api/v1/reports/plays/daily", params=q, headers=editor).json()
    assert {r["device_id"] for r in mine} == {"adot-hall-1"}
    r = server.client.get("/api/v1/reports/plays/daily.csv", params=q, headers=editor)
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    assert r.content.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert table[0] == ["day", "site_id", "device_id", "playlist_id", "item_id", "plays", "seconds"]
    assert [str(day - timedelta(days=1)), "adot-hall", "adot-hall-1", "adot-welcome", "welcome",
            "2", "24"] in table  # fmt: skip
    other = server.client.get(
        "/api/v1/reports/plays/daily", params={**q, "site_id": "hongvan"}, headers=editor
    )
    assert other.status_code == 404


def test_uptime_is_the_share_of_the_period_since_enrolment(server: Server) -> None:
    day = today(server)
    start = server.clock[0]
    server.clock[0] = start + timedelta(hours=2)
    heard = min(3600.0, (server.clock[0] - start).total_seconds())
    FleetStore(server.state.store).write_health([], [], [("adot-hall-1", str(day), heard)])
    admin = sign_in(server, "admin", ADMIN_PASSWORD)
    q = {"since": str(day - timedelta(days=6)), "until": str(day)}
    rows = {
        u["device_id"]: u
        for u in server.client.get("/api/v1/reports/uptime", params=q, headers=admin).json()
    }
    hall = rows["adot-hall-1"]
    end = min(server.clock[0], datetime.combine(day + timedelta(days=1), datetime.min.time(), ZONE))
    assert hall["online_s"] == round(heard) and hall["days"] == {str(day): round(heard)}
    assert abs(hall["period_s"] - (end - start).total_seconds()) <= 1
    assert rows["hongvan-1"]["online_s"] == 0 and rows["hongvan-1"]["percent"] == 0
    r = server.client.get("/api/v1/reports/uptime.csv", params=q, headers=admin)
    table = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert table[0] == ["day", "site_id", "device_id", "online_minutes"]
    assert [str(day), "adot-hall", "adot-hall-1", str(round(heard / 60))] in table
    assert len(table) == 1 + 7 * 2  # every day of every device, heard or not


def test_the_yearly_report_counts_plays_uptime_and_feedback_per_gate(server: Server) -> None:
    now = server.clock[0]
    send(
        server,
        "adot-hall-1",
        [play(now), play(now), record("feedback", now, rating=5, language="vi")],
    )
    send(
        server,
        "hongvan-1",
        [
            record("feedback", now, rating=2, language="lo"),
            record("feedback", now, rating=4, language="vi"),
        ],
    )
    year = now.astimezone(ZONE).year
    admin = sign_in(server, "admin", ADMIN_PASSWORD)
    rows = server.client.get("/api/v1/reports/yearly", params={"year": year}, headers=admin).json()
    by_gate = {r["site_id"]: r for r in rows}
    assert set(by_gate) == {"adot", "hongvan"}  # the city itself has no line
    assert (by_gate["adot"]["plays"], by_gate["adot"]["feedback"]) == (2, 1)
    assert (by_gate["hongvan"]["plays"], by_gate["hongvan"]["feedback"]) == (0, 2)
    assert by_gate["adot"]["name"]["vi"] == "Cửa khẩu A Đớt"
    last_year = server.client.get(
        "/api/v1/reports/yearly", params={"year": year - 1}, headers=admin
    ).json()
    assert all(r["plays"] == 0 and r["feedback"] == 0 for r in last_year)
    editor = add_user(server, "guard-hongvan", "viewer", "hongvan")
    mine = server.client.get("/api/v1/reports/yearly", params={"year": year}, headers=editor)
    assert [r["site_id"] for r in mine.json()] == ["hongvan"]
    r = server.client.get("/api/v1/reports/yearly.csv", params={"year": year}, headers=admin)
    text = r.content.decode("utf-8-sig")
    assert (
        r.content.startswith(b"\xef\xbb\xbf") and "Cửa khẩu A Đớt" in text and "ດ່ານ ອາເດີດ" in text
    )


def test_a_report_over_a_year_or_backwards_is_refused_with_a_message(server: Server) -> None:
    admin = sign_in(server, "admin", ADMIN_PASSWORD)
    for path in ("/api/v1/reports/plays/daily", "/api/v1/reports/uptime"):
        r = server.client.get(
            path, params={"since": "2026-12-02", "until": "2026-12-01"}, headers=admin
        )
        assert r.status_code == 422 and "before it starts" in r.json()["detail"]
        r = server.client.get(
            path, params={"since": "2025-01-01", "until": "2026-12-01"}, headers=admin
        )
        assert r.status_code == 422 and "at most 366 days" in r.json()["detail"]
