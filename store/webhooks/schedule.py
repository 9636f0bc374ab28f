"""When the next attempt of a failed delivery runs.

``LEADPIPE_WEBHOOK_RETRY_DELAYS`` lists the waits after the 1st, 2nd, ... failed attempt (the
default spans more than 3 days); each wait gets +-10 % jitter so that endpoints recovering from
an outage are not hit by every retry at the same instant. A ``Retry-After`` on a 429 or 503
(seconds or an HTTP date) is honoured when it asks for longer, up to a cap.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import random
from collections.abc import Sequence

JITTER = 0.10
RETRY_AFTER_STATUSES = (429, 503)


def next_delay(failed_attempts: int, delays: Sequence[int]) -> float | None:
    """Seconds to wait after the ``failed_attempts``-th failure; None when no attempt is left."""
    if failed_attempts > len(delays):
        return None
    base = delays[failed_attempts - 1]
    return max(0.0, base * random.uniform(1 - JITTER, 1 + JITTER))


def retry_after(value: str | None, now: dt.datetime, cap: dt.timedelta) -> float | None:
    """A ``Retry-After`` header as seconds from ``now`` (naive UTC), capped; None if absent or bad."""
    if not value:
        return None
    text = value.strip()
    seconds: float | None
    if text.isdigit():
        seconds = float(text)
    else:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            return None
        seconds = (when.astimezone(dt.UTC).replace(tzinfo=None) - now).total_seconds()
    return min(max(0.0, seconds), cap.total_seconds())
