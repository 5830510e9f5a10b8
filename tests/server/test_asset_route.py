"""GET /api/v1/assets/{sha256}: whole, in ranges, resumable, cached forever."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from content_server.app import create_app
from content_server.settings import Settings
from tests.server.content_server_kit import MP4, NOW, Server, add_device, import_folder

URL = "/api/v1/assets/{}"
SHA = hashlib.sha256(MP4).hexdigest()
SIZE = len(MP4)


def test_the_whole_file_with_a_strong_etag_and_immutable_caching(server: Server) -> None:
    r = server.client.get(URL.format(SHA), headers=server.auth())
    assert r.status_code == 200
    assert r.content == MP4
    assert r.headers["etag"] == f'"{SHA}"'
    assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert r.headers["content-type"] == "video/mp4"
    assert r.headers["accept-ranges"] == "bytes"


@pytest.mark.parametrize(
    ("header", "first", "last"),
    [
        ("bytes=0-99", 0, 99),
        ("bytes=100-", 100, SIZE - 1),
        ("bytes=-50", SIZE - 50, SIZE - 1),
        ("bytes=10-999999", 10, SIZE - 1),
        ("bytes=-999999", 0, SIZE - 1),
    ],
)
def test_a_range_gives_206_with_those_bytes(
    server: Server, header: str, first: int, last: int
) -> None:
    r = server.client.get(URL.format(SHA), headers={**server.auth(), "Range": header})
    assert r.status_code == 206
    assert r.content == MP4[first : last + 1]
    assert r.headers["content-range"] == f"bytes {first}-{last}/{SIZE}"
    assert int(r.headers["content-length"]) == last - first + 1
    assert r.headers["etag"] == f'"{SHA}"'


@pytest.mark.parametrize("header", [f"bytes={SIZE}-", f"bytes={SIZE + 10}-{SIZE + 20}", "bytes=-0"])
def test_a_range_past_the_end_is_416(server: Server, header: str) -> None:
    r = server.client.get(URL.format(SHA), headers={**server.auth(), "Range": header})
    assert r.status_code == 416
    assert r.headers["content-range"] == f"bytes */{SIZE}"
    assert r.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("header", ["bytes=5-2", "items=0-5", "bytes=0-1,5-9", "bytes=abc"])
def test_a_range_we_do_not_serve_gives_the_whole_file(server: Server, header: str) -> None:
    r = server.client.get(URL.format(SHA), headers={**server.auth(), "Range": header})
    assert r.status_code == 200
    assert r.content == MP4


def test_if_range_honours_the_range_only_for_our_etag(server: Server) -> None:
    auth = server.auth()
    same = server.client.get(
        URL.format(SHA), headers={**auth, "Range": "bytes=100-", "If-Range": f'"{SHA}"'}
    )
    assert same.status_code == 206
    assert same.content == MP4[100:]
    other = server.client.get(
        URL.format(SHA), headers={**auth, "Range": "bytes=100-", "If-Range": '"something-else"'}
    )
    assert other.status_code == 200
    assert other.content == MP4


def test_if_none_match_gives_304(server: Server) -> None:
    r = server.client.get(URL.format(SHA), headers={**server.auth(), "If-None-Match": f'"{SHA}"'})
    assert r.status_code == 304


def test_any_enrolled_device_may_fetch_it_but_nobody_else(server: Server) -> None:
    assert server.client.get(URL.format(SHA), headers=server.auth("hongvan-1")).status_code == 200
    anonymous = server.client.get(URL.format(SHA))
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("name", ["0" * 64, "not-a-hash", SHA.upper()])
def test_an_unknown_asset_is_404(server: Server, name: str) -> None:
    r = server.client.get(URL.format(name), headers=server.auth())
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"


@pytest.fixture
def behind_nginx(settings: Settings, content_dir: Path) -> Iterator[Server]:
    """The app as packaging/systemd/content-server.service runs it behind nginx."""
    import_folder(settings, content_dir)
    token = add_device(settings, "adot-hall-1", "adot-hall")
    accel = settings.model_copy(update={"accel_redirect_prefix": "/internal-assets/"})
    app = create_app(accel, clock=lambda: NOW)
    with TestClient(app) as client:
        yield Server(accel, app, client, {"adot-hall-1": token}, [NOW])


def test_behind_nginx_an_authorised_request_is_handed_to_nginx(behind_nginx: Server) -> None:
    r = behind_nginx.client.get(
        URL.format(SHA), headers={**behind_nginx.auth(), "Range": "bytes=0-9"}
    )
    assert r.status_code == 200  # nginx turns it into the 206 from the file
    assert r.content == b""
    assert r.headers["x-accel-redirect"] == f"/internal-assets/{SHA}"
    assert r.headers["content-type"] == "video/mp4"
    assert r.headers["cache-control"] == "public, max-age=31536000, immutable"


def test_behind_nginx_refusals_and_304_stay_with_the_server(behind_nginx: Server) -> None:
    c = behind_nginx.client
    for r, status in [
        (c.get(URL.format(SHA)), 401),
        (c.get(URL.format(SHA), headers={"Authorization": "Bearer wrong"}), 401),
        (c.get(URL.format("0" * 64), headers=behind_nginx.auth()), 404),
        (c.get(URL.format(SHA), headers={**behind_nginx.auth(), "If-None-Match": f'"{SHA}"'}), 304),
    ]:
        assert r.status_code == status
        assert "x-accel-redirect" not in r.headers


def test_the_prefix_must_be_a_folder_path(settings: Settings) -> None:
    with pytest.raises(ValidationError):
        Settings(data_dir=settings.data_dir, accel_redirect_prefix="internal-assets")
