"""Publishing: what each device's manifest holds, and when a new one is signed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from content_server.errors import ContentServerError
from content_server.keys import load_signing_key
from content_server.models import Device, Playlist, Site
from content_server.publishing import manifest_content, publish
from content_server.settings import Settings
from content_server.store import Store
from signage_core.manifest import parse_manifest
from tests.server.content_server_kit import NOW


def device(site: str) -> Device:
    return Device("d-1", site, "h", "m", "2026-11-26T05:00:00Z", False)


def playlist(pid: str, site: str, priority: int = 0, items: list | None = None) -> Playlist:  # type: ignore[type-arg]
    text = {
        "id": "t",
        "kind": "text",
        "duration_s": 5,
        "variants": {"vi": {"title": "x", "body": ""}},
    }
    return Playlist(pid, site, {"vi": pid}, priority, False, None, items or [text], "")


SITES = {
    "hue": Site("hue", None, {"vi": "Huế"}, None, None),
    "adot": Site("adot", "hue", {"vi": "A Đớt"}, ["vi", "lo", "en"], None),
    "adot-hall": Site("adot-hall", "adot", {"vi": "Sảnh"}, None, None),
}


def test_a_device_gets_its_sites_playlists_and_its_ancestors_not_its_siblings() -> None:
    playlists = [
        playlist("root", "hue"),
        playlist("gate", "adot", priority=5),
        playlist("hall", "adot-hall", priority=5),
        playlist("elsewhere", "hongvan"),
    ]
    content = manifest_content(device("adot-hall"), SITES, playlists, {})
    assert [p["id"] for p in content["playlists"]] == ["gate", "hall", "root"]
    assert content["languages"] == ["vi", "lo", "en"]  # the nearest site that names them
    assert manifest_content(device("hue"), SITES, playlists, {})["languages"] == ["vi", "lo"]
    parse_manifest({**content, "version": 1, "issued_at": "2026-11-26T05:00:00Z",
                    "expires_at": "2026-12-26T05:00:00Z"})  # fmt: skip


def test_an_asset_that_is_not_stored_stops_the_publish() -> None:
    image = {"id": "i", "kind": "image", "duration_s": 5, "variants": {"vi": {"asset": "a" * 64}}}
    with pytest.raises(ContentServerError, match="not stored"):
        manifest_content(device("hue"), SITES, [playlist("p", "hue", items=[image])], {})


@pytest.mark.usefixtures("imported")
def test_only_changed_skips_devices_whose_content_is_the_same(
    settings: Settings, enrol_device: Callable[..., str]
) -> None:
    enrol_device(settings, "adot-hall-1", "adot-hall")
    key = load_signing_key(settings.signing_key_path)
    store = Store.open(settings.db_path)
    try:
        kwargs = {"user": "t", "address": "", "reason": "t"}
        later = NOW + timedelta(days=1)
        same = publish(store, [key], later, timedelta(days=30), only_changed=True, **kwargs)
        assert same.version is None and same.unchanged == ["adot-hall-1"]
        forced = publish(store, [key], later, timedelta(days=30), **kwargs)
        assert forced.version == 2
        assert store.latest_manifest_versions()["adot-hall-1"][0] == 2
    finally:
        store.close()
