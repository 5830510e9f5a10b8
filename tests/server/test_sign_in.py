"""Sign-in hardening: a throttle that cannot lock a guard out and cannot grow without
bound, argon2id hashes (old ones upgraded), one answer for wrong and disabled,
a throttled password change, and sign-out that ends the token."""

from __future__ import annotations

import base64
import hashlib

import pytest
from fastapi.testclient import TestClient

from content_server.accounts import hash_password, verify_password
from content_server.errors import TooManyRequestsError
from content_server.throttle import LoginThrottle, ThrottleRules
from tests.server.api_kit import PASSWORD, add_user, sign_in
from tests.server.content_server_kit import Server

GUARD_ADDRESS = ("203.0.113.20", 40000)  # the post's own network
ATTACKER_ADDRESS = ("198.51.100.66", 40000)


def _post_token(client: TestClient, username: str, password: str) -> tuple[int, dict[str, str]]:
    r = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    return r.status_code, r.json()


def test_an_attacker_guessing_a_guards_password_does_not_lock_the_guard_out(
    server: Server,
) -> None:
    add_user(server, "guard", "editor", "adot")
    attacker = TestClient(server.app, client=ATTACKER_ADDRESS)
    guard = TestClient(server.app, client=GUARD_ADDRESS)
    for _ in range(server.settings.login_max_failures):
        assert _post_token(attacker, "guard", "guess")[0] == 401
    status, body = _post_token(attacker, "guard", PASSWORD)
    assert status == 429, "the attacker's address is held up, even with the right password"
    assert "wait" in body["detail"]
    # The guard, from the post's address, signs in at once.
    assert _post_token(guard, "guard", PASSWORD)[0] == 200


def test_the_wait_doubles_with_every_further_failure_up_to_the_cap() -> None:
    rules = ThrottleRules(max_failures=3, lockout_s=60, max_lockout_s=300)
    throttle = LoginThrottle(rules)
    now = 1000.0
    for _ in range(3):
        throttle.check("guard", "10.0.0.9", now)
        throttle.failed("guard", "10.0.0.9", now)
    waits = []
    for _ in range(5):
        with pytest.raises(TooManyRequestsError) as refused:
            throttle.check("guard", "10.0.0.9", now)
        waits.append(refused.value.retry_after)
        now += refused.value.retry_after
        throttle.check("guard", "10.0.0.9", now)  # the wait is over
        throttle.failed("guard", "10.0.0.9", now)
    assert waits == [60, 120, 240, 300, 300]
    throttle.check("guard", "10.0.0.10", now)  # another address is not held up
    throttle.succeeded("guard", "10.0.0.9")
    throttle.check("guard", "10.0.0.9", now)


def test_a_flood_of_names_and_addresses_cannot_grow_the_throttle_without_bound() -> None:
    throttle = LoginThrottle(ThrottleRules(max_entries=500))
    for i in range(20_000):
        throttle.failed(f"name-{i}-" + "x" * 200, f"10.{i // 250}.{i % 250}.1", float(i))
    assert 0 < len(throttle) <= 2 * 500
    # What it still holds is the most recent: the last address is counted.
    for _ in range(19):
        throttle.failed("someone", "10.79.249.1", 20_000.0)
    with pytest.raises(TooManyRequestsError):
        throttle.check("anyone", "10.79.249.1", 20_000.0)


def test_a_disabled_account_gets_the_same_answer_as_a_wrong_password(
    server: Server, admin_password: str
) -> None:
    add_user(server, "leaver", "editor", "adot")
    admin = sign_in(server, "admin", admin_password)
    r = server.client.post("/api/v1/users/leaver/disable", headers=admin)
    assert r.status_code == 200
    right = server.client.post(
        "/api/v1/auth/token", data={"username": "leaver", "password": PASSWORD}
    )
    wrong = server.client.post(
        "/api/v1/auth/token", data={"username": "leaver", "password": "not it at all"}
    )
    assert right.status_code == wrong.status_code == 401
    assert right.json() == wrong.json()
    assert right.headers["www-authenticate"] == wrong.headers["www-authenticate"]


def test_new_passwords_are_hashed_with_argon2id_at_owasp_cost() -> None:
    stored = hash_password("a long password 1")
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert verify_password("a long password 1", stored)
    assert not verify_password("a long password 2", stored)
    assert not verify_password("a long password 1", "$argon2id$broken")


def test_an_old_scrypt_hash_still_signs_in_and_is_upgraded(server: Server) -> None:
    # As earlier versions stored it: scrypt N=2^14.
    salt = b"saltsaltsaltsalt"
    digest = hashlib.scrypt(PASSWORD.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    b64 = base64.b64encode
    old = f"scrypt$16384$8$1${b64(salt).decode()}${b64(digest).decode()}"
    assert verify_password(PASSWORD, old)
    add_user(server, "veteran", "viewer", "adot")
    server.state.store.set_password_hash("veteran", old)
    first = sign_in(server, "veteran")
    stored = server.state.store.user("veteran")
    assert stored is not None and stored.password_hash.startswith("$argon2id$")
    assert verify_password(PASSWORD, stored.password_hash)
    # The upgrade ends no session, and the password still works.
    assert server.client.get("/api/v1/devices", headers=first).status_code == 200
    sign_in(server, "veteran")


def test_changing_the_password_is_throttled(server: Server) -> None:
    auth = add_user(server, "guard", "editor", "adot")
    user = server.state.store.user("guard")
    assert user is not None
    wrong = {"current_password": "not my password", "new_password": "a new password 22"}
    for _ in range(server.settings.login_max_failures):
        r = server.client.put("/api/v1/users/me/password", json=wrong, headers=auth)
        assert r.status_code == 422
    right = {"current_password": PASSWORD, "new_password": "a new password 22"}
    r = server.client.put("/api/v1/users/me/password", json=right, headers=auth)
    assert r.status_code == 429
    assert int(r.headers["retry-after"]) > 0
    assert r.headers["content-type"] == "application/problem+json"
    after = server.state.store.user("guard")
    assert after is not None and after.password_hash == user.password_hash  # not changed
    assert server.client.get("/api/v1/devices", headers=auth).status_code == 200


def test_sign_out_ends_the_token_on_the_server(server: Server) -> None:
    auth = add_user(server, "guard", "editor", "adot")
    other = sign_in(server, "guard")
    assert server.client.get("/api/v1/devices", headers=auth).status_code == 200
    r = server.client.post("/api/v1/auth/logout", headers=auth)
    assert r.status_code == 204
    r = server.client.get("/api/v1/devices", headers=auth)
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"
    assert server.client.post("/api/v1/auth/logout", headers=auth).status_code == 401
    # Only that token ended: another sign-in of the same guard still works.
    assert server.client.get("/api/v1/devices", headers=other).status_code == 200
    actions = [e for e in server.state.store.audit_log() if e.action == "sign-out"]
    assert [e.user for e in actions] == ["guard"]


def test_a_refused_sign_in_with_a_huge_name_is_audited_short(server: Server) -> None:
    name = "n" * 200_000
    assert _post_token(server.client, name, "guess")[0] == 401
    refused = [e for e in server.state.store.audit_log() if e.action == "sign-in refused"]
    assert [e.user for e in refused] == ["n" * 64]
