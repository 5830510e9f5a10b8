"""docs/mqtt.md documents every topic function and every heartbeat field."""

from __future__ import annotations

import inspect
from pathlib import Path

from signage_core import topics

DOC = Path(__file__).resolve().parents[2] / "docs" / "mqtt.md"


def test_every_topic_function_is_documented_with_its_topic() -> None:
    text = DOC.read_text(encoding="utf-8")
    functions = [
        (name, f)
        for name, f in inspect.getmembers(topics, inspect.isfunction)
        if name.endswith("_topic") and f.__module__ == topics.__name__
    ]
    assert len(functions) >= 4
    for name, f in functions:
        assert f"topic: {name}(" in text, f"docs/mqtt.md does not document {name}"
        assert f"`{f('{id}')}`" in text or f"`{f('{site_id}')}`" in text, name


def test_every_heartbeat_field_and_command_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    for field in (*topics.HEARTBEAT_FIELDS, *topics.HEARTBEAT_OPTIONAL):
        assert f"| `{field}` |" in text, f"heartbeat field {field} is not in docs/mqtt.md"
    for cmd in topics.COMMANDS:
        assert f"`{cmd}`" in text, f"command {cmd} is not in docs/mqtt.md"
    for state in topics.STATUS_STATES:
        assert f"`{state}`" in text
