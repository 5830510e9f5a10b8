"""``manifest.link_problem``: the one rule for a kiosk page's link (a QR code on the kiosk)."""

from __future__ import annotations

import pytest

from signage_core.manifest import MAX_LINK_LENGTH, link_problem


@pytest.mark.parametrize(
    "url",
    ["https://evisa.gov.vn", "https://www.customs.gov.vn/", "https://lanhsuvietnam.gov.vn/a?b=1"],
)
def test_an_https_address_is_a_link(url: str) -> None:
    assert link_problem(url) is None


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://evisa.gov.vn", "must start with https://"),
        ("HTTPS://evisa.gov.vn", "must start with https://"),
        ("javascript:alert(1)", "must start with https://"),
        ("evisa.gov.vn", "must start with https://"),
        ("https://", "no valid site name"),
        ("https://user@evil.example", "no valid site name"),
        ("https://evisa.gov.vn/ a", "spaces"),
        ("https://evisa.gov.vn/\n", "control characters"),
        ("", "must be an https:// address"),
        (None, "must be an https:// address"),
        ("https://a.vn/" + "x" * MAX_LINK_LENGTH, "fit a QR code"),
    ],
)
def test_anything_else_is_refused_with_a_reason(url: object, reason: str) -> None:
    problem = link_problem(url)
    assert problem is not None and reason in problem
