"""Rotating the server's signing key without visiting the devices.

    rotate-key           make DATA/keys/signing-next.key; every device gets a new
                         manifest signed by the current AND the next key and listing
                         both, from which it learns the next key
    rotate-key --status  which devices have caught up
    rotate-key --finish  refused while a device lags (unless forced); the current
                         key is retired to DATA/keys/retired/, the next one becomes
                         current, and every device gets a manifest signed by it alone

A device has caught up when its newest heartbeat reports a manifest version at
least the first version of its manifest signed by the next key: every manifest
from then on is signed by both (``publish`` signs with every key on disk), and
a device plays only what it has accepted. What the server knows is the fleet
health table (heartbeats over MQTT): a device that never sent one, or a server
without a broker, counts as lagging.

A device that missed every manifest signed by both keys refuses the first one
signed by the new key alone (``unknown_key``) and keeps playing its last good
one, until a technician puts the new key in its ``trusted_keys`` (or it is
enrolled again with ``add-device --replace``).

The key files are ``keys.py``'s, the signing ``publishing.py``'s; a running
``serve`` picks the new keys up by itself (``state.ServerState``). ``now`` is
an argument.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from signage_core.signing import SigningKey
from signage_core.timefmt import format_time
from signage_core.trust import valid_signers

from .errors import ConflictError
from .keys import create_next_signing_key, load_signing_key, promote_next_key
from .publishing import PublishResult, publish
from .settings import Settings
from .store import FleetStore, Store


class NoRotationError(ConflictError):
    title = "No key rotation under way"
    code = "no-key-rotation"


class DevicesLagError(ConflictError):
    title = "Devices have not caught up"
    code = "devices-lag"

    def __init__(self, message: str, lagging: list[DeviceProgress]) -> None:
        super().__init__(message)
        self.lagging = lagging


@dataclass(frozen=True)
class DeviceProgress:
    device_id: str
    needed: int | None  # first version of its manifest signed by the next key; None: none yet
    reported: int | None  # manifest version of its newest heartbeat
    reported_at: str | None  # when the server received that heartbeat

    @property
    def caught_up(self) -> bool:
        if self.needed is None or self.reported is None:
            return False
        return self.reported >= self.needed

    def describe(self) -> str:
        if self.needed is None:
            return (
                f"{self.device_id} (no manifest signed by the new key yet; "
                "run `content-server publish`)"
            )
        if self.reported is None:
            return f"{self.device_id} (no heartbeat yet; needs version {self.needed})"
        state = "caught up" if self.caught_up else f"needs {self.needed}"
        return f"{self.device_id} (version {self.reported} at {self.reported_at}; {state})"


@dataclass(frozen=True)
class RotationStatus:
    current: SigningKey
    next: SigningKey
    devices: list[DeviceProgress]

    @property
    def lagging(self) -> list[DeviceProgress]:
        return [d for d in self.devices if not d.caught_up]


@dataclass(frozen=True)
class RotationStarted:
    current: SigningKey
    next: SigningKey
    result: PublishResult


@dataclass(frozen=True)
class RotationFinished:
    retired: SigningKey
    current: SigningKey
    result: PublishResult
    lagging: list[DeviceProgress]  # devices left behind by --force


def _ttl(settings: Settings) -> timedelta:
    return timedelta(days=settings.manifest_ttl_days)


def first_version_signed_by(store: Store, device_id: str, key: SigningKey) -> int | None:
    """The oldest version of the unbroken run of the device's newest manifests that
    ``key`` signed and that list it, or None if its newest manifest does not."""
    trusted = {key.keyid: key.public}
    found = None
    for version in store.manifest_versions(device_id):
        body = store.manifest_envelope(device_id, version)
        if body is None:
            break
        envelope = json.loads(body)
        listed = envelope["signed"].get("keys") or []
        if key.public.spec() not in listed or not valid_signers(envelope, trusted):
            break
        found = version
    return found


def _progress(store: Store, key: SigningKey) -> list[DeviceProgress]:
    health = FleetStore(store).health()
    devices = []
    for device in store.devices():
        row = health.get(device.id)
        beat = row.heartbeat if row is not None else None
        reported = beat.get("manifest_version") if isinstance(beat, dict) else None
        if not isinstance(reported, int) or isinstance(reported, bool):
            reported = None
        devices.append(
            DeviceProgress(
                device.id,
                first_version_signed_by(store, device.id, key),
                reported,
                row.heartbeat_at if row is not None and reported is not None else None,
            )
        )
    return devices


def _keys_under_rotation(settings: Settings) -> tuple[SigningKey, SigningKey]:
    current = load_signing_key(settings.signing_key_path)
    if not settings.next_signing_key_path.exists():
        raise NoRotationError(
            f"no key rotation is under way ({settings.next_signing_key_path} does not exist); "
            "start one with `content-server rotate-key`"
        )
    return current, load_signing_key(settings.next_signing_key_path)


def rotation_status(settings: Settings, store: Store) -> RotationStatus:
    current, new = _keys_under_rotation(settings)
    return RotationStatus(current, new, _progress(store, new))


def start_rotation(
    settings: Settings, store: Store, now: datetime, *, user: str, address: str
) -> RotationStarted:
    """Make the next key and sign a manifest for every device with both keys."""
    current = load_signing_key(settings.signing_key_path)
    new = create_next_signing_key(settings)
    store.audit(
        format_time(now),
        user,
        "start key rotation",
        new.keyid,
        address,
        {"current": current.keyid, "next": new.keyid},
    )
    result = publish(
        store,
        [current, new],
        now,
        _ttl(settings),
        user=user,
        address=address,
        reason=f"key rotation: signed by {current.keyid} and {new.keyid}",
    )
    return RotationStarted(current, new, result)


def finish_rotation(
    settings: Settings, store: Store, now: datetime, *, user: str, address: str, force: bool
) -> RotationFinished:
    """Retire the current key, make the next one current, sign every manifest with it alone.

    ``DevicesLagError`` while a device has not caught up, unless ``force``."""
    status = rotation_status(settings, store)
    lagging = status.lagging
    if lagging and not force:
        names = ", ".join(d.describe() for d in lagging)
        raise DevicesLagError(
            f"{len(lagging)} device(s) have not yet reported a manifest signed by the new key "
            f"{status.next.keyid}: {names}. Wait until they have (`content-server rotate-key "
            "--status`), or add --force: they would then refuse every new manifest until a "
            "technician adds the new key to their trusted_keys",
            lagging,
        )
    retired, current = promote_next_key(settings)
    store.audit(
        format_time(now),
        user,
        "finish key rotation",
        current.keyid,
        address,
        {
            "retired": retired.keyid,
            "current": current.keyid,
            "forced_past": [d.device_id for d in lagging],
        },
    )
    result = publish(
        store,
        [current],
        now,
        _ttl(settings),
        user=user,
        address=address,
        reason=f"key rotation finished: signed by {current.keyid} alone",
    )
    return RotationFinished(retired, current, result, lagging)
