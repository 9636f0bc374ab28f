"""Client timestamps (RFC 3339, from query strings and bodies) as naive UTC datetimes.

The spec's ``date-time`` format admits forms ``datetime.fromisoformat`` refuses (a lowercase
``t``/``z``, more than six fractional digits) and instants that exist only in another offset
(``0001-01-01T00:00:00+01:00`` is before year 1 in UTC). Both used to escape as 500s; here
they parse, or fail as a 422 naming the field.
"""

from __future__ import annotations

import datetime as dt
import re

from store.errors import FieldError, ValidationFailed

_FRACTION = re.compile(r"(\.\d{6})\d+")


def parse(value: str | None, field: str) -> dt.datetime | None:
    """``value`` as naive UTC (the store's convention), ``None`` stays ``None``."""
    if value is None:
        return None
    text = value.strip()
    if len(text) > 10 and text[10] in "tT ":
        text = f"{text[:10]}T{text[11:]}"
    text = _FRACTION.sub(r"\1", re.sub(r"[zZ]$", "+00:00", text))
    try:
        moment = dt.datetime.fromisoformat(text)
        if moment.tzinfo is not None:
            moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    except (ValueError, OverflowError) as exc:
        raise ValidationFailed(
            [FieldError(field, "Must be a valid date-time between years 1 and 9999")]
        ) from exc
    return moment
