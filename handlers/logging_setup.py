"""Where log lines go and what they look like: one handler on stdout for everything.

``LEADPIPE_LOG_FORMAT=json`` (the production default) writes one JSON object per line with
python-json-logger: it is a plain `logging.Formatter`, so every stdlib logger (ours, uvicorn's,
Connexion's) comes out in the same shape without rewriting call sites, which structlog would
want. ``text`` is for a terminal.

What reaches the handler: Leadpipe's own loggers (``leadpipe.*``) at ``LEADPIPE_LOG_LEVEL``;
third-party loggers at WARNING (``peewee`` logs every query with its parameters at DEBUG, which
would be personal data in the log), uvicorn's server events at INFO. uvicorn's access log is
off: `log_request` writes the one line per request instead, with the request id, the operation
and who called (ids only).

Never in a line: secrets, passwords, session tokens, key plaintext, a lead's personal data. The
call sites log ids, not values; as a second line of defence every formatted line is scrubbed of
anything shaped like an API key or an email address (an exception's text can quote a row).
"""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

from pythonjsonlogger.json import JsonFormatter
from starlette.types import Scope

from handlers.http.context import request_id_var
from handlers.settings import Settings
from store.access.principals import Principal

access_log = logging.getLogger("leadpipe.access")

KEY_SHAPE = re.compile(r"lp_(?:live|sandbox)_(?:sk|pk)_[A-Za-z0-9_\-]+")
EMAIL_SHAPE = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(requestId)s] %(message)s"
THIRD_PARTY_LEVELS = {"uvicorn": "INFO", "uvicorn.error": "INFO", "peewee": "WARNING"}
_MARK = "_leadpipe_handler"


def scrub(line: str) -> str:
    return EMAIL_SHAPE.sub("[email]", KEY_SHAPE.sub("[api-key]", line))


class _ScrubbedJson(JsonFormatter):
    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))


class _ScrubbedText(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))


class _RequestId(logging.Filter):
    """Every line logged while a request is handled carries its id (handler threads included:
    Connexion copies context variables into them)."""

    def filter(self, record: logging.LogRecord) -> bool:
        rid = request_id_var.get()
        if rid != "-" and not hasattr(record, "requestId"):
            record.requestId = rid
        record.__dict__.pop("color_message", None)  # uvicorn's ANSI-coloured copy of the message
        return True


def configure(settings: Settings) -> None:
    """Install the stdout handler (idempotent: a second call replaces the first)."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, _MARK, False)]:
        root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stdout)
    setattr(handler, _MARK, True)
    if settings.log_format == "json":
        handler.setFormatter(
            _ScrubbedJson(
                "%(levelname)s %(name)s %(message)s",
                rename_fields={"levelname": "level", "name": "logger"},
                timestamp="time",
            )
        )
    else:
        handler.setFormatter(_ScrubbedText(TEXT_FORMAT, defaults={"requestId": "-"}))
    handler.addFilter(_RequestId())
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    for name, level in THIRD_PARTY_LEVELS.items():
        logger = logging.getLogger(name)
        logger.setLevel(level)
        # uvicorn's own handlers (when it configured logging before us) would print twice.
        logger.handlers.clear()
        logger.propagate = True
    logging.getLogger("leadpipe").setLevel(settings.log_level)
    logging.captureWarnings(True)


def uvicorn_options() -> dict[str, Any]:
    """What `uvicorn.run` needs so that it leaves logging to `configure`."""
    return {"log_config": None, "access_log": False}


def log_request(
    scope: Scope, operation: str, status: int, seconds: float, principal: Principal | None
) -> None:
    """The one access line of a request: ids and shape only (the path has no query string)."""
    if not access_log.isEnabledFor(logging.INFO):
        return
    client = scope.get("client")
    duration_ms = round(seconds * 1000, 2)
    access_log.info(
        "%s %s -> %d (%s, %.1f ms)",
        scope.get("method", ""),
        scope.get("path", ""),
        status,
        operation,
        duration_ms,
        extra={
            "method": scope.get("method", ""),
            "path": scope.get("path", ""),
            "operation": operation,
            "status": status,
            "durationMs": duration_ms,
            "tenantId": principal.tenant_id if principal else None,
            "keyId": principal.api_key_id if principal else None,
            "clientIp": client[0] if client else None,
        },
    )
