"""Every setting of the content server is documented in docs/server-settings.md."""

from __future__ import annotations

from pathlib import Path

import pytest

from content_server.settings import Settings

DOC = Path(__file__).resolve().parents[2] / "docs" / "server-settings.md"


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_every_setting_is_in_the_settings_doc(name: str) -> None:
    assert f"`CONTENT_SERVER_{name.upper()}`" in DOC.read_text(encoding="utf-8")
