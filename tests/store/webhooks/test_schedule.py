"""The retry schedule: spans more than 3 days whatever the jitter; Retry-After honoured, capped."""

from __future__ import annotations

import datetime as dt
import email.utils

from store.webhooks import schedule
from store.webhooks.config import DEFAULT_RETRY_DELAYS

CAP = dt.timedelta(hours=6)
NOW = dt.datetime(2026, 2, 8, 12, 0, 0)


def test_the_default_schedule_spans_more_than_three_days_even_with_the_worst_jitter() -> None:
    assert sum(DEFAULT_RETRY_DELAYS) * (1 - schedule.JITTER) > 3 * 86400


def test_every_wait_stays_within_its_jitter_and_the_last_attempt_ends_it() -> None:
    for _ in range(200):  # the jitter is random: many draws
        _one_schedule()


def _one_schedule() -> None:
    total = 0.0
    for attempt in range(1, len(DEFAULT_RETRY_DELAYS) + 1):
        delay = schedule.next_delay(attempt, DEFAULT_RETRY_DELAYS)
        assert delay is not None
        base = DEFAULT_RETRY_DELAYS[attempt - 1]
        assert base * 0.9 <= delay <= base * 1.1
        total += delay
    assert total > 3 * 86400
    assert schedule.next_delay(len(DEFAULT_RETRY_DELAYS) + 1, DEFAULT_RETRY_DELAYS) is None


def test_retry_after_seconds_and_dates() -> None:
    assert schedule.retry_after("120", NOW, CAP) == 120
    assert schedule.retry_after("999999", NOW, CAP) == CAP.total_seconds()  # capped
    later = email.utils.format_datetime((NOW + dt.timedelta(minutes=5)).replace(tzinfo=dt.UTC), usegmt=True)
    assert schedule.retry_after(later, NOW, CAP) == 300
    earlier = email.utils.format_datetime((NOW - dt.timedelta(minutes=5)).replace(tzinfo=dt.UTC), usegmt=True)
    assert schedule.retry_after(earlier, NOW, CAP) == 0
    for bad in (None, "", "soon", "-5", "1.5e9"):
        assert schedule.retry_after(bad, NOW, CAP) is None
