"""``POST /v1/leads/import`` and ``GET /v1/imports/{importId}``.

The import handler is ``async`` and takes no ``body`` argument on purpose: Connexion reads the
whole body into memory for any handler that names it, and a CSV upload may be 100 MB. Instead,
a CSV body is pulled from the ASGI ``receive`` block by block by the store, in a worker thread
(`upload.receive_csv`), and written to the database in 1 MiB chunks as it arrives. A JSON
body has already been parsed and checked by Connexion's validator (an array of at most 1,000
objects), which replays it to us; each item is then checked on its own by the store.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import anyio.from_thread
import anyio.to_thread
from connexion.context import request
from starlette.requests import ClientDisconnect

from handlers.http import envelope, names, uploads
from handlers.http.body_limit import RouteLimit
from handlers.http.security import principal_of, principal_of_async
from handlers.settings import JSON_IMPORT_BODY_FACTOR, Settings
from store.errors import BadRequest
from store.events import objects
from store.imports import job, rows, upload
from store.imports.rows import RowOutcome
from store.models import LeadImport


async def _next_chunk(chunks: AsyncIterator[bytes]) -> bytes | None:
    try:
        return await anext(chunks)
    except StopAsyncIteration:
        return None
    except ClientDisconnect as exc:
        raise BadRequest("The upload was interrupted") from exc


def _blocking_body(chunks: AsyncIterator[bytes]) -> Iterator[bytes]:
    """The request body for a worker thread: each chunk is awaited on the event loop."""
    while (chunk := anyio.from_thread.run(_next_chunk, chunks)) is not None:
        yield chunk


def _outcome(index: int, outcome: RowOutcome) -> dict[str, Any]:
    shown = outcome.errors[: envelope.MAX_ERRORS_SHOWN]
    return {
        "index": index,
        "status": outcome.status,
        "id": outcome.lead_id,
        "errors": [{"field": names.field_path_to_camel(e.field), "message": e.message} for e in shown],
        "errorCount": len(outcome.errors),
    }


def _results(outcomes: list[RowOutcome]) -> dict[str, Any]:
    def count(status: str) -> int:
        return sum(outcome.status == status for outcome in outcomes)

    return {
        "created": count(rows.CREATED),
        "updated": count(rows.UPDATED),
        "failed": count(rows.ERROR),
        "results": [_outcome(index, outcome) for index, outcome in enumerate(outcomes)],
    }


def present(record: LeadImport) -> dict[str, Any]:
    """The API's import, the same one ``import.*`` events carry (`store.events.objects`)."""
    return objects.lead_import(record)


async def import_leads(token_info: dict[str, Any], on_duplicate: str = rows.DEFAULT_ON_DUPLICATE) -> Any:
    caller = await principal_of_async(token_info)
    chunks = request.stream()  # Starlette's body stream; advanced on the event loop
    uploaded = uploads.uploaded_file(request.scope)  # a multipart form's file part, spooled
    if uploaded is not None or request.mimetype == "text/csv":
        csv = uploads.chunks(uploaded) if uploaded is not None else _blocking_body(chunks)
        record = await anyio.to_thread.run_sync(upload.receive_csv, caller, csv, on_duplicate)
        body, status = envelope.ok(present(record), 202, "Import accepted")
        return body, status, {"Location": f"/v1/imports/{record.id}"}
    try:
        items = json.loads(b"".join([chunk async for chunk in chunks]))
    except ClientDisconnect as exc:
        raise BadRequest("The upload was interrupted") from exc
    outcomes = await anyio.to_thread.run_sync(rows.import_items, caller, items, on_duplicate)
    return envelope.ok(_results(outcomes), message="Import processed")


def get_import(import_id: str, token_info: dict[str, Any]) -> envelope.Reply:
    return envelope.ok(present(job.get_import(principal_of(token_info), import_id)))


def body_limits(settings: Settings, base_path: str) -> list[RouteLimit]:
    """The import's body caps: a CSV file streams (up to ``max_import_bytes``); a JSON array of
    up to 1,000 leads is parsed in memory, so it gets a bounded multiple of the usual cap."""
    path = f"{base_path}/leads/import"
    json_cap = min(settings.max_import_bytes, JSON_IMPORT_BODY_FACTOR * settings.max_body_bytes)
    return [
        RouteLimit("POST", path, "text/csv", settings.max_import_bytes, streamed=True),
        # The same file as a form part; the multipart framing adds a few hundred bytes.
        RouteLimit("POST", path, "multipart/form-data", settings.max_import_bytes + 64 * 1024, streamed=True),
        RouteLimit("POST", path, "application/json", json_cap),
    ]
