"""Schemathesis against the app's own OpenAPI document, signed in as an admin.

A bounded number of generated requests per operation (``MAX_EXAMPLES``): no
answer may be a 5xx, and a documented answer must match its own schema.
Requests go to the ASGI app in this process (schemathesis' ASGI transport).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.server.content_server_kit import (
    ADMIN_PASSWORD,
    data_folder,
    serving,
    write_content,
)

MAX_EXAMPLES = 12
_auth: dict[str, str] = {}
STATUSES: list[int] = []
CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.response_schema_conformance,
]


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    tmp: Path = tmp_path_factory.mktemp("fuzz")
    s = data_folder(tmp, login_max_failures=10**6, login_max_failures_per_address=10**6)
    with serving(s, write_content(tmp / "playlists"), {"adot-hall-1": "adot-hall"}) as server:
        r = server.client.post(
            "/api/v1/auth/token", data={"username": "admin", "password": ADMIN_PASSWORD}
        )
        _auth["Authorization"] = f"Bearer {r.json()['access_token']}"
        yield schemathesis.openapi.from_asgi("/openapi.json", server.app)


def test_no_server_error_and_answers_match_their_schema(api_schema: Any) -> None:
    failures: list[str] = []
    tried = 0
    for result in api_schema.get_all_operations():
        operation = result.ok()
        if operation.path == "/api/v1/auth/logout":
            continue  # it would end the token every other operation uses

        @given(case=operation.as_strategy())
        @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))  # fmt: skip
        def run(case: Any) -> None:
            response = case.call(headers=dict(_auth))
            STATUSES.append(response.status_code)
            case.validate_response(response, checks=CHECKS)

        try:
            run()
        except Exception as e:  # collect every operation's failure, then fail once
            failures.append(f"{operation.label}: {str(e)[:600]}")
        tried += 1
    assert tried > 20
    assert sum(200 <= s < 300 for s in STATUSES) > 20, "signed in: most reads succeed"
    assert not failures, "\n\n".join(failures)
