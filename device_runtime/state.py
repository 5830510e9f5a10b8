"""Trust state on disk under ``data_dir/state/``.

    state/manifest.json   the last good signed envelope, byte for byte as received
    state/trust.json      {"held_version", "newest_issued_at", "etag"}
    state/keys.json       {"learned": ["<keyid>:<base64>", ...]}: keys a rotation taught
    state/session.json    {"session": n}: the MQTT session counter

The keys trusted are those provisioned in the config plus those learned from
a key rotation (``signage_core.trust.rotated_keys``); ``learn_keys`` keeps the
learned set on disk so a manifest signed only by the new key verifies after a
reboot.

Every file is written atomically (temp file, fsync, rename, folder fsync). On
start ``TrustState.load`` re-verifies the stored envelope with
``signage_core.trust``: a manifest that has expired since is still returned,
flagged ``expired`` (a post offline for a month must not go dark), and a
corrupt file is ignored and reported in ``problems``, never raised.

Trusted time has one floor: the newest ``issued_at`` of a manifest the device
accepted, a value the server signed, plus the time elapsed since the device
learned it (``time.monotonic``; counted from the start after a reboot). A device
clock more than that manifest's lifetime beyond the floor is not trusted
(``signage_core.trust.trusted_time``): trusted time is then the floor and
``clock_suspect`` is reported. The
HTTP ``Date`` of an answer is not signed (a man in the middle or a captive
portal writes what it likes), so it only measures ``clock_skew_s`` and is never
kept. A ``trust.json`` written by an older version may still hold such a
``server_date``: ``load`` ignores it, says so in ``problems`` and rewrites the
file without it, so a device once told "2100" plays fresh manifests again.

The trust decisions themselves are ``signage_core.trust``'s.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from signage_core.errors import ManifestError, RefusedError
from signage_core.manifest import Manifest
from signage_core.signing import PublicKey
from signage_core.timefmt import format_time, parse_time
from signage_core.trust import (
    SignedTime,
    TrustContext,
    TrustedTime,
    accept_manifest,
    trusted_time,
)

from .errors import StateError

log = logging.getLogger(__name__)

_BEGINNING = datetime.min.replace(tzinfo=UTC)
# The lifetime assumed for a floor whose manifest is not held (the server's default).
DEFAULT_LIFETIME = timedelta(days=30)


def atomic_write(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so that a power cut leaves the old or the new file."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with tmp.open("wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as e:
        raise StateError(f"cannot write {path}: {e}") from e


@dataclass(frozen=True)
class TrustRecord:
    held_version: int | None = None
    newest_issued_at: datetime | None = None
    etag: str | None = None
    # Read from files of older versions only, to report and drop it: never a floor.
    legacy_server_date: datetime | None = None

    def to_json(self) -> bytes:
        def t(v: datetime | None) -> str | None:
            return format_time(v) if v else None

        doc = {
            "held_version": self.held_version,
            "newest_issued_at": t(self.newest_issued_at),
            "etag": self.etag,
        }
        return json.dumps(doc, indent=2).encode("utf-8") + b"\n"

    @classmethod
    def from_json(cls, raw: bytes) -> TrustRecord:
        doc = json.loads(raw)
        if not isinstance(doc, dict):
            raise ValueError("not a JSON object")
        version = doc.get("held_version")
        if version is not None and (not isinstance(version, int) or isinstance(version, bool)):
            raise ValueError("held_version is not a whole number")
        etag = doc.get("etag")
        if etag is not None and not isinstance(etag, str):
            raise ValueError("etag is not a string")

        def t(key: str) -> datetime | None:
            v = doc.get(key)
            return None if v is None else parse_time(v, key)

        return cls(version, t("newest_issued_at"), etag, t("server_date"))


@dataclass(frozen=True)
class LoadedState:
    envelope_bytes: bytes | None
    manifest: Manifest | None
    expired: bool
    problems: tuple[str, ...]


def _later(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None or b is None:
        return a or b
    return max(a, b)


class TrustState:
    """What the device trusts, kept across power cuts. Written by the sync worker only;
    ``trusted`` is also read by the command, alert and heartbeat threads (two readers
    racing to note a new floor only start its count a moment later: never too late a
    trusted time)."""

    def __init__(
        self,
        state_dir: Path,
        device_id: str,
        trusted_keys: dict[str, PublicKey],
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.dir = state_dir
        self.device_id = device_id
        self.provisioned = dict(trusted_keys)
        self.learned: dict[str, PublicKey] = {}
        self.record = TrustRecord()
        self.monotonic = monotonic
        self.lifetime = DEFAULT_LIFETIME  # of the manifest that set the floor
        self._learned: datetime | None = None  # the floor, and when (monotonic) it was learned
        self._learned_mono = 0.0
        self._suspect_logged = False
        try:
            state_dir.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StateError(f"cannot create the state folder {state_dir}: {e}") from e

    @property
    def trusted_keys(self) -> dict[str, PublicKey]:
        return {**self.learned, **self.provisioned}

    @property
    def keys_path(self) -> Path:
        return self.dir / "keys.json"

    def _load_keys(self, problems: list[str]) -> None:
        self.learned = {}
        try:
            doc = json.loads(self.keys_path.read_bytes())
            for spec in doc["learned"]:
                key = PublicKey.parse(spec)
                self.learned[key.keyid] = key
        except FileNotFoundError:
            pass
        except (OSError, ValueError, KeyError, TypeError) as e:
            problems.append(f"keys.json is unreadable and was ignored: {e!r}")
            self.learned = {}

    def learn_keys(self, keys: dict[str, PublicKey]) -> None:
        """Trust ``keys`` (from an accepted rotation) from now on, beside the provisioned ones."""
        learned = {k: v for k, v in keys.items() if k not in self.provisioned}
        if learned == self.learned:
            return
        added = sorted(set(learned) - set(self.learned))
        retired = sorted(set(self.learned) - set(learned))
        doc = {"learned": [k.spec() for _, k in sorted(learned.items())]}
        atomic_write(self.keys_path, json.dumps(doc, indent=2).encode("utf-8") + b"\n")
        self.learned = learned
        log.warning(
            "state: signing keys learned %s, retired %s", added or "none", retired or "none"
        )

    @property
    def manifest_path(self) -> Path:
        return self.dir / "manifest.json"

    @property
    def trust_path(self) -> Path:
        return self.dir / "trust.json"

    def signed_time(self) -> SignedTime | None:
        """The newest signed time, its manifest's lifetime and the time since it was learned."""
        issued_at = self.record.newest_issued_at
        if issued_at is None:
            return None
        if self._learned != issued_at:  # raised since: count from now
            self._learned, self._learned_mono = issued_at, self.monotonic()
        elapsed = timedelta(seconds=max(0.0, self.monotonic() - self._learned_mono))
        return SignedTime(issued_at, self.lifetime, elapsed)

    def trusted(self, device_clock: datetime) -> TrustedTime:
        """Trusted time now, and whether the device clock is suspect."""
        judged = trusted_time(device_clock, self.signed_time())
        if judged.clock_suspect != self._suspect_logged:
            self._suspect_logged = judged.clock_suspect
            if judged.clock_suspect:
                log.warning(
                    "trust: the device clock (%s) is more than a manifest lifetime beyond the "
                    "newest signed time (%s): it is not trusted; expiry is judged by the signed "
                    "time until the clock is fixed (NTP)",
                    format_time(device_clock), format_time(judged.now),
                )  # fmt: skip
            else:
                log.info("trust: the device clock agrees with the signed time again")
        return judged

    def trusted_now(self, device_clock: datetime) -> datetime:
        return self.trusted(device_clock).now

    def _lifetime_of(self, manifest: Manifest) -> None:
        newest = self.record.newest_issued_at
        if newest is None or manifest.issued_at >= newest:
            self.lifetime = manifest.expires_at - manifest.issued_at

    def load(self, device_clock: datetime) -> LoadedState:
        """Read and re-verify the last good manifest; report, never raise, what is wrong."""
        problems: list[str] = []
        self._load_keys(problems)
        try:
            self.record = TrustRecord.from_json(self.trust_path.read_bytes())
        except FileNotFoundError:
            self.record = TrustRecord()
        except (OSError, ValueError, ManifestError) as e:
            problems.append(f"trust.json is unreadable and was ignored: {e}")
            self.record = TrustRecord()
        legacy = self.record.legacy_server_date
        if legacy is not None:
            problems.append(
                f"trust.json held an unsigned server Date ({format_time(legacy)}) as a floor "
                "on the time; it was dropped: trusted time comes from signed manifests only"
            )
            self.record = replace(self.record, legacy_server_date=None)
            try:
                self._save_record()
            except StateError as e:
                problems.append(str(e))

        try:
            raw: bytes | None = self.manifest_path.read_bytes()
        except FileNotFoundError:
            raw = None
        except OSError as e:
            problems.append(f"manifest.json is unreadable and was ignored: {e}")
            raw = None
        manifest = None
        if raw is not None:
            try:
                envelope: Any = json.loads(raw)
                # Expiry is judged below: an expired manifest already held keeps playing.
                ctx = TrustContext(
                    self.device_id, self.trusted_keys, self.record.held_version, _BEGINNING
                )
                manifest = accept_manifest(envelope, ctx)
            except (ValueError, RefusedError) as e:
                reason = getattr(e, "reason", "malformed")
                problems.append(f"the stored manifest was refused ({reason}) and ignored: {e}")
                raw = None
        if manifest is None:
            for p in problems:
                log.warning("state: %s", p)
            return LoadedState(None, None, False, tuple(problems))
        self._lifetime_of(manifest)
        self.record = replace(
            self.record,
            held_version=manifest.version,
            newest_issued_at=_later(self.record.newest_issued_at, manifest.issued_at),
        )
        expired = manifest.is_expired(self.trusted_now(device_clock))
        for p in problems:
            log.warning("state: %s", p)
        return LoadedState(raw, manifest, expired, tuple(problems))

    def store_manifest(self, raw: bytes, manifest: Manifest, etag: str | None) -> None:
        """Keep ``raw`` (the envelope as received) as the last good manifest."""
        atomic_write(self.manifest_path, raw)
        self._lifetime_of(manifest)
        self.record = replace(
            self.record,
            held_version=manifest.version,
            newest_issued_at=_later(self.record.newest_issued_at, manifest.issued_at),
            etag=etag,
        )
        self._save_record()

    def note_issued_at(self, issued_at: datetime, lifetime: timedelta | None = None) -> None:
        """Raise the floor of the trusted time to a signed ``issued_at`` (of an accepted
        manifest, whose lifetime comes with it) and keep it on disk. Nothing unsigned may
        come here."""
        old = self.record.newest_issued_at
        if old is not None and issued_at <= old:
            return
        if lifetime is not None:
            self.lifetime = lifetime
        self.record = replace(self.record, newest_issued_at=issued_at)
        try:
            self._save_record()
        except StateError as e:
            log.warning("state: %s", e)

    def _save_record(self) -> None:
        atomic_write(self.trust_path, self.record.to_json())


class SessionCounter:
    """The MQTT session number: grows by one on every connect, kept in ``state/session.json``."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / "session.json"
        state_dir.mkdir(parents=True, exist_ok=True)

    def current(self) -> int:
        try:
            value = json.loads(self.path.read_bytes()).get("session", 0)
        except (OSError, ValueError, AttributeError):
            return 0
        return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0

    def next(self) -> int:
        n = self.current() + 1
        try:
            atomic_write(self.path, json.dumps({"session": n}).encode("utf-8"))
        except StateError as e:  # a full disk must not keep the device off MQTT
            log.warning("state: %s", e)
        return n
