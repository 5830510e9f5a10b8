"""Request and response bodies of the HTTP API (pydantic models, in the OpenAPI document)."""

from __future__ import annotations

import unicodedata
from typing import Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from signage_core.languages import LANGUAGES

MAX_EVENTS_PER_BATCH = 500
MAX_COMMENT_CHARS = 500


class Event(BaseModel):
    """A proof-of-play or feedback record; fields beyond these are kept as sent."""

    model_config = ConfigDict(extra="allow")

    id: UUID = Field(description="Chosen by the device; a record sent twice is stored once.")
    kind: Literal["play", "feedback"]
    ts: AwareDatetime = Field(description="When it happened, with a UTC offset.")

    @model_validator(mode="after")
    def _feedback_fields(self) -> Event:
        """A feedback record: ``rating`` 1..5, a known ``language``, optional ``page_id`` and
        ``comment`` (at most 500 characters). The messages never quote what was typed."""
        if self.kind != "feedback":
            return self
        extra = self.model_extra or {}
        rating = extra.get("rating")
        if type(rating) is not int or not 1 <= rating <= 5:
            raise ValueError("a feedback record needs a rating, a whole number from 1 to 5")
        language = extra.get("language")
        if not isinstance(language, str) or language not in LANGUAGES:
            known = ", ".join(LANGUAGES)
            raise ValueError(f"a feedback record needs its language, one of {known}")
        page_id = extra.get("page_id")
        if page_id is not None and (not isinstance(page_id, str) or not 0 < len(page_id) <= 64):
            raise ValueError("a feedback record's page_id is the id of a kiosk page, or absent")
        comment = extra.get("comment")
        if comment is not None:
            if not isinstance(comment, str):
                raise ValueError("a feedback comment is text")
            if len(unicodedata.normalize("NFC", comment)) > MAX_COMMENT_CHARS:
                raise ValueError(f"a feedback comment has at most {MAX_COMMENT_CHARS} characters")
        return self


class EventBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    events: list[Event] = Field(max_length=MAX_EVENTS_PER_BATCH)


class EventsAccepted(BaseModel):
    accepted: int = Field(description="Records stored now.")
    duplicates: int = Field(description="Records already stored before (resent).")


class PublicKeyOut(BaseModel):
    keyid: str
    public: str = Field(description="The raw ed25519 public key, base64.")
    spec: str = Field(description="As written in a device's trusted_keys: '<keyid>:<base64>'.")


class KeysOut(BaseModel):
    keys: list[PublicKeyOut]


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the token expires.")


class SiteOut(BaseModel):
    id: str
    parent_id: str | None
    name: dict[str, str]
    languages: list[str] = Field(description="Shown on its screens (inherited if not set).")
    required_languages: list[str]
    manifest_ttl_days: int | None = Field(None, description="Set here; null: inherited.")


class DeviceOut(BaseModel):
    id: str
    site_id: str
    created_at: str
    revoked: bool
    manifest_version: int | None = Field(description="Newest published manifest, if any.")


class Health(BaseModel):
    status: Literal["ok"] = "ok"
