"""`content-server import`: kiosk pages from YAML, and media that must really decode."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from content_server.cli import main
from content_server.settings import Settings
from content_server.store import Store
from tests.server.api_kit import add_user
from tests.server.content_server_kit import MP4, Server, newest_signed, png, stored

PAGES = """\
page:
  - id: adot-customs
    site: adot
    text:
      vi: {title: "Hải quan", body: "Hàng miễn thuế"}
      lo: {title: "ພາສີ", body: "ສິນຄ້າບໍ່ເສຍພາສີ"}
      en: {title: "Customs"}
    pages:
      - id: adot-duty-free
        file: images/map.png
        text:
          vi: {title: "Miễn thuế", body: "1,5 lít rượu"}
          lo: {title: "ບໍ່ເສຍພາສີ", body: "ເຫຼົ້າ 1,5 ລິດ"}
      - id: adot-declare
        position: 5
        link: https://www.customs.gov.vn/
        text:
          vi: {title: "Khai báo", body: "Tiền mặt trên 5.000 USD"}
          lo: {title: "ແຈ້ງພາສີ", body: "ເງິນສົດເກີນ 5.000 ໂດລາ"}
  - id: adot-health
    site: adot
    text:
      vi: {title: "Y tế"}
      lo: {title: "ສຸຂະພາບ"}
