"""The kiosk's presenter and words, without a display: navigation, languages, fallback."""

from __future__ import annotations

from typing import Any

from kiosk_app import strings
from kiosk_app.presenter import Browser, CategoryView, HomeView, PageView, fallback_note
from signage_core.coverage import missing_glyphs
from tests.kiosk.kiosk_checks import cmaps


def page(pid: str, parent: str | None, position: int, **variants: dict[str, str]) -> dict[str, Any]:
    kind = "category" if parent is None else "page"
    return {"id": pid, "site_id": "adot", "parent_id": parent, "kind": kind,
            "position": position, "variants": variants}  # fmt: skip


PAGES = [
    page("customs", None, 1, vi={"title": "Hải quan"}, lo={"title": "ພາສີ"}, en={"title": "Cus"}),
    page("entry", None, 0, vi={"title": "Xuất nhập cảnh"}, lo={"title": "ເຂົ້າ-ອອກເມືອງ"}),
    page("declare", "customs", 1, vi={"title": "Khai báo", "body": "…", "link": "https://www.customs.gov.vn"},
         lo={"title": "ແຈ້ງພາສີ"}, tth={"title": "Khai báo (Tà Ôi)"}),
    page("duty-free", "customs", 0, vi={"title": "Miễn thuế", "image": "ab" * 32}),
]  # fmt: skip


def test_home_lists_categories_in_position_order_and_opens_down_the_tree() -> None:
    b = Browser(PAGES, ("vi", "lo", "en"))
    home = b.view()
    assert isinstance(home, HomeView) and [t.id for t in home.tiles] == ["entry", "customs"]
    cat = b.open("customs")
    assert isinstance(cat, CategoryView)
    assert [t.id for t in cat.tiles] == ["duty-free", "declare"]
    pg = b.open("declare")
    assert isinstance(pg, PageView) and pg.page.link == "https://www.customs.gov.vn"
    assert pg.category_id == "customs"
    assert b.back().name == "category" and b.back().name == "home" and b.back().name == "home"
    b.open("duty-free")
    assert b.home().name == "home"
    assert b.open("no-such-page").name == "home"  # unknown ids leave the place as it is


def test_switching_language_keeps_the_page_and_falls_back_along_the_chain() -> None:
    b = Browser(PAGES, ("vi", "lo", "en"))
    b.open("duty-free")
    lo = b.set_language("lo")
    assert isinstance(lo, PageView) and lo.page.id == "duty-free"
    # No Lao text: Lao falls back to English, then Vietnamese (signage_core.languages).
    assert lo.page.language == "vi" and lo.page.title == "Miễn thuế" and lo.page.fallback
    note = fallback_note(lo.page)
    assert note == "ໜ້ານີ້ຍັງບໍ່ມີເປັນພາສາລາວ. ກຳລັງສະແດງເປັນ: Tiếng Việt"
    en = b.set_language("en")
    assert isinstance(en, PageView)
    assert (
        fallback_note(en.page) == "This page is not yet available in English. Shown in: Tiếng Việt"
    )
    b.set_language("vi")
    assert fallback_note(b.view().page) == ""  # type: ignore[union-attr]


def test_the_switch_offers_the_site_languages_then_those_the_pages_are_written_in() -> None:
    b = Browser(PAGES, ("vi", "lo", "en"))
    assert b.languages == ("vi", "lo", "en", "tth")
    assert strings.language_name("tth") == "Tà Ôi"
    b.open("declare")
    tth = b.set_language("tth")
    assert isinstance(tth, PageView) and tth.page.title == "Khai báo (Tà Ôi)"
    # A minority language without its own kiosk words uses Vietnamese ones (its chain).
    assert strings.words("tth") is strings.WORDS["vi"]
    assert b.set_language("xx").language == "tth"  # a language the site lacks: no change


def test_reset_for_the_next_traveller_goes_home_in_the_first_language() -> None:
    b = Browser(PAGES, ("vi", "lo", "en"))
    b.set_language("lo")
    b.open("declare")
    view = b.reset()
    assert isinstance(view, HomeView) and view.language == "vi"


def test_new_content_keeps_the_place_when_it_still_exists() -> None:
    b = Browser(PAGES, ("vi", "lo", "en"))
    b.open("declare")
    assert b.load(PAGES, ("vi", "lo", "en")).name == "page"
    assert b.load([p for p in PAGES if p["id"] != "declare"], ("vi", "lo")).name == "category"
    assert b.load([], ()).name == "home"


def test_every_view_covers_each_screen_once_per_language() -> None:
    b = Browser(PAGES, ("vi", "lo", "en"))
    views = b.every_view("lo")
    assert [v.name for v in views].count("page") == 2 and len(views) == 1 + 2 + 2
    assert {v.language for v in views} == {"lo"} and b.view().name == "home"


def test_the_fonts_draw_every_word_of_the_kiosk() -> None:
    lao, latin, fallbacks = cmaps()
    for text in strings.ALL:
        assert missing_glyphs(text, lao, latin, fallbacks) == [], text
