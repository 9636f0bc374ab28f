"""Public website capture: a contact form posts a lead with a publishable key.

The key arrives in the ``X-Publishable-Key`` header, the ``key`` query parameter or a ``key``
form/body field, so a plain HTML ``<form method="post">`` works; the HTTP layer passes whichever
it got and this module authenticates it (operation security is empty because Connexion runs
security before the body is parsed). Rules, in order:

1. the key must be an active *publishable* key (a secret key is refused: it must never sit in
   a web page);
2. a request carrying an ``Origin`` must come from one of the key's ``allowed_origins``; a
   ``redirect`` must point at one of them too;
3. a filled honeypot field is answered like a success, stores nothing, and is counted as a
   ``capture.spam_blocked`` audit event of the key (visible in ``GET /v1/audit-events``);
4. an identical submission (same key and same fields) within `COLLAPSE_WINDOW` returns the
   first lead instead of creating another;
5. otherwise the lead is created like any other (validation, history, audit, dedup job) with
   only the public fields: status, score, assignment and everything server-side keep their
   defaults.

``name`` is split at the first whitespace into first and last name (explicit ``firstName`` /
``lastName`` win); a one-word name gives last name ``-``, because both are required.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
from dataclasses import dataclass
from typing import Any

import peewee

from store.access.principals import CAPTURE_SCOPE, Principal
from store.audit import log as audit
from store.db import database, reading, transaction
from store.errors import AuthRequired, FieldError, PermissionDenied, ValidationFailed
from store.ids import new_id
from store.keys import api_keys
from store.keys.origins import is_allowed, is_allowed_redirect
from store.leads import lifecycle as leads
from store.models import ApiKey, CaptureSubmission, Lead, utcnow

log = logging.getLogger("leadpipe.capture")

COLLAPSE_WINDOW = dt.timedelta(minutes=10)
# The pipeline's own fields (status, score, assignment, custom fields, tags) are never the
# public's to set; everything else a client may write, a website form may too.
PIPELINE_FIELDS = ("status", "score", "assigned_to", "custom_fields", "tags")
PUBLIC_FIELDS = tuple(name for name in leads.WRITABLE if name not in PIPELINE_FIELDS)


@dataclass(frozen=True)
class Submission:
    key: str | None
    fields: dict[str, Any]  # snake_case public fields plus ``name``; empty values already dropped
    honeypot: bool = False
    redirect: str | None = None
    origin: str | None = None
    ip: str | None = None
    user_agent: str | None = None
    request_id: str | None = None


@dataclass(frozen=True)
class Captured:
    lead_id: str
    redirect: str | None
    # The value for Access-Control-Allow-Origin (the request's Origin, when it is allowed).
    allow_origin: str | None


@reading
def publishable_key(plaintext: str | None) -> tuple[Principal, ApiKey]:
    """Authenticate a publishable key; a secret key is refused before any lookup."""
    if not plaintext or not plaintext.strip():
        raise AuthRequired("A publishable key is required: X-Publishable-Key header or a 'key' field")
    plaintext = plaintext.strip()
    if api_keys.KEY_PATTERN.match(plaintext) and "_sk_" in plaintext:
        raise PermissionDenied("Public capture takes a publishable key (lp_<env>_pk_...), never a secret key")
    principal = api_keys.authenticate(plaintext)
    record = ApiKey.get_or_none(
        (ApiKey.tenant_id == principal.tenant_id) & (ApiKey.id == principal.api_key_id)
    )
    if record is None or record.type != api_keys.PUBLISHABLE or CAPTURE_SCOPE not in principal.scopes:
        raise PermissionDenied("Public capture takes a publishable key")
    return principal, record


def check_origin(record: ApiKey, origin: str | None) -> str | None:
    """Refuse a browser origin the key does not list; returns the origin to echo in CORS."""
    if origin is None:
        return None
    if not is_allowed(origin, record.allowed_origins):
        raise PermissionDenied("This origin is not allowed for this publishable key")
    return origin


def _split_name(fields: dict[str, Any]) -> dict[str, Any]:
    values = {k: v for k, v in fields.items() if k in PUBLIC_FIELDS}
    first, _, last = str(fields.get("name") or "").strip().partition(" ")
    values.setdefault("first_name", first or None)
    values.setdefault("last_name", last.strip() or ("-" if first else None))
    missing = [
        FieldError(n, "Is required (or send 'name')") for n in ("first_name", "last_name") if not values[n]
    ]
    if missing:
        raise ValidationFailed(missing)
    values.setdefault("source", "web")
    return values


def _payload_hash(values: dict[str, Any]) -> str:
    canonical = json.dumps(values, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _recent(tenant_id: str, key_id: str, digest: str, since: dt.datetime) -> str | None:
    """The lead of an identical recent submission, if it still exists."""
    row = CaptureSubmission.get_or_none(
        (CaptureSubmission.tenant_id == tenant_id)
        & (CaptureSubmission.api_key_id == key_id)
        & (CaptureSubmission.payload_hash == digest)
        & (CaptureSubmission.created_at >= since)
    )
    if row is None:
        return None
    alive = Lead.select(Lead.id).where((Lead.tenant_id == tenant_id) & (Lead.id == row.lead_id)).exists()
    return str(row.lead_id) if alive else None


def _claim(tenant_id: str, key_id: str, digest: str, lead_id: str, now: dt.datetime) -> str | None:
    """Record this submission; on a concurrent identical one, return the winner's lead id."""
    CaptureSubmission.delete().where(
        (CaptureSubmission.tenant_id == tenant_id)
        & (CaptureSubmission.api_key_id == key_id)
        & (
            (CaptureSubmission.created_at < now - COLLAPSE_WINDOW)
            | (CaptureSubmission.payload_hash == digest)
        )
    ).execute()
    try:
        with database.atomic():  # a savepoint: losing the race must not abort the transaction
            CaptureSubmission.insert(
                tenant_id=tenant_id, api_key_id=key_id, payload_hash=digest, lead_id=lead_id, created_at=now
            ).execute()
    except peewee.IntegrityError:
        return _recent(tenant_id, key_id, digest, now - COLLAPSE_WINDOW)
    return None


