"""A border guard's day, over real HTTP against a real ``content-server serve`` process.

An operator sets the server up with the commands (init, import, add-device);
the admin creates the guard's account; the guard of A Đớt signs in, uploads a
video and an image, writes a bilingual playlist with a daily schedule, sees the
missing-Lao warning and the refused publish, fixes it, publishes; the screen
fetches the new manifest with its own token and verifies it exactly as a device
does (``signage_core.trust.accept_manifest``); the guard rolls back, and the
screen accepts the rollback because it carries a higher version.
"""

from __future__ import annotations

import subprocess
import time
import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from signage_core.signing import PublicKey
from signage_core.trust import TrustContext, accept_manifest
from tests.server.api_kit import image_bytes, video_bytes
from tests.server.content_server_kit import write_content
from tests.support.stack import Stack, _cli

pytestmark = pytest.mark.e2e


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    s = Stack(root=tmp_path / "stack", playlists=write_content(tmp_path / "content"))
    s.init()
    s.add_device("adot-hall-1", "adot-hall")
    log = open(s.root / "server.log", "ab")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [_cli("content-server"), "serve", "--data-dir", str(s.data_dir),
         "--host", "127.0.0.1", "--port", str(s.server_port)],
        stdout=log, stderr=log,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if requests.get(f"{s.server_url}/healthz", timeout=1).ok:
                    break
            except requests.RequestException:
                time.sleep(0.1)
        else:
            raise RuntimeError(f"the server did not start:\n{s.log('server')}")
        yield s
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


def test_a_guards_whole_day_through_the_api(stack: Stack, tmp_path: Path) -> None:
    api = f"{stack.server_url}/api/v1"
    http = requests.Session()

    def sign_in(user: str, password: str) -> dict[str, str]:
        r = http.post(f"{api}/auth/token", data={"username": user, "password": password})
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['access_token']}"}

    admin = sign_in("admin", stack.admin_password)
    guard = {"username": "guard-adot", "password": "A Đớt gate 2026", "role": "editor",
             "site_id": "adot"}  # fmt: skip
    assert http.post(f"{api}/users", json=guard, headers=admin).status_code == 201
    me = sign_in("guard-adot", "A Đớt gate 2026")

    # Morning: two files for the hall screen.
    uploads = {}
    for name, data in (("queue.mp4", video_bytes(tmp_path)), ("map.png", image_bytes())):
        r = http.post(f"{api}/assets", params={"site_id": "adot"},
                      files={"file": (name, data)}, headers=me)  # fmt: skip
        assert r.status_code == 201, r.text
        uploads[name] = r.json()
    assert uploads["queue.mp4"]["duration_s"] == pytest.approx(2.0)

    def body(lao: bool) -> dict[str, Any]:
        greeting = {"vi": {"title": "Xin chào", "body": "Mời xuất trình hộ chiếu"}}
        if lao:
            greeting["lo"] = {"title": "ສະບາຍດີ", "body": "ກະລຸນາສະແດງໜັງສືຜ່ານແດນ"}
        return {
            "site_id": "adot", "name": {"vi": "Buổi sáng", "lo": "ຕອນເຊົ້າ"}, "priority": 30,
            "schedule": {"windows": [{"start": "06:00", "end": "11:00"}]},
            "items": [
                {"id": "greeting", "kind": "text", "duration_s": 10, "variants": greeting},
                {"id": "queue", "kind": "video", "duration_s": 20,
                 "variants": {"vi": {"asset": uploads["queue.mp4"]["sha256"]}}},
                {"id": "map", "kind": "image", "duration_s": 8,
                 "variants": {"vi": {"asset": uploads["map.png"]["sha256"], "caption": "Sơ đồ"},
                              "lo": {"asset": uploads["map.png"]["sha256"], "caption": "ແຜນຜັງ"}}},
            ],
        }  # fmt: skip

    r = http.post(f"{api}/playlists", json={"id": "adot-morning", **body(False)}, headers=me)
    assert r.status_code == 201, r.text
    assert any("item greeting lacks lo" in w for w in r.json()["warnings"])
    r = http.post(f"{api}/playlists/adot-morning/publish", headers=me)
    assert r.status_code == 422 and "item greeting lacks lo" in r.json()["detail"]

    assert http.put(f"{api}/playlists/adot-morning", json=body(True), headers=me).ok
    r = http.post(f"{api}/playlists/adot-morning/publish", headers=me)
    assert r.status_code == 200, r.text
    first = r.json()

    # The hall screen fetches and verifies it, as a device does.
    config = tomllib.loads((stack.root / "devices/adot-hall-1.toml").read_text())
    keys = {k.keyid: k for k in map(PublicKey.parse, config["trusted_keys"])}
    device = {"Authorization": f"Bearer {config['token']}"}

    def fetch(held: int | None) -> Any:
        r = http.get(f"{api}/devices/adot-hall-1/manifest", headers=device)
        assert r.status_code == 200
        ctx = TrustContext("adot-hall-1", keys, held, datetime.now(UTC))
        return accept_manifest(r.json(), ctx)

    got = fetch(None)
    assert got.version == first["version"]
    morning = next(p for p in got.playlists if p["id"] == "adot-morning")
    assert morning["schedule"] == {"windows": [{"start": "06:00", "end": "11:00"}]}
    assert uploads["queue.mp4"]["sha256"] in got.assets
    r = http.get(f"{api}/devices/adot-hall-1/manifest", headers={
        **device, "If-None-Match": f'"{got.version}"'})  # fmt: skip
    assert r.status_code == 304

    # Afternoon: a change goes out, then the guard rolls it back.
    changed = body(True)
    changed["items"] = changed["items"][:1]
    http.put(f"{api}/playlists/adot-morning", json=changed, headers=me)
    second = http.post(f"{api}/playlists/adot-morning/publish", headers=me).json()
    assert (
        len(next(p for p in fetch(got.version).playlists if p["id"] == "adot-morning")["items"])
        == 1
    )
    r = http.post(f"{api}/playlists/adot-morning/rollback",
                  json={"revision": first["revision"]}, headers=me)  # fmt: skip
    assert r.status_code == 200, r.text
    back = fetch(second["version"])
    assert back.version > second["version"]
    restored = next(p for p in back.playlists if p["id"] == "adot-morning")
    assert [i["id"] for i in restored["items"]] == ["greeting", "queue", "map"]

    # Evening: the admin reads who did what, from where.
    log = http.get(f"{api}/audit", params={"user": "guard-adot"}, headers=admin).json()
    actions = {e["action"] for e in log}
    assert {"upload asset", "create playlist", "edit playlist", "publish", "rollback"} <= actions
    assert all(e["address"] == "127.0.0.1" for e in log)
