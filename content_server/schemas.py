"""Request and response bodies of the HTTP API (pydantic models, in the OpenAPI document)."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

MAX_EVENTS_PER_BATCH = 500


class Event(BaseModel):
    """A proof-of-play or feedback record; fields beyond these are kept as sent."""

    model_config = ConfigDict(extra="allow")

    id: UUID = Field(description="Chosen by the device; a record sent twice is stored once.")
    kind: Literal["play", "feedback"]
    ts: AwareDatetime = Field(description="When it happened, with a UTC offset.")


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
