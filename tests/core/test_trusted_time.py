"""The device clock against the signed time: when a clock far ahead is not trusted.

``signage_core.trust.trusted_time``: time is an argument; a table of cases, then the
properties that keep every protection (Hypothesis).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from signage_core.errors import RefusedError
from signage_core.trust import (
    SignedTime,
    TrustContext,
    TrustedTime,
    accept_manifest,
    trusted_time,
)

from .manifests import KEY, envelope

T0 = datetime(2026, 11, 26, 5, 0, tzinfo=UTC)
DAY = timedelta(days=1)
LIFE = timedelta(days=30)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("clock", "signed", "expected"),
    [
        # nothing signed yet: the clock is all there is
        (T0, None, TrustedTime(T0, False)),
        # a correct clock, a manifest signed a day ago
        (T0, SignedTime(T0 - DAY, LIFE), TrustedTime(T0, False)),
        # a clock reset to 1970: the signed time is the floor
        (EPOCH, SignedTime(T0, LIFE), TrustedTime(T0, False)),
        # ... plus the time counted since (monotonic) it was learned
        (EPOCH, SignedTime(T0, LIFE, 2 * DAY), TrustedTime(T0 + 2 * DAY, False)),
        # a clock a year ahead: suspect, judged by the signed time
        (T0 + 365 * DAY, SignedTime(T0, LIFE), TrustedTime(T0, True)),
        (T0 + 365 * DAY, SignedTime(T0, LIFE, 3 * DAY), TrustedTime(T0 + 3 * DAY, True)),
        # exactly a lifetime past the signed time: still trusted (it is the expiry)
        (T0 + LIFE, SignedTime(T0, LIFE), TrustedTime(T0 + LIFE, False)),
        (T0 + LIFE + timedelta(seconds=1), SignedTime(T0, LIFE), TrustedTime(T0, True)),
        # a month of uptime counted since: the clock agrees, it is trusted again
        (T0 + 40 * DAY, SignedTime(T0, LIFE, 35 * DAY), TrustedTime(T0 + 40 * DAY, False)),
        # a short site lifetime makes the rule stricter
        (T0 + 2 * DAY, SignedTime(T0, DAY), TrustedTime(T0, True)),
        # a negative elapsed (a bug elsewhere) never lowers the floor
        (T0 - DAY, SignedTime(T0, LIFE, -DAY), TrustedTime(T0, False)),
    ],
)  # fmt: skip
def test_trusted_time_table(
    clock: datetime, signed: SignedTime | None, expected: TrustedTime
) -> None:
    assert trusted_time(clock, signed) == expected


offsets = st.timedeltas(min_value=-800 * DAY, max_value=800 * DAY)
lifetimes = st.timedeltas(min_value=timedelta(hours=1), max_value=90 * DAY)
elapsed = st.timedeltas(min_value=timedelta(0), max_value=120 * DAY)


@given(offsets, lifetimes, elapsed)
def test_trusted_time_never_falls_below_the_signed_floor(
    offset: timedelta, life: timedelta, since: timedelta
) -> None:
    signed = SignedTime(T0, life, since)
    judged = trusted_time(signed.floor + offset, signed)
    assert judged.now >= signed.floor
    assert judged.now <= max(signed.floor + offset, signed.floor)


@given(offsets, lifetimes, elapsed)
def test_a_trusted_clock_is_never_moved_back(
    offset: timedelta, life: timedelta, since: timedelta
) -> None:
    # A clock within a lifetime of the signed time judges expiry itself: a replayed
    # manifest that expired by that clock stays refused.
    signed = SignedTime(T0, life, since)
    clock = signed.floor + offset
    judged = trusted_time(clock, signed)
    if not judged.clock_suspect:
        assert judged.now >= clock
    else:
        assert clock - signed.floor > life and judged.now == signed.floor


@given(offsets, lifetimes)
def test_the_newest_signed_manifest_never_looks_expired_before_its_lifetime(
    offset: timedelta, life: timedelta
) -> None:
    # Whatever the device clock says, the manifest just accepted (issued T0, for ``life``)
    # is judged within its lifetime: a clock far ahead cannot refuse it.
    judged = trusted_time(T0 + offset, SignedTime(T0, life))
    assert judged.now <= T0 + life


def ctx(held: int | None, at: datetime, device_clock: datetime | None = None) -> TrustContext:
    return TrustContext("adot-hall-1", {KEY.keyid: KEY.public}, held, at, device_clock)


def test_a_fresh_device_a_year_ahead_takes_its_first_manifest() -> None:
    ahead = T0 + 365 * DAY
    env = envelope(issued_at=T0)  # valid 30 days
    with pytest.raises(RefusedError, match="expired"):
        accept_manifest(env, ctx(None, ahead))  # judged by the clock alone: the old bug
    m = accept_manifest(env, ctx(None, ahead, device_clock=ahead))
    assert m.issued_at == T0


def test_a_fresh_device_cannot_tell_a_stale_first_manifest_from_a_clock_ahead() -> None:
    # The limit of the rule, on purpose: with nothing signed held, a first manifest older
    # than its lifetime by the device clock is taken (and the clock said suspect by the
    # device) rather than a device far ahead showing nothing, ever. It is still signed for
    # this device; the first fresh manifest replaces it.
    stale = envelope(issued_at=T0 - 31 * DAY)
    m = accept_manifest(stale, ctx(None, T0, device_clock=T0))
    assert m.issued_at == T0 - 31 * DAY
    assert trusted_time(T0, SignedTime(m.issued_at, LIFE)).clock_suspect


def test_once_a_manifest_is_held_a_correct_clock_refuses_a_stale_newer_one() -> None:
    judged = trusted_time(T0, SignedTime(T0 - DAY, LIFE))  # synced yesterday
    stale = envelope(issued_at=T0 - 40 * DAY, version=9)  # newer version, expired by T0
    with pytest.raises(RefusedError) as e:
        accept_manifest(stale, ctx(3, judged.now))
    assert e.value.reason == "expired" and not judged.clock_suspect


def test_rollback_is_refused_whatever_the_clock() -> None:
    env = envelope(issued_at=T0, version=2)
    ahead = T0 + 365 * DAY
    judged = trusted_time(ahead, SignedTime(T0, LIFE))
    with pytest.raises(RefusedError) as e:
        accept_manifest(env, ctx(3, judged.now))
    assert e.value.reason == "rollback"
