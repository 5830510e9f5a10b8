"""The rules of docs/playlist-format.md, applied to one YAML file.

``FileRules`` checks a site, a playlist or a tree of kiosk pages read by
``yamlsource`` and returns it in the form it is stored in (items and pages in
manifest form, media as ``MediaRef`` until the file is stored), or None after
recording every problem with its line. A media file must decode with OpenCV
(``media.inspect``, the check uploads get: its header's size, then a decoder
in a child process with limits). Rules that need every file at once
(unique ids, parents, sites and groups that exist, required languages) are
``importer.check_folder``'s.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from signage_core import languages, topics
from signage_core.errors import LanguageError, ManifestError, ScheduleError
from signage_core.layout import BILINGUAL_MODES, ORIENTATIONS, parse_notice, parse_title
from signage_core.manifest import link_problem
from signage_core.schedule import Schedule

from .assets import IMAGE_TYPES, SNIFF_BYTES, VIDEO_TYPES, describe_types, sniff_file
from .errors import UnsupportedMediaError
from .media import DecodeLimits, inspect
from .models import Site
from .yamlsource import Problems, Y

SITE_KEYS = ("id", "parent", "name", "languages", "required_languages")
PLAYLIST_KEYS = (
    *("id", "site", "name", "priority", "fallback", "schedule", "items", "groups"),
    "bilingual",
)
CATEGORY_KEYS = ("id", "site", "position", "text", "file", "link", "pages", "sources")
PAGE_KEYS = ("id", "position", "text", "file", "link", "sources")
LAYOUT_KEYS = ("site", "orientation", "header", "ticker", "title", "notices")
TICKER_KEYS = ("site", "notices")
NOTICE_KEYS = ("id", "text", "until", "sources")
ITEM_KEYS = {
    "text": ("id", "kind", "duration_s", "text", "sources"),
    "image": ("id", "kind", "duration_s", "file", "caption", "sources"),
    "video": ("id", "kind", "duration_s", "file", "caption", "sources"),
}
_SCHEDULE_FIELD = re.compile(
    r"^(start_date|end_date|weekdays|windows)(?:\[(\d+)\](?:\.(start|end))?)?"
)


@dataclass(frozen=True)
class MediaRef:
    path: Path  # absolute, checked to be inside the folder
    name: str  # as written in the YAML


@dataclass
class PlaylistDraft:
    id: str
    site_id: str
    name: dict[str, str]
    priority: int
    fallback: bool
    schedule: dict[str, Any] | None
    items: list[dict[str, Any]]  # image/video variants hold a MediaRef under "asset"
    groups: list[str] = field(default_factory=list)
    groups_node: Y | None = field(default=None, compare=False, repr=False)
    bilingual: str = "sequential"


@dataclass(frozen=True)
class CheckedPage:
    """A kiosk page or category in store form (``Store.put_page``), with its YAML nodes.

    ``page["variants"]`` hold a ``MediaRef`` under ``"image"`` until the file is stored.
    """

    page: dict[str, Any]
    node: Y  # the page's mapping
    text: Y  # its language-keyed texts
    site: Y  # where the site is named (the category's ``site:``)


class FileRules:
    """The rules, applied to one YAML file; problems go to the shared list."""

    def __init__(
        self,
        shown: str,
        yaml_dir: Path,
        folder: Path,
        problems: Problems,
        max_bytes: int,
        limits: DecodeLimits | None = None,
    ):
        self.limits = limits or DecodeLimits()
        self.shown = shown
        self.yaml_dir = yaml_dir
        self.folder = folder
        self.problems = problems
        self.max_bytes = max_bytes

    def err(self, y: Y, reason: str) -> None:
        self.problems.add(self.shown, y.line, reason)

    def mapping(self, y: Y, what: str, allowed: tuple[str, ...], required: tuple[str, ...]) -> bool:
        if not isinstance(y.value, dict):
            self.err(y, f"{what} must be a mapping of {', '.join(allowed)}")
            return False
        ok = True
        for key, value in y.value.items():
            if key not in allowed:
                self.err(value, f"unknown key '{key}' in {what}; allowed: {', '.join(allowed)}")
                ok = False
        for key in required:
            if key not in y.value:
                self.err(y, f"{what} needs '{key}'")
                ok = False
        return ok

    def ident(self, y: Y, what: str) -> str | None:
        if isinstance(y.value, str) and topics.valid_id(y.value):
            return y.value
        self.err(y, f"{what} {y.value!r} must be lowercase letters, digits and hyphens")
        return None

    def language(self, y: Y, code: Any) -> bool:
        try:
            languages.get(str(code))
        except LanguageError as e:
            self.err(y, str(e))
            return False
        return True

    def language_list(self, y: Y, what: str) -> list[str] | None:
        if not isinstance(y.value, list) or not y.value:
            self.err(y, f"{what} must be a list of language codes, like [vi, lo, en]")
            return None
        codes = []
        for entry in y.value:
            if self.language(entry, entry.value):
                if entry.value in codes:
                    self.err(entry, f"{what}: '{entry.value}' is listed twice")
                codes.append(entry.value)
        return codes if len(codes) == len(y.value) else None

    def texts(self, y: Y, what: str) -> dict[str, str] | None:
        """``{lang: text}``, like a name or a caption."""
        if not isinstance(y.value, dict) or not y.value:
            self.err(y, f"{what} must map language codes to text, like {{vi: ..., lo: ...}}")
            return None
        out = {}
        for code, text in y.value.items():
            if not self.language(text, code):
                continue
            if not isinstance(text.value, str) or not text.value.strip():
                self.err(text, f"{what} in '{code}' must be non-empty text")
                continue
            out[code] = text.value
        return out if len(out) == len(y.value) else None

    def positive_int(self, y: Y, what: str) -> int | None:
        if isinstance(y.value, int) and not isinstance(y.value, bool) and y.value > 0:
            return y.value
        self.err(y, f"{what} must be a whole number above 0, not {y.value!r}")
        return None

    # --- sites ---------------------------------------------------------------

    def site(self, y: Y) -> tuple[Site, Y] | None:
        if not self.mapping(y, "a site", SITE_KEYS, ("id", "name")):
            return None
        d = y.value
        site_id = self.ident(d["id"], "the site id")
        name = self.texts(d["name"], "the site name")
        parent = d.get("parent")
        parent_id = None
        if parent is not None and parent.value is not None:
            parent_id = self.ident(parent, "the parent site")
            if parent_id is None:
                return None
        langs = self.language_list(d["languages"], "languages") if "languages" in d else None
        required = None
        if "required_languages" in d:
            required = self.language_list(d["required_languages"], "required_languages")
            if required is None:
                return None
        if site_id is None or name is None or ("languages" in d and langs is None):
            return None
        return Site(site_id, parent_id, name, langs, required), y

    # --- playlists -----------------------------------------------------------

    def schedule(self, y: Y) -> tuple[bool, dict[str, Any] | None]:
        """``(ok, the normalised schedule or None for "always")``."""
        if y.value is None:
            return True, None
        windows = y.value.get("windows") if isinstance(y.value, dict) else None
        for window in windows.value if windows and isinstance(windows.value, list) else []:
            for edge in ("start", "end") if isinstance(window.value, dict) else ():
                v = window.value.get(edge)
                if v is not None and isinstance(v.value, int):
                    self.err(
                        v,
                        f'write the time in quotes, like {edge}: "17:00" '
                        "(YAML reads 17:00 without quotes as a number)",
                    )
                    return False, None
        try:
            normalised = Schedule.from_dict(y.plain()).to_dict()
        except ScheduleError as e:
            self.err(self._schedule_line(y, str(e)), f"schedule: {e}")
            return False, None
        return True, normalised or None

    @staticmethod
    def _schedule_line(y: Y, message: str) -> Y:
        if not isinstance(y.value, dict):
            return y
        m = _SCHEDULE_FIELD.match(message)
        key = m.group(1) if m else ("end_date" if "ends" in message else None)
        target: Y | None = y.value.get(key) if key else None
        if target is None:
            return y
        if m and m.group(2) is not None and isinstance(target.value, list):
            index = int(m.group(2))
            if index < len(target.value):
                target = target.value[index]
                if m.group(3) and isinstance(target.value, dict) and m.group(3) in target.value:
                    target = target.value[m.group(3)]
        return target

    def media(self, y: Y, kind: str) -> MediaRef | None:
        name = y.value
        if not isinstance(name, str) or not name:
            self.err(y, "file must be a path like images/map.png")
            return None
        if "\x00" in name:
            self.err(y, "the file name contains a NUL character")
            return None
        posix = PurePosixPath(name)
        if posix.is_absolute() or re.match(r"^[A-Za-z]:[\\/]", name) or name.startswith("\\"):
            self.err(y, f"file {name!r} must be relative to the YAML file, not absolute")
            return None
        if ".." in posix.parts or ".." in name.split("\\"):
            self.err(y, f"file {name!r} must not use '..': keep media inside the import folder")
            return None
        target = (self.yaml_dir / posix).resolve()
        if not target.is_relative_to(self.folder):
            self.err(y, f"file {name!r} leads outside the import folder (through a link)")
            return None
        if not target.is_file():
            self.err(y, f"file {name!r} not found (looked for {self.yaml_dir / posix})")
            return None
        size = target.stat().st_size
        if size > self.max_bytes:
            self.err(y, f"file {name!r} has {size} bytes, more than the limit of {self.max_bytes}")
            return None
        media_type = sniff_file(target)
        if media_type is None:
            self.err(y, f"file {name!r} is not a {describe_types()} file")
            return None
        expected = IMAGE_TYPES if kind == "image" else VIDEO_TYPES
        if media_type not in expected:
            self.err(y, f"file {name!r} is {media_type}, but the item kind is {kind}")
            return None
        try:
            with target.open("rb") as fh:
                inspect(target, fh.read(SNIFF_BYTES), f"file {name!r}", self.limits)
        except UnsupportedMediaError as e:
            self.err(y, str(e).replace("upload the whole file", "copy the whole file here"))
            return None
        return MediaRef(target, name)

    def item(self, y: Y, seen: dict[str, Y]) -> tuple[dict[str, Any], Y | None] | None:
        """The item in manifest form, and the node of its language-keyed part."""
        if not isinstance(y.value, dict):
            self.err(y, "an item must be a mapping with id, kind and duration_s")
            return None
        kind_y = y.value.get("kind")
        kind = kind_y.value if kind_y is not None else None
        if kind not in ITEM_KEYS:
            self.err(kind_y or y, f"item kind must be one of {', '.join(ITEM_KEYS)}, not {kind!r}")
            return None
        required = ("id", "kind", "duration_s", "text" if kind == "text" else "file")
        if not self.mapping(y, f"a {kind} item", ITEM_KEYS[kind], required):
            return None
        d = y.value
        item_id = self.ident(d["id"], "the item id") if self.sources(d) else None
        if item_id in seen:
            self.err(d["id"], f"item id '{item_id}' is used twice in this playlist")
            item_id = None
        elif item_id is not None:
            seen[item_id] = d["id"]
        duration = self.positive_int(d["duration_s"], "duration_s")
        if kind == "text":
            texts = self.titled_texts(d["text"], title_required=False)
            if item_id is None or duration is None or texts is None:
                return None
            item = {"id": item_id, "kind": kind, "duration_s": duration, "variants": texts}
            return item, d["text"]
        ref = self.media(d["file"], kind)
        captions = self.texts(d["caption"], "the caption") if "caption" in d else {}
        if item_id is None or duration is None or ref is None or captions is None:
            return None
        variants: dict[str, dict[str, Any]] = {
            lang: {"asset": ref, "caption": text} for lang, text in captions.items()
        }
        variants.setdefault("vi", {"asset": ref})
        item = {"id": item_id, "kind": kind, "duration_s": duration, "variants": variants}
        return item, d.get("caption")

    def titled_texts(self, y: Y, *, title_required: bool) -> dict[str, dict[str, str]] | None:
        """``{lang: {title, body}}``. An item's text needs a title or a body; a kiosk
        page's (``title_required``) a title in every language, the body optional."""
        if not isinstance(y.value, dict) or not y.value:
            self.err(y, "text must map language codes to {title: ..., body: ...}")
            return None
        required = ("title",) if title_required else ()
        out = {}
        for code, v in y.value.items():
            if not self.language(v, code):
                continue
            if not self.mapping(v, f"the '{code}' text", ("title", "body"), required):
                continue
            parts = {k: p.value for k, p in v.value.items()}
            if not parts or not all(isinstance(p, str) and p.strip() for p in parts.values()):
                if title_required:
                    self.err(v, f"the '{code}' title and body must be non-empty text")
                else:
                    self.err(v, f"the '{code}' text needs a title or a body, as non-empty text")
                continue
            out[code] = {"title": parts.get("title", ""), "body": parts.get("body", "")}
        return out if len(out) == len(y.value) else None

    def playlist(self, y: Y) -> tuple[PlaylistDraft, Y, list[tuple[dict[str, Any], Y]]] | None:
        if not self.mapping(y, "a playlist", PLAYLIST_KEYS, ("id", "site", "name", "items")):
            return None
        d = y.value
        pid = self.ident(d["id"], "the playlist id")
        site_id = self.ident(d["site"], "the site")
        name = self.texts(d["name"], "the playlist name")
        ok = True
        priority = 0
        if "priority" in d:
            p = d["priority"].value
            if isinstance(p, int) and not isinstance(p, bool):
                priority = p
            else:
                self.err(d["priority"], f"priority must be a whole number, not {p!r}")
                ok = False
        fallback = False
        if "fallback" in d:
            if isinstance(d["fallback"].value, bool):
                fallback = d["fallback"].value
            else:
                self.err(d["fallback"], "fallback must be true or false")
                ok = False
        schedule_ok, schedule = self.schedule(d["schedule"]) if "schedule" in d else (True, None)
        bilingual = "sequential"
        if "bilingual" in d:
            if d["bilingual"].value in BILINGUAL_MODES:
                bilingual = d["bilingual"].value
            else:
                self.err(d["bilingual"], f"bilingual must be {' or '.join(BILINGUAL_MODES)}")
                ok = False
        items_y = d["items"]
        if not isinstance(items_y.value, list) or not items_y.value:
            self.err(items_y, "items must be a non-empty list")
            return None
        seen: dict[str, Y] = {}
        checked = [self.item(i, seen) for i in items_y.value]
        good = [c for c in checked if c is not None]
        if pid is None or site_id is None or name is None or not schedule_ok or not ok:
            return None
        groups: list[str] | None = []
        if "groups" in d:
            groups = self.id_list(d["groups"], "groups")
        if len(good) != len(checked) or groups is None:
            return None
        draft = PlaylistDraft(
            pid, site_id, name, priority, fallback, schedule, [c[0] for c in good], groups,
            d.get("groups"), bilingual,
        )  # fmt: skip
        localised = [(item, node) for item, node in good if node is not None]
        return draft, d["site"], localised

    def id_list(self, y: Y, what: str, example: str = "adot-hall-screens") -> list[str] | None:
        """A list of distinct ids, like ``groups: [adot-hall-screens]``."""
        if not isinstance(y.value, list):
            self.err(y, f"{what} must be a list of ids, like [{example}]")
            return None
        out: list[str] = []
        for entry in y.value:
            ident = self.ident(entry, f"{what}:")
            if ident is not None and ident in out:
                self.err(entry, f"{what}: '{ident}' is listed twice")
            elif ident is not None:
                out.append(ident)
        return out if len(out) == len(y.value) else None

    def sources(self, d: dict[str, Y]) -> bool:
        """``sources: [decree-134-2016-art6]``: ids of docs/content.md's Sources, checked
        for shape only (tests/server/test_content_sources.py checks they are listed)
        and not stored: the screens show the text, the docs keep the sources."""
        if "sources" not in d:
            return True
        return self.id_list(d["sources"], "sources", "decree-134-2016-art6") is not None

    # --- kiosk pages ---------------------------------------------------------

    def _page(
        self,
        y: Y,
        kind: str,
        site: tuple[str, Y] | None,
        parent_id: str | None,
        index: int,
    ) -> CheckedPage | None:
        d = y.value
        page_id = self.ident(d["id"], f"the {kind} id") if self.sources(d) else None
        position = index
        if "position" in d:
            p = d["position"].value
            if isinstance(p, int) and not isinstance(p, bool) and p >= 0:
                position = p
            else:
                self.err(d["position"], f"position must be a whole number from 0, not {p!r}")
                page_id = None
        texts = self.titled_texts(d["text"], title_required=True)
        ref = self.media(d["file"], "image") if "file" in d else None
        link = None
        if "link" in d:
            problem = link_problem(d["link"].value)
            if problem is None:
                link = d["link"].value
            else:
                self.err(d["link"], problem)
                page_id = None
        if page_id is None or texts is None or site is None or ("file" in d and ref is None):
            return None
        variants = {
            code: {**v, "image": ref} if ref is not None else dict(v) for code, v in texts.items()
        }
        if link is not None:
            for v in variants.values():
                v["link"] = link
        page = {"id": page_id, "site_id": site[0], "parent_id": parent_id, "kind": kind,
                "position": position, "variants": variants}  # fmt: skip
        return CheckedPage(page, y, d["text"], site[1])

    def pages(self, y: Y) -> list[CheckedPage] | None:
        """The categories under ``page:`` (one mapping or a list) and the pages in them."""
        entries = y.value if isinstance(y.value, list) else [y]
        if not entries:
            self.err(y, "page: holds a category, or a list of categories")
            return None
        out: list[CheckedPage] = []
        ok = True
        for index, cat_y in enumerate(entries):
            if not self.mapping(cat_y, "a page category", CATEGORY_KEYS, ("id", "site", "text")):
                ok = False
                continue
            d = cat_y.value
            site_id = self.ident(d["site"], "the site")
            site = None if site_id is None else (site_id, d["site"])
            category = self._page(cat_y, "category", site, None, index)
            children: list[CheckedPage | None] = []
            pages_y = d.get("pages")
            if pages_y is not None and not isinstance(pages_y.value, list):
                self.err(pages_y, "pages must be a list of pages, each with id and text")
                ok = False
            for i, page_y in enumerate(
                pages_y.value if pages_y and isinstance(pages_y.value, list) else []
            ):
                if not self.mapping(page_y, "a page", PAGE_KEYS, ("id", "text")):
                    children.append(None)
                    continue
                parent = category.page["id"] if category is not None else None
                children.append(self._page(page_y, "page", site, parent, i))
            if category is None or any(c is None for c in children):
                ok = False
                continue
            out.append(category)
            out.extend(c for c in children if c is not None)
        return out if ok else None