@transaction
def capture_lead(submission: Submission) -> Captured:
    principal, record = publishable_key(submission.key)
    caller = dataclasses.replace(
        principal, ip=submission.ip, user_agent=submission.user_agent, request_id=submission.request_id
    )
    allow_origin = check_origin(record, submission.origin)
    if submission.redirect is not None and not is_allowed_redirect(
        submission.redirect, record.allowed_origins
    ):
        raise ValidationFailed(
            [FieldError("redirect", "Must be a plain http(s) URL on one of the key's allowed origins")]
        )
    if submission.honeypot:
        log.info("capture honeypot hit on key %s (tenant %s)", record.id, record.tenant_id)
        audit.record(caller, "capture.spam_blocked", "api_key", record.id, {"honeypot": [None, "filled"]})
        return Captured(new_id(), submission.redirect, allow_origin)
    values = _split_name(submission.fields)
    digest = _payload_hash(values)
    now = utcnow()
    first = _recent(record.tenant_id, record.id, digest, now - COLLAPSE_WINDOW)
    if first is None:
        lead_id = new_id()  # placeholder until the lead exists; replaced below in this transaction
        first = _claim(record.tenant_id, record.id, digest, lead_id, now)
    if first is not None:
        return Captured(first, submission.redirect, allow_origin)
    lead = leads.create_lead(caller, values)
    CaptureSubmission.update(lead_id=lead.id).where(
        (CaptureSubmission.tenant_id == record.tenant_id)
        & (CaptureSubmission.api_key_id == record.id)
        & (CaptureSubmission.payload_hash == digest)
    ).execute()
    return Captured(lead.id, submission.redirect, allow_origin)


@reading
def preflight(plaintext: str | None, origin: str | None) -> str:
    """CORS preflight: the origin to allow, or refuse. The key comes from ``?key=``: a browser
    sends no custom header values (and no body) with a preflight."""
    _, record = publishable_key(plaintext)
    allowed = check_origin(record, origin)
    if allowed is None:
        raise PermissionDenied("A CORS preflight needs an Origin header")
    return allowed
