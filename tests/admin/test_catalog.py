"""Every word of the admin has its Vietnamese, and dates and numbers read the Vietnamese way."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from babel.messages.extract import extract_from_dir

from content_server.admin import i18n
from content_server.admin.i18n import Languages, load_catalogs
from content_server.errors import InvalidInputError

ADMIN = i18n.LOCALE_DIR.parent
KEYWORDS = {"_": None, "gettext": None, "N_": None, "ngettext": (1, 2)}
METHODS = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
OPTIONS = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}}


def extracted() -> set[str]:
    ids: set[str] = set()
    for _, _, message, _, _ in extract_from_dir(
        str(ADMIN), METHODS, options_map=OPTIONS, keywords=KEYWORDS
    ):
        ids.update(m for m in (message if isinstance(message, tuple) else (message,)) if m)
    return ids


def test_every_message_of_pages_and_code_has_a_vietnamese_translation() -> None:
    ids = extracted()
    assert len(ids) > 40  # the extraction found the pages' words
    vi = load_catalogs()["vi"]
    missing = sorted(m for m in ids if not vi.get(m))
    assert not missing, f"add these to locale/vi/LC_MESSAGES/messages.po: {missing}"
    # Placeholders survive translation, or the page would fail to format them.
    for msgid in ids:
        for name in ("%(n)s", "%(minutes)s", "%(v)s", "%(id)s", "%(site)s"):
            assert (name in msgid) == (name in vi[msgid]), (msgid, vi[msgid])


def test_times_are_shown_in_the_gates_time_zone_the_vietnamese_way() -> None:
    tr = Languages("Asia/Ho_Chi_Minh").translator("vi")
    moment = datetime(2026, 12, 2, 17, 30, 5, tzinfo=UTC)  # 00:30 the next day in Huế
    assert tr.when(moment) == "03/12/2026 00:30"
    assert tr.when("2026-12-02T17:30:05Z", seconds=True) == "03/12/2026 00:30:05"
    assert tr.number(1234567) == "1.234.567"
    assert tr.size(1_500_000_000) == "1,5 GB"
    assert tr.ago(moment, datetime(2026, 12, 2, 17, 33, 0, tzinfo=UTC)) == "3 phút trước"


def test_an_unknown_language_falls_back_to_vietnamese() -> None:
    langs = Languages("Asia/Ho_Chi_Minh")
    assert langs.translator("fr").lang == "vi"
    assert langs.translator(None).gettext("Sign in") == "Đăng nhập"
    assert langs.translator("en").gettext("Sign in") == "Sign in"


def test_a_wrong_time_zone_setting_says_what_to_write() -> None:
    with pytest.raises(InvalidInputError, match="Asia/Ho_Chi_Minh"):
        Languages("Asia/Hue")