"""


def line_of(path: Path, fragment: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    found = [i + 1 for i, line in enumerate(lines) if fragment in line]
    assert len(found) == 1, f"{fragment!r} is not on exactly one line"
    return found[0]


@pytest.fixture
def pages_dir(content_dir: Path) -> Path:
    (content_dir / "adot/pages.yaml").write_text(PAGES, encoding="utf-8")
    return content_dir


def test_pages_reach_the_manifest_in_the_shape_the_api_gives_them(
    cli: Callable[..., Any],
    settings: Settings,
    pages_dir: Path,
    enrol_device: Callable[..., str],
) -> None:
    first = cli("import", pages_dir, "--data-dir", settings.data_dir)
    assert first.returncode == 0, first.stderr
    assert "kiosk pages: 4 new, 0 changed, 0 unchanged" in first.stdout
    enrol_device(settings, "adot-hall-1", "adot-hall")
    enrol_device(settings, "hongvan-1", "hongvan")

    signed = newest_signed(settings, "adot-hall-1")  # a kiosk below adot sees adot's pages
    pages = {p["id"]: p for p in signed["pages"]}
    sha = pages["adot-duty-free"]["variants"]["vi"]["image"]
    assert pages["adot-customs"] == {
        "id": "adot-customs", "site_id": "adot", "parent_id": None, "kind": "category",
        "position": 0,
        "variants": {"vi": {"title": "Hải quan", "body": "Hàng miễn thuế"},
                     "lo": {"title": "ພາສີ", "body": "ສິນຄ້າບໍ່ເສຍພາສີ"},
                     "en": {"title": "Customs", "body": ""}},
    }  # fmt: skip
    assert pages["adot-duty-free"]["parent_id"] == "adot-customs"
    assert pages["adot-duty-free"]["kind"] == "page"
    assert pages["adot-duty-free"]["variants"]["lo"]["image"] == sha
    assert pages["adot-declare"]["position"] == 5
    # The official link goes to every language's variant, for the kiosk's QR code.
    assert {v.get("link") for v in pages["adot-declare"]["variants"].values()} == {
        "https://www.customs.gov.vn/"
    }
    assert "link" not in pages["adot-duty-free"]["variants"]["vi"]
    assert pages["adot-health"]["position"] == 1
    assert signed["assets"][sha]["media_type"] == "image/png"
    assert (settings.assets_dir / sha).read_bytes() == png()
    assert newest_signed(settings, "hongvan-1")["pages"] == []

    again = cli("import", pages_dir, "--data-dir", settings.data_dir)
    assert "kiosk pages: 0 new, 0 changed, 4 unchanged" in again.stdout
    assert again.stdout.strip().endswith("every device's manifest is up to date")


def test_imported_pages_are_the_pages_of_the_api(
    server: Server, pages_dir: Path, settings: Settings
) -> None:
    assert main(["import", str(pages_dir), "--data-dir", str(settings.data_dir)]) == 0
    admin = add_user(server, "root", "admin", None)
    r = server.client.get("/api/v1/pages/adot-duty-free", headers=admin)
    assert r.status_code == 200
    assert r.json()["variants"]["vi"]["title"] == "Miễn thuế"
    # An editor changes a page made by the import; the API's rules hold for it.
    body = {k: r.json()[k] for k in ("id", "site_id", "parent_id", "kind", "position")}
    body["variants"] = {"vi": {"title": "Miễn thuế (mới)"}, "lo": {"title": "ບໍ່ເສຍພາສີ"}}
    assert server.client.put("/api/v1/pages/adot-duty-free", json=body, headers=admin).is_success


@pytest.mark.parametrize(
    ("link", "reason"),
    [
        ("http://evisa.gov.vn", "must start with https://"),
        ("javascript:alert(1)", "must start with https://"),
        ("https://", "no valid site name"),
        ("https://evisa.gov.vn/a b", "spaces"),
    ],
)
def test_the_api_refuses_a_page_link_that_is_not_https(
    server: Server, pages_dir: Path, settings: Settings, link: str, reason: str
) -> None:
    assert main(["import", str(pages_dir), "--data-dir", str(settings.data_dir)]) == 0
    admin = add_user(server, "root", "admin", None)
    page = server.client.get("/api/v1/pages/adot-duty-free", headers=admin).json()
    body = {k: page[k] for k in ("id", "site_id", "parent_id", "kind", "position")}
    body["variants"] = {"vi": {"title": "Miễn thuế", "link": link}, "lo": {"title": "ບໍ່ເສຍພາສີ"}}
    r = server.client.put("/api/v1/pages/adot-duty-free", json=body, headers=admin)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert reason in r.text and "link" in r.text
    unchanged = server.client.get("/api/v1/pages/adot-duty-free", headers=admin).json()
    assert "link" not in unchanged["variants"]["vi"]
    body["variants"]["vi"]["link"] = "https://evisa.gov.vn"
    r = server.client.put("/api/v1/pages/adot-duty-free", json=body, headers=admin)
    assert r.status_code == 200, r.text
    assert r.json()["variants"]["vi"]["link"] == "https://evisa.gov.vn"


# (text to replace, replacement, fragment on the offending line, words of the reason)
BAD_PAGES = {
    "unknown key": ("    pages:", "    pagez:", "pagez", "unknown key 'pagez'"),
    "unknown key in a page": (
        "        position: 5", "        postion: 5", "postion", "unknown key 'postion'",
    ),
    "unknown language": (
        '      en: {title: "Customs"}', '      xx: {title: "Customs"}', "xx: {title",
        "unknown language 'xx'",
    ),
    "a title is missing": (
        '      en: {title: "Customs"}', '      en: {body: "Customs"}', "en: {body",
        "the 'en' text needs 'title'",
    ),
    # A text is pointed at on its "text:" line, the one above its first language.
    "required language missing": (
        '      lo: {title: "ສຸຂະພາບ"}\n', "", 'vi: {title: "Y tế"}', "lacks lo, required for site",
        -1,
    ),
    "image not found": ("file: images/map.png", "file: images/gone.png", "gone.png", "not found"),
    "video as a page image": (
        "file: images/map.png", "file: hall/media/queue.mp4", "queue.mp4",
        "is video/mp4, but the item kind is image",
    ),
    "unknown site": ('    site: adot\n    text:\n      vi: {title: "Y',
                     '    site: adott\n    text:\n      vi: {title: "Y',
                     "site: adott", "site 'adott' does not exist"),
    "link that is not https": (
        "link: https://www.customs.gov.vn/", "link: http://www.customs.gov.vn/",
        "link: http://", "must start with https://",
    ),
    "link that is not an address": (
        "link: https://www.customs.gov.vn/", "link: [customs]", "link: [customs]",
        "link must be an https:// address",
    ),
    "id used twice": ("  - id: adot-health", "  - id: adot-declare  # again", "# again",
                      "page 'adot-declare' is defined twice"),
}  # fmt: skip


@pytest.mark.parametrize("case", BAD_PAGES.values(), ids=list(BAD_PAGES))
def test_a_bad_page_is_named_by_line_and_nothing_is_stored(
    case: tuple[Any, ...],
    cli: Callable[..., Any],
    settings: Settings,
    pages_dir: Path,
) -> None:
    old, new, fragment, reason, *offset = case
    path = pages_dir / "adot/pages.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")
    result = cli("import", pages_dir, "--data-dir", settings.data_dir)
    assert result.returncode == 1
    expected = f"{path}:{line_of(path, fragment) + sum(offset)}: "
    assert any(
        line.startswith(expected) and reason in line for line in result.stderr.splitlines()
    ), result.stderr
    assert stored(settings, Store.pages) == [] and stored(settings, Store.playlists) == []


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("adot/hall/media/queue.mp4", MP4[: len(MP4) // 2], "does not play (truncated"),
        ("adot/images/map.png", png()[:30], "looks like image/png but does not decode"),
        ("hongvan/photo.jpg", b"\xff\xd8\xff\xe0" + bytes(300), "image/jpeg but does not decode"),
    ],
    ids=["truncated video", "truncated PNG", "JPEG header only"],
)
def test_media_that_does_not_decode_is_refused_with_its_line(
    cli: Callable[..., Any], settings: Settings, pages_dir: Path, name: str, data: bytes,
    reason: str,
) -> None:  # fmt: skip
    (pages_dir / name).write_bytes(data)
    result = cli("import", pages_dir, "--data-dir", settings.data_dir)
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if ".yaml:" in line]
    assert errors and all(reason in line for line in errors), result.stderr
    assert all(f"{name.rsplit('/', 1)[-1]}' looks like" in e for e in errors)
    assert [p for p in settings.assets_dir.iterdir() if p.is_file()] == []


def test_the_real_kiosk_pages_import(cli: Callable[..., Any], settings: Settings) -> None:
    folder = Path(__file__).resolve().parents[2] / "playlists"
    result = cli("import", folder, "--data-dir", settings.data_dir)
    assert result.returncode == 0, result.stderr
    pages = stored(settings, Store.pages)
    for site in ("adot", "hongvan"):
        mine = [p for p in pages if p.site_id == site]
        categories = [p for p in mine if p.kind == "category"]
        assert len(categories) >= 5
        for c in categories:
            children = [p for p in mine if p.parent_id == c.id]
            assert 1 <= len(children) <= 3, c.id
        for p in mine:
            assert {"vi", "lo", "en"} <= set(p.variants), p.id
