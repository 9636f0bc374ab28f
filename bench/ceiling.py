"""The CEILING: the same create/get/list operations as bare Starlette over raw SQL.

No spec, no validation, no auth, no thread hop: one DB-API connection used straight from the
event loop. It writes the same rows as Leadpipe (the lead and its "created" history event) and
runs the same list query (status + case-insensitive substring on four columns, keyset on
(created_at, id)). What Leadpipe reaches of this is the share the stack leaves to it.

Run: ``uvicorn --factory bench.ceiling:app_factory`` with ``LEADPIPE_DATABASE_URL`` and
``LEADPIPE_BENCH_TENANT`` set.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import secrets
import sqlite3
import string
import uuid
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

ALPHABET = string.ascii_letters + string.digits
COLUMNS = (
    "id", "tenant_id", "environment", "email", "first_name", "last_name", "phone", "phone_e164",
    "company", "title", "industry", "message", "source", "status", "score", "assigned_to",
    "custom_fields", "tags", "created_at", "updated_at",
)  # fmt: skip
SELECT = f"SELECT {', '.join(COLUMNS)} FROM leads"


class Db:
    def __init__(self, url: str) -> None:
        self.sqlite = url.startswith("sqlite:///")
        if self.sqlite:
            self.conn: Any = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
            for pragma in (
                "journal_mode=wal",
                "synchronous=normal",
                "cache_size=-64000",
                "busy_timeout=10000",
            ):
                self.conn.execute(f"PRAGMA {pragma}")
            self.ph, self.like = "?", "LIKE"
        else:
            import psycopg2

            self.conn = psycopg2.connect(url)
            self.conn.autocommit = True
            self.ph, self.like = "%s", "ILIKE"

    def fetch(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        cursor = self.conn.cursor()
        cursor.execute(sql.replace("?", self.ph), params)
        return list(cursor.fetchall())

    def write(self, statements: list[tuple[str, tuple[Any, ...]]]) -> None:
        cursor = self.conn.cursor()
        cursor.execute("BEGIN IMMEDIATE" if self.sqlite else "BEGIN")
        try:
            for sql, params in statements:
                cursor.execute(sql.replace("?", self.ph), params)
            cursor.execute("COMMIT")
        except Exception:
            cursor.execute("ROLLBACK")
            raise


def _new_id() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(16))


def _lead(row: tuple[Any, ...]) -> dict[str, Any]:
    lead = dict(zip(COLUMNS, row, strict=True))
    for name in ("created_at", "updated_at"):
        value = lead[name]
        lead[name] = value.isoformat() if isinstance(value, dt.datetime) else value
    for name in ("custom_fields", "tags"):
        if isinstance(lead[name], str):
            lead[name] = json.loads(lead[name])
    return lead


def _reply(data: Any, status: int = 200, pagination: dict[str, Any] | None = None) -> JSONResponse:
    meta: dict[str, Any] = {"timestamp": dt.datetime.now(dt.UTC).isoformat(), "requestId": uuid.uuid4().hex}
    if pagination is not None:
        meta["pagination"] = pagination
    return JSONResponse({"success": True, "status": status, "data": data, "meta": meta}, status_code=status)


def app_factory() -> Starlette:
    db = Db(os.environ["LEADPIPE_DATABASE_URL"])
    tenant = os.environ["LEADPIPE_BENCH_TENANT"]

    async def health(request: Request) -> JSONResponse:
        return _reply({"status": "ok"})

    async def create(request: Request) -> JSONResponse:
        body = await request.json()
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        stamp = now.isoformat(" ") if db.sqlite else now
        email = body["email"].strip()
        values = (
            _new_id(), tenant, "live", email, body["firstName"].strip(), body["lastName"].strip(),
            body.get("phone"), None, body.get("company"), body.get("title"), body.get("industry"),
            body.get("message"), body.get("source", "api"), body.get("status", "new"), body.get("score", 0),
            None, json.dumps(body.get("customFields", {})), json.dumps(body.get("tags", [])), stamp, stamp,
        )  # fmt: skip
        marks = ", ".join("?" * len(values))
        changes = json.dumps({"email": [None, email]})
        db.write(
            [
                (f"INSERT INTO leads ({', '.join(COLUMNS)}, email_normalized, version) "
                 f"VALUES ({marks}, ?, 1)",
                 (*values, email.lower())),
                ("INSERT INTO lead_events (tenant_id, id, lead_id, action, actor_type, actor_id, changes, "
                 "occurred_at) VALUES (?, ?, ?, 'created', 'api_key', 'bench', ?, ?)",
                 (tenant, _new_id(), values[0], changes, stamp)),
            ]
        )  # fmt: skip
        return _reply(_lead(values), 201)

    async def get(request: Request) -> JSONResponse:
        rows = db.fetch(
            f"{SELECT} WHERE tenant_id = ? AND id = ? AND environment = 'live'",
            (tenant, request.path_params["lead_id"]),
        )
        if not rows:
            return JSONResponse({"success": False, "status": 404}, status_code=404)
        return _reply(_lead(rows[0]))

    async def listing(request: Request) -> JSONResponse:
        params = request.query_params
        limit = int(params.get("limit", "20"))
        pattern = f"%{params['q']}%"
        sql = (
            f"{SELECT} WHERE tenant_id = ? AND environment = 'live' AND status = ? AND (email {db.like} ? "
            f"OR first_name {db.like} ? OR last_name {db.like} ? OR company {db.like} ?)"
        )
        args: tuple[Any, ...] = (tenant, params["status"], pattern, pattern, pattern, pattern)
        if "cursor" in params:
            created_at, lead_id = json.loads(base64.urlsafe_b64decode(params["cursor"]))
            sql += " AND (created_at, id) < (?, ?)"
            args += (created_at, lead_id)
        rows = [
            _lead(r) for r in db.fetch(f"{sql} ORDER BY created_at DESC, id DESC LIMIT {limit + 1}", args)
        ]
        cursor = None
        if len(rows) > limit:
            rows = rows[:limit]
            last = rows[-1]
            cursor = base64.urlsafe_b64encode(
                json.dumps([str(last["created_at"]), last["id"]]).encode()
            ).decode()
        return _reply(rows, pagination={"limit": limit, "nextCursor": cursor, "hasMore": cursor is not None})

    return Starlette(
        routes=[
            Route("/v1/health", health),
            Route("/v1/leads", create, methods=["POST"]),
            Route("/v1/leads", listing, methods=["GET"]),
            Route("/v1/leads/{lead_id}", get),
        ]
    )
