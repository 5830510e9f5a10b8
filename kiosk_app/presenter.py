"""What the kiosk shows: the page tree of a signed manifest, where the traveller is in
it, and in which language. No Kivy: the screens bind to the views made here.

The manifest's ``pages`` are a flat list of categories (``parent_id`` null) and
pages (``parent_id`` = their category), each with per-language ``variants``
``{title, body, image?, link?}``. ``Browser`` keeps the place (home, a category,
a page) and the language, and answers with a view (``HomeView``, ``CategoryView``,
``PageView``). Each text is picked along the language's fallback chain
(``signage_core.languages``); a text shown in another language says which.
"Back" goes up the tree (page → its category → home), so it always leads somewhere
a traveller recognises, whatever they touched before.

Which image file is verified is the runtime's business (``Content.asset_path``);
drawing is the screens'.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from signage_core import languages
from signage_core.errors import LanguageError

from . import strings

DEFAULT_LANGUAGES = ("vi", "lo", "en")


@dataclass(frozen=True)
class Localized:
    """One page or category in the language it is shown in."""

    id: str
    title: str
    body: str
    language: str  # the language of the text shown
    wanted: str  # the language the traveller chose
    image: str | None = None  # sha256 of a manifest asset
    link: str | None = None  # an https URL, drawn as a QR code

    @property
    def fallback(self) -> bool:
        return self.language != self.wanted


@dataclass(frozen=True)
class HomeView:
    language: str
    tiles: tuple[Localized, ...]
    name: str = "home"


@dataclass(frozen=True)
class CategoryView:
    language: str
    category: Localized
    tiles: tuple[Localized, ...]
    name: str = "category"


@dataclass(frozen=True)
class PageView:
    language: str
    page: Localized
    category_id: str | None
    name: str = "page"


View = HomeView | CategoryView | PageView


def _pick(variants: Mapping[str, Any], code: str) -> tuple[str, Any] | None:
    try:
        found = languages.pick(variants, code)
    except LanguageError:  # a code outside the registry: its own variant or none
        found = (code, variants[code]) if code in variants else None
    if found is None and variants:  # nothing along the chain: whatever there is
        first = next(iter(sorted(variants)))
        found = (first, variants[first])
    return found


def localize(page: Mapping[str, Any], language: str) -> Localized:
    variants = page.get("variants") or {}
    found = _pick(variants, language)
    shown, v = found if found is not None else (language, {})
    return Localized(
        id=str(page["id"]),
        title=str(v.get("title", "")),
        body=str(v.get("body", "")),
        language=shown,
        wanted=language,
        image=v.get("image") or None,
        link=v.get("link") or None,
    )


def fallback_note(item: Localized) -> str:
    """The discreet line under a title shown in another language, in the chosen language."""
    if not item.fallback:
        return ""
    return strings.words(item.wanted)["fallback"].format(shown=strings.language_name(item.language))


class PageTree:
    """The categories and pages of one manifest, in their ``position`` order."""

    def __init__(self, pages: Iterable[Mapping[str, Any]]) -> None:
        self.by_id: dict[str, Mapping[str, Any]] = {}
        for p in pages:
            if isinstance(p, Mapping) and isinstance(p.get("id"), str):
                self.by_id[p["id"]] = p

        def order(p: Mapping[str, Any]) -> tuple[int, str]:
            pos = p.get("position")
            return (pos if isinstance(pos, int) else 0, str(p["id"]))

        self.categories = sorted(
            (p for p in self.by_id.values() if p.get("parent_id") is None), key=order
        )
        self._children: dict[str, list[Mapping[str, Any]]] = {}
        for p in self.by_id.values():
            parent = p.get("parent_id")
            if parent is not None and parent in self.by_id:
                self._children.setdefault(parent, []).append(p)
        for kids in self._children.values():
            kids.sort(key=order)

    def children(self, category_id: str) -> list[Mapping[str, Any]]:
        return list(self._children.get(category_id, []))

    def languages(self) -> set[str]:
        return {code for p in self.by_id.values() for code in (p.get("variants") or {})}


def site_languages(manifest_languages: Sequence[str], tree: PageTree) -> tuple[str, ...]:
    """The languages the switch offers: the site's, then any other the pages are written
    in that the language registry knows (a minority language added to some pages)."""
    out = list(manifest_languages) or list(DEFAULT_LANGUAGES)
    extra = tree.languages() - set(out)
    out += [code for code in languages.LANGUAGES if code in extra]
    return tuple(dict.fromkeys(out))


class Browser:
    """Where the traveller is and in which language; every method answers the new view."""

    def __init__(self, pages: Iterable[Mapping[str, Any]] = (), langs: Sequence[str] = ()):
        self.tree = PageTree(pages)
        self.languages = site_languages(langs, self.tree)
        self.language = self.languages[0]
        self.category_id: str | None = None
        self.page_id: str | None = None

    def load(self, pages: Iterable[Mapping[str, Any]], langs: Sequence[str]) -> View:
        """New content: keep the place if it still exists, else go up to what does."""
        self.tree = PageTree(pages)
        self.languages = site_languages(langs, self.tree)
        if self.language not in self.languages:
            self.language = self.languages[0]
        if self.page_id is not None and self.page_id not in self.tree.by_id:
            self.page_id = None
        if self.category_id is not None and self.category_id not in self.tree.by_id:
            self.category_id = self.page_id = None
        return self.view()

    def view(self) -> View:
        lang = self.language
        if self.page_id is not None:
            page = self.tree.by_id[self.page_id]
            return PageView(lang, localize(page, lang), self.category_id)
        if self.category_id is not None:
            cat = self.tree.by_id[self.category_id]
            tiles = tuple(localize(p, lang) for p in self.tree.children(self.category_id))
            return CategoryView(lang, localize(cat, lang), tiles)
        return HomeView(lang, tuple(localize(c, lang) for c in self.tree.categories))

    def open(self, node_id: str) -> View:
        """Open a category or a page (unknown ids leave the place as it is)."""
        node = self.tree.by_id.get(node_id)
        if node is None:
            return self.view()
        parent = node.get("parent_id")
        if parent is None:
            self.category_id, self.page_id = node_id, None
        else:
            self.category_id, self.page_id = parent, node_id
        return self.view()

    def back(self) -> View:
        if self.page_id is not None:
            self.page_id = None
        else:
            self.category_id = None
        return self.view()

    def home(self) -> View:
        self.category_id = self.page_id = None
        return self.view()

    def set_language(self, code: str) -> View:
        if code in self.languages:
            self.language = code
        return self.view()

    def every_view(self, language: str) -> list[View]:
        """Home, every category and every page in ``language``, without moving: the app
        lays them out ahead of time so a touch finds its screen's text ready."""
        views: list[View] = [
            HomeView(language, tuple(localize(c, language) for c in self.tree.categories))
        ]
        for cat in self.tree.categories:
            kids = self.tree.children(cat["id"])
            views.append(
                CategoryView(
                    language, localize(cat, language), tuple(localize(p, language) for p in kids)
                )
            )
            views += [PageView(language, localize(p, language), cat["id"]) for p in kids]
        return views

    def reset(self) -> View:
        """For the next traveller: home, in the site's first language."""
        self.language = self.languages[0]
        return self.home()
