"""Event payload values: `objects.timestamp`'s fast path gives exactly the strftime form."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from store.events import objects


def _reference(moment: dt.datetime) -> str:
    """`objects.timestamp` as it was: strftime for every value."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


ZONES = st.sampled_from(
    [None, dt.UTC, dt.timezone(dt.timedelta(hours=5, minutes=30)), dt.timezone(-dt.timedelta(hours=8))]
)


@given(moment=st.datetimes(min_value=dt.datetime(2, 1, 1), timezones=ZONES))
def test_timestamp_is_the_strftime_form(moment: dt.datetime) -> None:
    assert objects.timestamp(moment) == _reference(moment)


def test_timestamp_of_a_store_time() -> None:
    assert objects.timestamp(dt.datetime(2026, 12, 1, 16, 5, 7, 999_999)) == "2026-12-01T16:05:07.999Z"
    assert objects.timestamp(dt.datetime(2026, 12, 1, 16, 5, 7)) == "2026-12-01T16:05:07.000Z"
