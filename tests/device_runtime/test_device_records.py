"""The proof-of-play queue: durable, sent in batches, deleted only when acknowledged."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from fake_signage_server import NOW, FakeServer

from device_runtime.errors import DownloadError
from device_runtime.records import RecordQueue
from signage_core.timefmt import format_time


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
