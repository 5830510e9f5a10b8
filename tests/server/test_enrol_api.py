"""Enrolling a device over the API: ``POST /api/v1/devices`` and ``…/rekey``.

The answer carries the device's whole configuration once; the server keeps hashes,
signs the device's first manifest and rewrites the broker's passwd and acl."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from content_server.keys import load_signing_keys
from tests.server.api_kit import add_user
from tests.server.content_server_kit import Server, data_folder, serving

MQTT_URL = "mqtt://gate.example:1883"


@pytest.fixture
def server(tmp_path: Path, content_dir: Path) -> Iterator[Server]:
    mqtt_dir = tmp_path / "mosquitto"
    mqtt_dir.mkdir()
    settings = data_folder(
        tmp_path, device_mqtt_url=MQTT_URL, mqtt_dir=mqtt_dir, device_data_dir="/srv/signage"
    )
    with serving(settings, content_dir, {"hongvan-1": "hongvan"}) as s:
        yield s


def enrol(server: Server, auth: dict[str, str], **body: str) -> dict[str, object]:
    r = server.client.post("/api/v1/devices", json=body, headers=auth)
    return {"status": r.status_code, **r.json()}


def test_an_editor_enrols_a_screen_and_its_configuration_works(server: Server) -> None:
    auth = add_user(server, "guard", "editor", "adot")
    answer = enrol(server, auth, id="adot-hall-7", site_id="adot-hall", name="Sảnh, màn hình 7")
    assert answer["status"] == 201, answer
    config = tomllib.loads(str(answer["config"]))
    assert config["device_id"] == "adot-hall-7"
    assert config["token"] == answer["token"]
    assert config["mqtt_password"] == answer["mqtt_password"]
    assert config["server_url"] == "http://testserver"
    assert config["mqtt_url"] == MQTT_URL
    assert config["data_dir"] == "/srv/signage"
    keys = load_signing_keys(server.settings)
    assert config["trusted_keys"] == [k.public.spec() for k in keys]
    assert answer["name"] == "Sảnh, màn hình 7"
    # The token in the file works at once: the device's first manifest is signed.
    r = server.client.get(
        "/api/v1/devices/adot-hall-7/manifest",
        headers={"Authorization": f"Bearer {config['token']}"},
    )
    assert r.status_code == 200, r.text
    # The broker knows the new account (passwd and acl rewritten), the old ones stay.
    mqtt_dir = server.settings.mqtt_dir
    assert mqtt_dir is not None
    passwd = (mqtt_dir / "passwd").read_text()
    assert "adot-hall-7:$7$" in passwd and "hongvan-1:$7$" in passwd
    assert "user adot-hall-7" in (mqtt_dir / "acl").read_text()
    assert "reload Mosquitto" in str(answer["note"])  # no pid file: say what is left
    # Secrets exist only in the answer: the database has hashes.
    dump = server.state.store.dump()
    assert str(config["token"]) not in dump and str(config["mqtt_password"]) not in dump


def test_an_existing_id_is_409_and_nothing_changes(server: Server) -> None:
    auth = add_user(server, "chief", "admin", None)
    first = enrol(server, auth, id="adot-hall-7", site_id="adot-hall")
    assert first["status"] == 201
    again = enrol(server, auth, id="adot-hall-7", site_id="adot-hall")
    assert again["status"] == 409
    assert "exists already" in str(again["detail"])
    r = server.client.get(
        "/api/v1/devices/adot-hall-7/manifest",
        headers={"Authorization": f"Bearer {first['token']}"},
    )
    assert r.status_code == 200  # the first credentials still work


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"id": "Adot Hall 7", "site_id": "adot-hall"}, 422, "lowercase letters"),
        ({"id": "adot-hall-7", "site_id": "nowhere"}, 404, "no site 'nowhere'"),
        ({"id": "adot-hall-7", "site_id": "hongvan"}, 404, "no site 'hongvan'"),
        ({"id": "hongvan-9", "site_id": "adot-hall"}, 403, "cannot be used"),
    ],
)
def test_bad_enrolments_are_refused_with_a_message(
    server: Server, body: dict[str, str], status: int, words: str
) -> None:
    auth = add_user(server, "guard", "editor", "adot")
    answer = enrol(server, auth, **body)
    assert answer["status"] == status, answer
    assert words in str(answer["detail"])
    assert server.state.store.device(body["id"]) is None


def test_a_viewer_cannot_enrol(server: Server) -> None:
    auth = add_user(server, "watcher", "viewer", "adot")
    assert enrol(server, auth, id="adot-hall-7", site_id="adot-hall")["status"] == 403


def test_rekey_gives_new_credentials_and_the_old_token_stops_working(server: Server) -> None:
    auth = add_user(server, "guard", "editor", "adot")
    first = enrol(server, auth, id="adot-hall-7", site_id="adot-hall", name="Sảnh 7")
    r = server.client.post("/api/v1/devices/adot-hall-7/rekey", headers=auth)
    assert r.status_code == 200, r.text
    second = r.json()
    assert second["token"] != first["token"] and second["name"] == "Sảnh 7"
    assert tomllib.loads(second["config"])["token"] == second["token"]
    manifest = "/api/v1/devices/adot-hall-7/manifest"
    old = server.client.get(manifest, headers={"Authorization": f"Bearer {first['token']}"})
    assert old.status_code == 401
    new = server.client.get(manifest, headers={"Authorization": f"Bearer {second['token']}"})
    assert new.status_code == 200
    # Another gate's device cannot be re-keyed (404, like one that does not exist).
    r = server.client.post("/api/v1/devices/hongvan-1/rekey", headers=auth)
    assert r.status_code == 404


def test_without_the_brokers_address_for_devices_enrolment_says_what_to_set(
    tmp_path: Path, content_dir: Path
) -> None:
    with serving(data_folder(tmp_path), content_dir, {}) as server:
        auth = add_user(server, "chief", "admin", None)
        answer = enrol(server, auth, id="adot-hall-7", site_id="adot-hall")
        assert answer["status"] == 503
        assert "CONTENT_SERVER_DEVICE_MQTT_URL" in str(answer["detail"])
        assert server.state.store.device("adot-hall-7") is None


def test_revoking_closes_the_devices_broker_account(server: Server) -> None:
    auth = add_user(server, "chief", "admin", None)
    assert enrol(server, auth, id="adot-hall-7", site_id="adot-hall")["status"] == 201
    r = server.client.post("/api/v1/devices/adot-hall-7/revoke", headers=auth)
    assert r.status_code == 200, r.text
    mqtt_dir = server.settings.mqtt_dir
    assert mqtt_dir is not None
    passwd = (mqtt_dir / "passwd").read_text()
    assert "adot-hall-7:" not in passwd and "hongvan-1:$7$" in passwd


def test_revoking_is_for_the_admins_of_the_devices_site(server: Server) -> None:
    chief = add_user(server, "chief", "admin", None)
    assert enrol(server, chief, id="adot-hall-7", site_id="adot-hall")["status"] == 201
    other_gate = add_user(server, "hv-chief", "admin", "hongvan")
    editor = add_user(server, "guard", "editor", "adot")
    r = server.client.post("/api/v1/devices/adot-hall-7/revoke", headers=other_gate)
    assert r.status_code == 404, r.text
    r = server.client.post("/api/v1/devices/adot-hall-7/revoke", headers=editor)
    assert r.status_code == 403, r.text
    assert r.headers["content-type"] == "application/problem+json"
    device = server.state.store.device("adot-hall-7")
    assert device is not None and not device.revoked
