"""Opaque, tamper-proof cursors for keyset pagination.

A cursor is the signed position of the last row served, bound to the list it came from (the
kind of list plus a fingerprint of its filters and sort). A cursor that was edited, forged, or
replayed against another filter is refused with `BadRequest` instead of silently serving the
wrong page. Positions are keysets, so page N costs the same as page 1: no OFFSET, no COUNT(*).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

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
