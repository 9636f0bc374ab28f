"""Opaque, tamper-proof cursors for keyset pagination.

A cursor is the signed position of the last row served, bound to the list it came from (the
kind of list plus a fingerprint of its filters and sort). A cursor that was edited, forged, or
replayed against another filter is refused with `BadRequest` instead of silently serving the
wrong page. Positions are keysets, so page N costs the same as page 1: no OFFSET, no COUNT(*).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import peewee
from itsdangerous import BadSignature, URLSafeSerializer

from store.errors import BadRequest, FieldError

T = TypeVar("T")


@dataclass(frozen=True)
class PageResult(Generic[T]):
    items: list[T]
    next_cursor: str | None

    @property
    def has_more(self) -> bool:
        return self.next_cursor is not None


class CursorCodec:
    def __init__(self, secret_keys: Sequence[str]) -> None:
        # Our settings list the signing key first; itsdangerous signs with the *last* key of its
        # list and verifies with all of them, so hand it the keys reversed.
        self._serializer = URLSafeSerializer(list(reversed(secret_keys)), salt="leadpipe.cursor")

    @staticmethod
    def fingerprint(kind: str, filters: dict[str, Any]) -> str:
        canonical = json.dumps([kind, filters], sort_keys=True, default=str)
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]

    def encode(self, fingerprint: str, position: list[Any]) -> str:
        return str(self._serializer.dumps({"f": fingerprint, "p": position}))

    def decode(self, token: str, fingerprint: str) -> list[Any]:
        try:
            payload = self._serializer.loads(token)
        except BadSignature as exc:
            raise BadRequest("Invalid cursor", [FieldError("cursor", "Malformed or tampered")]) from exc
        if not isinstance(payload, dict) or payload.get("f") != fingerprint:
            raise BadRequest(
                "Invalid cursor",
                [FieldError("cursor", "Cursor belongs to a different list, filter or sort")],
            )
        position = payload.get("p")
        if not isinstance(position, list):
            raise BadRequest("Invalid cursor", [FieldError("cursor", "Malformed")])
        return position

    def page(
        self, rows: list[T], limit: int, fingerprint: str, position_of: Callable[[T], list[Any]]
    ) -> PageResult[T]:
        """Trim the ``limit + 1`` rows a query fetched into a page and its next cursor."""
        if len(rows) <= limit:
            return PageResult(rows, None)
        items = rows[:limit]
        return PageResult(items, self.encode(fingerprint, position_of(items[-1])))


def _iso(value: Any) -> Any:
    return value.isoformat()


def keyset_page(
    query: peewee.ModelSelect[Any],
    *,
    codec: CursorCodec,
    kind: str,
    filters: dict[str, Any],
    key: peewee.Field,
    tiebreak: peewee.Field,
    descending: bool,
    limit: int,
    cursor: str | None,
    dump: Callable[[Any], Any] = _iso,
    restore: Callable[[Any], Any] = dt.datetime.fromisoformat,
    objects: bool = False,
) -> PageResult[Any]:
    """The one keyset page every list serves: ordered on ``(key, tiebreak)``, one row more than
    ``limit`` fetched to know whether a next page exists, the cursor bound to ``kind`` + ``filters``.

    ``dump``/``restore`` turn the key's value into JSON and back (a datetime by default);
    ``objects`` is for joined selects whose extra columns should land on the row object.
    """
    fingerprint = codec.fingerprint(kind, filters)
    if cursor is not None:
        value, row_id = codec.decode(cursor, fingerprint)
        position = (restore(value), row_id)
        pair = peewee.Tuple(key, tiebreak)
        query = query.where(pair < position if descending else pair > position)
    order = (key.desc(), tiebreak.desc()) if descending else (key.asc(), tiebreak.asc())
    query = query.order_by(*order).limit(limit + 1)
    rows = list(query.objects() if objects else query)
    return codec.page(
        rows, limit, fingerprint, lambda row: [dump(getattr(row, key.name)), getattr(row, tiebreak.name)]
    )