@dataclass
class CheckedLayout:
    """A ``layout:`` or ``ticker:`` file: the site's layout (None for ``ticker:``) and its
    notices, each ``{id, site_id, position, texts, until}`` with its node."""

    site_id: str
    site: Y
    layout: dict[str, Any] | None
    notices: list[tuple[dict[str, Any], Y]]


def layout_rules(f: FileRules, y: Y, what: str) -> CheckedLayout | None:
    """``layout:`` (what === "layout") or ``ticker:`` (notices only)."""
    keys = LAYOUT_KEYS if what == "layout" else TICKER_KEYS
    if not f.mapping(y, f"a {what}", keys, ("site",)):
        return None
    d = y.value
    site_id = f.ident(d["site"], "the site")
    ok = site_id is not None
    layout: dict[str, Any] | None = None
    if what == "layout":
        layout = {"orientation": "landscape", "header": True, "ticker": True, "title": {}}
        if "orientation" in d:
            if d["orientation"].value in ORIENTATIONS:
                layout["orientation"] = d["orientation"].value
            else:
                f.err(d["orientation"], f"orientation must be {' or '.join(ORIENTATIONS)}")
                ok = False
        for key in ("header", "ticker"):
            if key in d:
                if isinstance(d[key].value, bool):
                    layout[key] = d[key].value
                else:
                    f.err(d[key], f"{key} must be true or false")
                    ok = False
        if "title" in d:
            title = f.texts(d["title"], "the header title")
            ok = ok and title is not None and _one_line(f, d["title"], "title", title or {})
            layout["title"] = title or {}
    notices: list[tuple[dict[str, Any], Y]] = []
    if "notices" in d:
        node = d["notices"]
        if not isinstance(node.value, list):
            f.err(node, "notices must be a list of {id, text, until?}")
            return None
        for position, entry in enumerate(node.value):
            notice = _notice_rules(f, entry, position)
            if notice is None:
                ok = False
            else:
                notices.append((notice, entry))
    if not ok or site_id is None:
        return None
    for notice, _ in notices:
        notice["site_id"] = site_id
    return CheckedLayout(site_id, d["site"], layout, notices)


def _one_line(f: FileRules, y: Y, what: str, texts: dict[str, str]) -> bool:
    try:
        parse_title(texts)
    except ManifestError as e:
        f.err(y, str(e))
        return False
    return True


def _notice_rules(f: FileRules, y: Y, position: int) -> dict[str, Any] | None:
    if not f.mapping(y, "a notice", NOTICE_KEYS, ("id", "text")):
        return None
    d = y.value
    nid = f.ident(d["id"], "the notice id")
    if not f.sources(d):
        return None
    texts = f.texts(d["text"], "the notice text")
    until = d["until"].value if "until" in d else None
    if isinstance(until, datetime):  # YAML reads an unquoted time itself
        until = until.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if until.tzinfo else until
    if nid is None or texts is None:
        return None
    try:
        checked = parse_notice({"id": nid, "texts": texts, "until": until}, f"notice {nid}")
    except ManifestError as e:
        f.err(d.get("until", d["text"]) if "until" in str(e) else d["text"], str(e))
        return None
    return {
        "id": nid,
        "position": position,
        "texts": checked.texts,
        "until": until,
    }
