"""The response envelope every endpoint answers with, success or error."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar

from handlers.http.context import request_id
from store.pagination import PageResult

T = TypeVar("T")

Body = dict[str, Any]
Reply = tuple[Body, int]

# Field errors can grow with the input (a 2 MB header row once gave 144,958 of them, a 10 MB
# answer): every list of them shows the first ones and counts them all (``errorCount``).
MAX_ERRORS_SHOWN = 100


def timestamp(moment: dt.datetime | None = None) -> str:
    """ISO 8601 UTC with milliseconds and a ``Z``, as the seeds show it."""
    moment = moment or dt.datetime.now(dt.UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def meta(pagination: dict[str, Any] | None = None) -> dict[str, Any]:
    result: dict[str, Any] = {"timestamp": timestamp(), "version": "v1", "requestId": request_id()}
    if pagination is not None:
        result["pagination"] = pagination
    return result


def ok(data: Any, status: int = 200, message: str = "Success") -> Reply:
    return {"success": True, "status": status, "message": message, "data": data, "meta": meta()}, status


def created(data: Any) -> Reply:
    return ok(data, 201, "Resource created successfully")


def page(result: PageResult[T], present: Callable[[T], Any], *, limit: int) -> Reply:
    """A list reply: each row of the store's page presented, and the page's cursor in ``meta``."""
    items = [present(row) for row in result.items]
    next_cursor = result.next_cursor
    pagination = {"limit": limit, "nextCursor": next_cursor, "hasMore": next_cursor is not None}
    body = {"success": True, "status": 200, "message": "Success", "data": items, "meta": meta(pagination)}
    return body, 200


def error(
    status: int,
    code: str,
    message: str,
    errors: list[dict[str, str]] | None = None,
    **extra: Any,
) -> Body:
    body: Body = {"success": False, "status": status, "code": code, "message": message}
    if errors:
        body["errors"] = errors[:MAX_ERRORS_SHOWN]
        body["errorCount"] = len(errors)
    body.update(extra)
    body["meta"] = meta()
    return body
