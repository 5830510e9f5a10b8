"""The proof-of-play queue: durable, sent in batches, deleted only when acknowledged."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import uvicorn

from content_server.app import create_app
from content_server.datadir import initialise
from content_server.enrollment import Credentials, enrol
from content_server.keys import load_signing_key
from content_server.models import Site
from content_server.settings import Settings
from content_server.store import Store
from device_runtime.errors import DownloadError
from device_runtime.fetcher import HttpFetcher
from device_runtime.records import RecordQueue
from device_runtime.settings import settings_from_mapping
from signage_core.timefmt import format_time
from tests.device.fake_signage_server import NOW, FakeServer
from tests.support.waiting import free_port, wait_port


def play(q: RecordQueue, n: int) -> str:
    fields = {"playlist_id": "welcome", "item_id": f"i{n}", "language": "lo", "duration_ms": 8000}
    return q.add("play", NOW + timedelta(seconds=n), fields)


def test_records_are_sent_and_then_deleted(tmp_path: Path) -> None:
    q, server = RecordQueue(tmp_path / "records.sqlite"), FakeServer()
    ids = [play(q, n) for n in range(5)]

    assert q.flush(server, batch_size=2) == 5

    assert q.pending() == 0
    assert set(server.events) == set(ids)
    assert all(uuid.UUID(i).version == 4 for i in ids)
    event = server.events[ids[1]]
    assert event == {
        "id": ids[1],
        "kind": "play",
        "ts": format_time(NOW + timedelta(seconds=1)),
        "playlist_id": "welcome",
        "item_id": "i1",
        "language": "lo",
        "duration_ms": 8000,
    }
    assert [e for e in server.log if e[0] == "events"] == [("events", 2)] * 2 + [("events", 1)]


def test_records_survive_a_failed_post_and_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "records.sqlite"
    q, server = RecordQueue(path), FakeServer(offline=True)
    ids = [play(q, n) for n in range(3)]

    with pytest.raises(DownloadError):
        q.flush(server)
    q.close()  # the power goes

    q = RecordQueue(path)
    assert q.pending() == 3
    server.offline = False
    assert q.flush(server) == 3 and set(server.events) == set(ids)


def test_a_server_error_keeps_the_records(tmp_path: Path) -> None:
    q, server = RecordQueue(tmp_path / "records.sqlite"), FakeServer(events_status=503)
    play(q, 1)

    with pytest.raises(DownloadError):
        q.flush(server)
    assert q.pending() == 1


def test_a_record_the_server_refuses_is_set_aside_not_blocking(tmp_path: Path) -> None:
    q = RecordQueue(tmp_path / "records.sqlite")
    good = play(q, 1)
    bad = q.add("play", NOW, {"duration_ms": -1})

    class Picky(FakeServer):
        def post_events(self, batch):  # type: ignore[no-untyped-def]
            if any(e["id"] == bad for e in batch):
                raise DownloadError("duration_ms must not be negative", 422)
            return super().post_events(batch)

    server = Picky()
    assert q.flush(server) == 1
    assert set(server.events) == {good}
    assert q.pending() == 0 and q.rejected() == 1


def test_a_corrupt_queue_is_set_aside_and_a_new_one_started(tmp_path: Path) -> None:
    path = tmp_path / "records.sqlite"
    path.write_bytes(b"this is not a database" * 100)

    q = RecordQueue(path)

    play(q, 1)
    assert q.pending() == 1
    assert [p.name for p in tmp_path.glob("records.sqlite.corrupt-*")]


@pytest.mark.live
def test_a_real_server_over_its_allowance_answers_429_and_the_records_wait(
    tmp_path: Path,
) -> None:
    """The real content server (over HTTP) with a small allowance: past it, the queue keeps
    every record (none set aside) and sends them once the server's clock says so."""
    now = datetime.now(UTC)
    port = free_port()
    settings = Settings(
        data_dir=tmp_path / "server", port=port, events_per_hour=60, event_burst=500
    )
    initialise(settings, "admin", "correct horse battery", now)
    store = Store.open(settings.db_path)
    creds = Credentials.new()
    try:
        store.put_site(Site("hue", None, {"vi": "Huế"}, ["vi", "lo"], None), "x")
        enrol(store, "hue-1", "hue", creds, now, replace=False, user="t", address="")
    finally:
        store.close()
    clock = [now]
    app = create_app(settings, clock=lambda: clock[0])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_port(port)
        device = settings_from_mapping(
            {"device_id": "hue-1", "token": creds.token, "server_url": f"http://127.0.0.1:{port}",
             "trusted_keys": [load_signing_key(settings.signing_key_path).public.spec()],
             "mqtt_url": "mqtt://127.0.0.1:1", "mqtt_password": "x",
             "data_dir": str(tmp_path / "device")},
            "test",
        )  # fmt: skip
        fetcher = HttpFetcher(device)
        q = RecordQueue(tmp_path / "records.sqlite")
        ids = [play(q, n) for n in range(700)]

        with pytest.raises(DownloadError) as refused:
            q.flush(fetcher)  # 200 + 200 within the allowance of 500, then 200 more: 429
        assert refused.value.status == 429
        assert q.pending() == 300 and q.rejected() == 0
        state = app.state.server
        assert len(state.store.events("hue-1")) == 400

        clock[0] += timedelta(minutes=300)  # the server's clock: 300 records' worth later
        assert q.flush(fetcher) == 300
        assert q.pending() == 0 and q.rejected() == 0
        assert {e["id"] for e in state.store.events("hue-1")} == set(ids)
    finally:
        server.should_exit = True
        thread.join(10)
