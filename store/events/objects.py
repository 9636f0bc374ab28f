"""Resources as the API shows them, for event payloads (and the HTTP presenters, which
delegate here so an event's ``data.object`` is exactly what ``GET`` returns)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from store.models import Lead, LeadImport

_CAMEL = re.compile(r"_([a-z])")


def timestamp(moment: dt.datetime) -> str:
    """ISO 8601 UTC with milliseconds and a ``Z`` (naive values are UTC, the store's rule)."""
    if moment.tzinfo is None and moment.year >= 1000 and type(moment) is dt.datetime:
        # The common case, by ``isoformat`` (C, ~4x faster than strftime); years below 1000 are
        # left to strftime, whose ``%Y`` does not pad them to four digits as isoformat does.
        return moment.isoformat(timespec="milliseconds") + "Z"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _ts(value: dt.datetime | None) -> str | None:
    return timestamp(value) if value is not None else None


def camel(name: str) -> str:
    """``custom_fields.role`` -> ``customFields.role``: only the top-level name is ours."""
    top, dot, rest = name.partition(".")
    return _CAMEL.sub(lambda m: m.group(1).upper(), top) + dot + rest


def lead(row: Lead) -> dict[str, Any]:
    return {
        "id": row.id,
        "tenantId": row.tenant_id,
        "environment": row.environment,
        "email": row.email,
        "firstName": row.first_name,
        "lastName": row.last_name,
        "phone": row.phone,
        "phoneE164": row.phone_e164,
        "company": row.company,
        "title": row.title,
        "industry": row.industry,
        "message": row.message,
        "source": row.source,
        "status": row.status,
        "score": row.score,
        "assignedTo": row.assigned_to,
        "customFields": row.custom_fields,
        "tags": row.tags,
        "duplicateOf": row.duplicate_of,
        "version": row.version,
        "createdAt": _ts(row.created_at),
        "updatedAt": _ts(row.updated_at),
    }


def lead_import(record: LeadImport) -> dict[str, Any]:
    finished = record.status == "completed"
    done, size = record.bytes_done, record.size_bytes
    percent = 100 if finished else min(99, done * 100 // size) if size else 0
    return {
        "id": record.id,
        "status": record.status,
        "format": "csv",
        "onDuplicate": record.on_duplicate,
        "progress": {
            "rowsProcessed": record.rows_done,
            "bytesProcessed": done,
            "totalBytes": size,
            "percent": percent,
        },
        "counts": {
            "created": record.created_count,
            "updated": record.updated_count,
            "failed": record.failed_count,
        },
        "errors": [
            {"row": e["row"], "field": camel(e["field"]), "message": e["message"]} for e in record.errors
        ],
        "errorCount": record.error_count,
        "errorsTruncated": record.error_count > len(record.errors),
        "message": record.message,
        "createdAt": timestamp(record.created_at),
        "startedAt": _ts(record.started_at),
        "finishedAt": _ts(record.finished_at),
    }
