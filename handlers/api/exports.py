"""``GET /v1/leads/export``: the filtered lead list as a streamed CSV download.

Columns (header row, in this order): ``COLUMNS``. ``tags`` are joined with ``;``,
``customFields`` is a JSON object (empty cell when there are none), timestamps are ISO 8601 UTC.

CSV injection: a text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
is prefixed with a single quote, so a spreadsheet shows it as text instead of running it as a
formula (a phone ``+1-555-0199`` exports as ``'+1-555-0199``). The import removes that quote
again (`store.imports.csv_format.unguard`).

The response streams: rows are read `store.leads.export.BATCH_SIZE` at a time and each batch is
sent as soon as it is formatted, so memory stays bounded however many leads match. The first
batch is read before the response starts, so an unreachable database still answers 503.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
from collections.abc import Iterable, Iterator
from typing import Any

from starlette.responses import StreamingResponse

from handlers.api.leads import lead_filters
from handlers.http.envelope import timestamp
from handlers.http.security import principal_of
from store.imports import csv_format
from store.leads import export as lead_export
from store.models import Lead

COLUMNS = (
    "id", "email", "firstName", "lastName", "phone", "company", "title", "industry", "message", "source",
    "status", "score", "assignedTo", "tags", "customFields", "duplicateOf", "createdAt", "updatedAt",
)  # fmt: skip
MEDIA_TYPE = "text/csv; charset=utf-8"


def _text(value: str | None) -> str:
    return csv_format.guard(value) if value else ""


def row(lead: Lead) -> list[Any]:
    custom = json.dumps(lead.custom_fields, ensure_ascii=False, sort_keys=True) if lead.custom_fields else ""
    return [
        lead.id,
        _text(lead.email),
        _text(lead.first_name),
        _text(lead.last_name),
        _text(lead.phone),
        _text(lead.company),
        _text(lead.title),
        _text(lead.industry),
        _text(lead.message),
        lead.source,
        lead.status,
        lead.score,
        lead.assigned_to or "",
        _text(csv_format.TAG_SEPARATOR.join(lead.tags or [])),
        _text(custom),
        getattr(lead, "duplicate_of", None) or "",
        timestamp(lead.created_at),
        timestamp(lead.updated_at),
    ]


def chunks(batches: Iterable[list[Lead]]) -> Iterator[str]:
    """The header, then one chunk of CSV text per batch of leads."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for batch in batches:
        writer.writerows(row(lead) for lead in batch)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():  # nothing matched: the header alone
        yield buffer.getvalue()


def export_leads(token_info: dict[str, Any], **params: Any) -> StreamingResponse:
    """The same filters as the list (`lead_filters`), no sort or cursor: the whole match, in order."""
    batches = lead_export.export_batches(principal_of(token_info), lead_filters(params))
    first = next(batches, [])
    return StreamingResponse(
        chunks(itertools.chain([first] if first else [], batches)),
        media_type=MEDIA_TYPE,
        headers={"Content-Disposition": 'attachment; filename="leads.csv"', "Cache-Control": "no-store"},
    )
