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


@dataclass(frozen=True)
class PageRequest:
    """What a client asks of a list: how many rows, from which cursor, and the codec that reads it."""

    limit: int
    cursor: str | None
    codec: CursorCodec


@dataclass(frozen=True)
class Keyset:
    """The order a list is paged on: ``(key, tiebreak)``, and how the key's value travels in a
    cursor (``dump``/``restore``: JSON and back, a datetime by default)."""

    key: peewee.Field
    tiebreak: peewee.Field
    descending: bool = False
    dump: Callable[[Any], Any] = _iso
    restore: Callable[[Any], Any] = dt.datetime.fromisoformat

    def position(self, page: PageRequest, fingerprint: str) -> tuple[Any, Any] | None:
        """The last row served, from the page's cursor (None: the first page)."""
        if page.cursor is None:
            return None
        value, row_id = page.codec.decode(page.cursor, fingerprint)
        return self.restore(value), row_id

    def ordered(self, query: peewee.ModelSelect[Any], position: tuple[Any, Any] | None, fetch: Any) -> Any:
        """``query`` after ``position``, in this order, ``fetch`` rows at most."""
        if position is not None:
            pair = peewee.Tuple(self.key, self.tiebreak)
            query = query.where(pair < position if self.descending else pair > position)
        key, tiebreak = self.key, self.tiebreak
        order = (key.desc(), tiebreak.desc()) if self.descending else (key.asc(), tiebreak.asc())
        return query.order_by(*order).limit(fetch)

    def page(self, rows: list[T], page: PageRequest, fingerprint: str) -> PageResult[T]:
        """The ``limit + 1`` rows fetched, as a page and the cursor of the next one."""
        key, tiebreak = self.key.name, self.tiebreak.name
        return page.codec.page(
            rows, page.limit, fingerprint, lambda row: [self.dump(getattr(row, key)), getattr(row, tiebreak)]
        )


def keyset_page(
    query: peewee.ModelSelect[Any],
    page: PageRequest,
    keyset: Keyset,
    kind: str,
    filters: dict[str, Any],
    *,
    objects: bool = False,
) -> PageResult[Any]:
    """The one keyset page every list serves: ordered on the keyset, one row more than the limit
    fetched to know whether a next page exists, the cursor bound to ``kind`` + ``filters``.

    ``objects`` is for joined selects whose extra columns should land on the row object.
    """
    fingerprint = page.codec.fingerprint(kind, filters)
    query = keyset.ordered(query, keyset.position(page, fingerprint), page.limit + 1)
    rows = list(query.objects() if objects else query)
    return keyset.page(rows, page, fingerprint)
