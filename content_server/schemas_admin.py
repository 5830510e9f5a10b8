"""Request and response bodies of the admin API (users, assets, playlists, pages, reports).

Every request body forbids unknown fields (``extra="forbid"``): a typo in a
field name is a 422 that names it, never silently ignored. Language codes
are checked against ``signage_core.languages`` by the routes (one message
listing the known codes). The device-facing bodies live in ``schemas.py``.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from signage_core.manifest import link_problem

ID = r"^[a-z0-9][a-z0-9-]{0,63}$"
SHA256 = r"^[0-9a-f]{64}$"
USERNAME = r"^[a-z0-9][a-z0-9._-]{1,31}$"
Role = Literal["admin", "editor", "viewer"]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
Text = Field(max_length=4000)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- users -------------------------------------------------------------------


class UserIn(Strict):
    username: str = Field(pattern=USERNAME, description="Lowercase letters, digits, . _ -")
    password: str = Field(min_length=10, max_length=200)
    role: Role
    site_id: str | None = Field(
        None,
        max_length=64,
        description="The site (and the sites below it) the user manages; "
        "null: every site (admins only).",
    )


class UserOut(BaseModel):
    username: str
    role: Role
    site_id: str | None
    disabled: bool


class PasswordChange(Strict):
    current_password: str = Field(max_length=200)
    new_password: str = Field(min_length=10, max_length=200)


class AuditEntry(BaseModel):
    id: int
    ts: str
    user: str
    action: str
    target: str
    address: str
    detail: dict[str, Any]


# --- assets -------------------------------------------------------------------


class AssetOut(BaseModel):
    sha256: str
    site_id: str
    original_name: str
    media_type: str
    size: int
    width: int | None = None
    height: int | None = None
    duration_s: float | None = Field(None, description="Videos: length in seconds.")
    fps: float | None = None
    frames: int | None = None
    thumbnail: str | None = Field(None, description="Videos: sha256 of a PNG still.")
    created_at: str
    created_by: str
    new: bool = Field(False, description="Upload answer: whether these bytes were new here.")


class AssetUseOut(BaseModel):
    site_id: str
    kind: Literal["playlist", "page"]
    id: str = Field(description="The playlist or kiosk page.")
    item_id: str | None = Field(description="Playlists: the item; pages: null.")
    language: str
    state: Literal["published", "draft"]


class AssetUsesOut(BaseModel):
    sha256: str
    used_in: list[AssetUseOut] = Field(
        description="At the sites you manage; an asset used anywhere cannot be deleted."
    )
    used_elsewhere: bool = Field(description="Also used at sites you do not manage.")


# --- playlists -------------------------------------------------------------------


class WindowIn(Strict):
    start: str = Field(pattern=r"^\d\d:\d\d$", description="Local time HH:MM")
    end: str = Field(pattern=r"^\d\d:\d\d$", description="HH:MM; before start: past midnight")


class ScheduleIn(Strict):
    start_date: date | None = None
    end_date: date | None = None
    weekdays: list[Weekday] | None = Field(None, min_length=1, max_length=7)
    windows: list[WindowIn] | None = Field(None, max_length=24)


class VariantIn(Strict):
    title: str | None = Field(None, max_length=200)
    body: str | None = Field(None, max_length=4000)
    asset: str | None = Field(None, pattern=SHA256, description="Image and video items.")
    caption: str | None = Field(None, max_length=400)


class ItemIn(Strict):
    id: str = Field(pattern=ID)
    kind: Literal["text", "image", "video"]
    duration_s: int = Field(ge=1, le=3600)
    variants: dict[str, VariantIn] = Field(min_length=1, max_length=12)


class PlaylistBody(Strict):
    site_id: str = Field(pattern=ID, description="Assigned here; inherited by sites below.")
    name: dict[str, str] = Field(min_length=1, max_length=12)
    priority: int = Field(0, ge=-1000, le=1000)
    fallback: bool = Field(False, description="Plays when no scheduled playlist does.")
    schedule: ScheduleIn | None = None
    items: list[ItemIn] = Field(min_length=1, max_length=200)
    groups: list[Annotated[str, Field(pattern=ID)]] = Field(
        default_factory=list,
        max_length=50,
        description="Device groups (at the site or below): if any, only their members "
        "play it; empty: every device of the site and the sites below.",
    )
    bilingual: Literal["sequential", "side_by_side"] = Field(
        "sequential",
        description="sequential: one language per card, in turn; side_by_side: the site's "
        "first two languages on one screen (vi | lo).",
    )


class PlaylistIn(PlaylistBody):
    id: str = Field(pattern=ID)


class PlaylistContent(BaseModel):
    site_id: str
    name: dict[str, str]
    priority: int
    fallback: bool
    schedule: dict[str, Any] | None
    items: list[dict[str, Any]]
    groups: list[str] = []
    bilingual: str = "sequential"


class PlaylistOut(BaseModel):
    id: str
    site_id: str
    draft: PlaylistContent
    live: PlaylistContent | None = Field(description="What devices play; null: never published.")
    unpublished_changes: bool
    updated_at: str
    warnings: list[str] = Field(description="Missing translations; required ones block publishing.")


class PublishOut(BaseModel):
    playlist_id: str
    revision: int
    version: int | None = Field(description="Manifest version signed; null: no device affected.")
    devices: list[str]
    warnings: list[str]


class CheckFindingOut(BaseModel):
    item_id: str
    language: str
    problem: Literal["missing-required", "missing-shown", "undrawable"] = Field(
        description="missing-required and undrawable block publishing; missing-shown: "
        "screens show a fallback language."
    )
    chars: list[str] = Field(description="undrawable: each character, like U+0E01 'ก' (Thai).")
    blocking: bool
    message: str


class CheckOut(BaseModel):
    publishable: bool = Field(description="Publishing this content now would be accepted.")
    findings: list[CheckFindingOut]


class RollbackIn(Strict):
    revision: int = Field(ge=1, description="The published revision to put back.")


class RevisionOut(BaseModel):
    revision: int
    published_at: str
    published_by: str
    note: str
    version: int | None


# --- sites, pages, reports ------------------------------------------------------


class SiteSettingsIn(Strict):
    manifest_ttl_days: int | None = Field(
        None, ge=1, le=365, description="Lifetime of this site's manifests; null: inherited."
    )


class PageVariantIn(Strict):
    title: str = Field(min_length=1, max_length=200)
    body: str = Field("", max_length=8000)
    image: str | None = Field(None, pattern=SHA256)
    link: str | None = Field(
        None, description="An official site (https:// only), shown as a QR code on the kiosk."
    )

    @field_validator("link")
    @classmethod
    def _https_link(cls, value: str | None) -> str | None:
        problem = None if value is None else link_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value


class PageIn(Strict):
    id: str = Field(pattern=ID)
    site_id: str = Field(pattern=ID)
    parent_id: str | None = Field(None, pattern=ID, description="A category; null: top level.")
    kind: Literal["category", "page"]
    position: int = Field(0, ge=0, le=10000)
    variants: dict[str, PageVariantIn] = Field(min_length=1, max_length=12)


class PageOut(BaseModel):
    id: str
    site_id: str
    parent_id: str | None
    kind: str
    position: int
    variants: dict[str, dict[str, Any]]
    updated_at: str


class GroupBody(Strict):
    site_id: str = Field(pattern=ID, description="Its scope: members are devices here or below.")
    name: str = Field(min_length=1, max_length=200)
    members: list[Annotated[str, Field(pattern=ID)]] = Field(
        default_factory=list, max_length=1000, description="Device ids."
    )


class GroupIn(GroupBody):
    id: str = Field(pattern=ID)


class GroupOut(BaseModel):
    id: str
    site_id: str
    name: str
    members: list[str]
    updated_at: str


class PlayCount(BaseModel):
    device_id: str
    playlist_id: str | None
    item_id: str | None
    language: str | None
    plays: int
    duration_ms: int


class DailyPlayOut(BaseModel):
    site_id: str
    device_id: str
    playlist_id: str | None
    item_id: str | None
    day: str = Field(description="Local date (Asia/Ho_Chi_Minh).")
    plays: int
    duration_ms: int


class UptimeOut(BaseModel):
    device_id: str
    site_id: str
    online_s: int = Field(description="Seconds the device was heard in the period.")
    period_s: int = Field(description="The period's seconds from enrolment, up to now.")
    percent: float | None = Field(description="online_s / period_s; null: empty period.")
    days: dict[str, int] = Field(description="{local date: seconds heard}, days heard only.")


class GateYearOut(BaseModel):
    site_id: str
    name: dict[str, str]
    devices: int
    plays: int
    play_hours: float
    online_s: float
    period_s: float
    feedback: int
    uptime_percent: float | None


# --- screen layouts and ticker notices (routers/layouts.py) ---------------------------


class LayoutBody(Strict):
    orientation: Literal["landscape", "portrait"] = "landscape"
    header: bool = Field(True, description="The site's name, the local date and a clock on top.")
    ticker: bool = Field(True, description="The notices of the site and above scroll below.")
    title: dict[str, str] = Field(
        default_factory=dict,
        max_length=12,
        description="The header's name per language; empty: each device's site name.",
    )


class LayoutOut(LayoutBody):
    site_id: str
    updated_at: str


class NoticeBody(Strict):
    site_id: str = Field(pattern=ID, description="Shown here and at every site below.")
    position: int = Field(0, ge=0, le=10000)
    texts: dict[str, str] = Field(
        min_length=1, max_length=12, description="One short line per language (160 at most)."
    )
    until: str | None = Field(None, description="UTC time it stops showing; null: until deleted.")


class NoticeIn(NoticeBody):
    id: str = Field(pattern=ID)


class NoticeOut(NoticeIn):
    updated_at: str


class FeedbackOut(BaseModel):
    """A traveller's feedback from a kiosk. ``comment`` is exactly as typed: plain text,
    never markup (show it as text)."""

    id: str
    site_id: str
    device_id: str
    ts: str = Field(description="When it was sent at the kiosk (UTC).")
    received_at: str = Field(description="When the server received it (UTC).")
    rating: int = Field(ge=1, le=5)
    language: str = Field(description="The kiosk's language when it was given.")
    page_id: str | None = Field(None, description="The kiosk page it is about, if chosen.")
    comment: str | None = None


class FeedbackPage(BaseModel):
    items: list[FeedbackOut] = Field(description="Newest first.")
    total: int = Field(description="Records matching the filters, on every page.")
    next_offset: int | None = Field(description="Ask with offset= this for the next page.")


class FeedbackCountOut(BaseModel):
    site_id: str
    rating: int
    language: str
    count: int
