"""``ETag`` out, ``If-Match`` in: optimistic concurrency for leads over HTTP (RFC 9110 §13.1.1).

The tag itself is the store's (`store.leads.etag`: lead id and version); this module only
reads the header and writes it. ``If-Match`` uses the strong comparison, so a weak tag
(``W/"..."``) never matches and a header that parses to no tag at all matches nothing (412).
"""

from __future__ import annotations

import re
from typing import Any

from connexion import request

from store.leads import lifecycle as leads

HEADER = "if-match"
_TAG = re.compile(r'\s*(W/)?("[^"]*")\s*(?:,|$)')

Result = tuple[dict[str, Any], int] | tuple[dict[str, Any], int, dict[str, str]]


def if_match() -> tuple[str, ...] | None:
    """The request's ``If-Match`` as strong tags (quotes kept), ``("*",)``, or None if absent."""
    values = request.headers.getlist(HEADER)
    if not values:
        return None
    joined = ",".join(values)  # a repeated header is one list (RFC 9110 §5.3)
    if joined.strip() == "*":
        return ("*",)
    tags: list[str] = []
    position = 0
    while position < len(joined):
        match = _TAG.match(joined, position)
        if match is None:  # not a list of entity tags: nothing in it can match
            return tuple(tags) if tags else ()
        if not match.group(1):
            tags.append(match.group(2))
        position = match.end()
    return tuple(tags)


def with_etag(result: Result) -> Result:
    """Add the lead's ``ETag`` to a successful reply whose ``data`` is a lead (replays too)."""
    body, status = result[0], result[1]
    headers = dict(result[2]) if len(result) == 3 else {}
    data = body.get("data")
    if status in (200, 201) and isinstance(data, dict) and {"id", "version"} <= data.keys():
        headers["ETag"] = leads.etag(str(data["id"]), int(data["version"]))
    return (body, status, headers) if headers else (body, status)
