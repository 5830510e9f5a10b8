"""The playlist editor's form: fields in, a ``PlaylistIn`` body out, with messages next to
the fields (in the catalog's English; the page shows them translated).

Field names: ``id``, ``site_id``, ``name-<lang>``, ``priority``, ``fallback``,
``weekday`` (repeated), ``win-<n>-start`` / ``win-<n>-end``, ``start_date``,
``end_date``, and per item ``item-<i>-id``, ``-kind``, ``-duration``, ``-position``,
``-remove``, ``-<lang>-title`` / ``-body`` (text) or ``-asset`` / ``-caption``
(pictures and videos). A language left empty is no variant: the pre-publish check
then names it. Pure: no store, no request.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from signage_core.schedule import WEEKDAYS

from .i18n import N_

ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
TIME_RE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
KINDS = ("text", "image", "video")
WINDOWS = 3
ID_MESSAGE = N_(
    "Use lowercase letters, digits and hyphens, starting with your site's id "
    "(for example adot-welcome)."
)


@dataclass
class Parsed:
    body: dict[str, Any]
    errors: dict[str, str] = field(default_factory=dict)  # field name -> message id


def _get(form: Mapping[str, Any], name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def item_indexes(form: Mapping[str, Any]) -> list[int]:
    found = {int(m.group(1)) for k in form if (m := re.match(r"^item-(\d+)-kind$", k))}
    return sorted(found)


def parse(form: Mapping[str, Any], languages: Sequence[str], new: bool) -> Parsed:
    errors: dict[str, str] = {}
    body: dict[str, Any] = {}
    if new:
        pid = _get(form, "id")
        if not ID_RE.match(pid):
            errors["id"] = ID_MESSAGE
        body["id"] = pid
    body["site_id"] = _get(form, "site_id")
    names = {code: _get(form, f"name-{code}") for code in languages}
    body["name"] = {c: n for c, n in names.items() if n}
    if not names.get("vi"):
        errors["name-vi"] = N_("Give the playlist a name in Vietnamese.")
    try:
        body["priority"] = int(_get(form, "priority") or "0")
        if not -1000 <= body["priority"] <= 1000:
            raise ValueError
    except ValueError:
        errors["priority"] = N_("The priority is a whole number from -1000 to 1000.")
    body["fallback"] = bool(form.get("fallback"))
    body["schedule"] = _schedule(form, errors)
    body["items"] = _items(form, languages, errors)
    if not body["items"] and "items" not in errors:
        errors["items"] = N_("A playlist needs at least one item.")
    return Parsed(body, errors)


def _schedule(form: Mapping[str, Any], errors: dict[str, str]) -> dict[str, Any] | None:
    raw = form.get("weekday") or []
    days = [d for d in ([raw] if isinstance(raw, str) else raw) if d in WEEKDAYS]
    out: dict[str, Any] = {}
    if days and len(days) < 7:
        out["weekdays"] = days
    windows = []
    for n in range(WINDOWS):
        start, end = _get(form, f"win-{n}-start"), _get(form, f"win-{n}-end")
        if not start and not end:
            continue
        if not TIME_RE.match(start):
            errors[f"win-{n}-start"] = N_("Give a time like 07:00.")
        if not (TIME_RE.match(end) or end == "24:00"):
            errors[f"win-{n}-end"] = N_("Give a time like 11:30 (before the start: past midnight).")
        elif start == end:
            errors[f"win-{n}-end"] = N_("The end must differ from the start.")
        windows.append({"start": start, "end": end})
    if windows:
        out["windows"] = windows
    for key in ("start_date", "end_date"):
        value = _get(form, key)
        if value and not DATE_RE.match(value):
            errors[key] = N_("Give a date like 2026-12-01.")
        elif value:
            out[key] = value
    if out.get("start_date") and out.get("end_date") and out["end_date"] < out["start_date"]:
        errors["end_date"] = N_("The last day is before the first day.")
    return out or None


def _items(
    form: Mapping[str, Any], languages: Sequence[str], errors: dict[str, str]
) -> list[dict[str, Any]]:
    rows = []
    for i in item_indexes(form):
        p = f"item-{i}"
        kind = _get(form, f"{p}-kind")
        if form.get(f"{p}-remove") or not kind:
            continue
        iid = _get(form, f"{p}-id")
        texts = [_get(form, f"{p}-{c}-{k}") for c in languages for k in ("title", "body", "asset")]
        if not iid and not any(texts):
            continue  # the empty row for a new item, left empty
        if kind not in KINDS:
            errors[f"{p}-kind"] = N_("Choose text, picture or video.")
            continue
        if not ID_RE.match(iid):
            errors[f"{p}-id"] = N_("Give the item a short id: lowercase letters, digits, hyphens.")
        try:
            duration = int(_get(form, f"{p}-duration"))
            if not 1 <= duration <= 3600:
                raise ValueError
        except ValueError:
            errors[f"{p}-duration"] = N_("Seconds on screen: a whole number from 1 to 3600.")
            duration = 10
        try:
            position = float(_get(form, f"{p}-position") or i)
        except ValueError:
            position = float(i)
        variants: dict[str, dict[str, str]] = {}
        for code in languages:
            if kind == "text":
                title, text = _get(form, f"{p}-{code}-title"), _get(form, f"{p}-{code}-body")
                if title or text:
                    variants[code] = {"title": title, "body": text}
            else:
                asset = _get(form, f"{p}-{code}-asset")
                caption = _get(form, f"{p}-{code}-caption")
                if asset:
                    variants[code] = {"asset": asset, **({"caption": caption} if caption else {})}
                elif caption:
                    errors[f"{p}-{code}-asset"] = N_("Choose the file this caption goes with.")
        if not variants:
            errors[
                f"{p}-{languages[0]}-title" if kind == "text" else f"{p}-{languages[0]}-asset"
            ] = N_("Fill in at least the Vietnamese.")
        rows.append((position, i, {"id": iid, "kind": kind, "duration_s": duration,
                                   "variants": variants}))  # fmt: skip
    seen: set[str] = set()
    for _, i, item in rows:
        iid = str(item["id"])
        if iid in seen:
            errors[f"item-{i}-id"] = N_("Two items have this id; give each its own.")
        seen.add(iid)
    return [item for _, _, item in sorted(rows, key=lambda r: (r[0], r[1]))]


def form_of(content: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of stored playlist content (``Playlist.content()`` with its id)."""
    out: dict[str, Any] = {"id": content.get("id", ""), "site_id": content["site_id"]}
    for code, name in content["name"].items():
        out[f"name-{code}"] = name
    out["priority"] = str(content.get("priority", 0))
    out["fallback"] = "1" if content.get("fallback") else ""
    sched = content.get("schedule") or {}
    out["weekday"] = list(sched.get("weekdays") or [])
    for n, w in enumerate(sched.get("windows") or []):
        out[f"win-{n}-start"], out[f"win-{n}-end"] = w["start"], w["end"]
    out["start_date"] = sched.get("start_date", "")
    out["end_date"] = sched.get("end_date", "")
    for i, item in enumerate(content["items"]):
        p = f"item-{i}"
        out[f"{p}-id"], out[f"{p}-kind"] = item["id"], item["kind"]
        out[f"{p}-duration"], out[f"{p}-position"] = str(item["duration_s"]), str(i + 1)
        for code, v in item["variants"].items():
            for k in ("title", "body", "asset", "caption"):
                if v.get(k):
                    out[f"{p}-{code}-{k}"] = v[k]
    return out
