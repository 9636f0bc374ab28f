"""Peewee models: the application's view of the schema that `store/migrations` creates.

Every tenant-owned table leads its primary key and its indexes with ``tenant_id``: the tenant
is the distribution key, so the same schema runs on SQLite, PostgreSQL and a tenant-sharded
PostgreSQL. The only global lookups are the ones that *find* the tenant: an API key's hash.
Cross-row references are plain columns (no foreign keys), because a composite key cannot be
referenced portably and a sharded cluster cannot enforce them across shards anyway; the
store's rules guard them instead.
"""

from __future__ import annotations

import datetime as dt

import peewee

from store.db import database


def utcnow() -> dt.datetime:
    """Naive UTC with microseconds: sortable as text in SQLite and exact in PostgreSQL."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class BaseModel(peewee.Model):
    class Meta:
        database = database
        legacy_table_names = False


class Tenant(BaseModel):
    id = peewee.CharField(max_length=17, primary_key=True)
    name = peewee.CharField(max_length=120)
    plan = peewee.CharField(max_length=16)
    # Enterprise plans carry their own limits; NULL means "the plan's default".
    rate_limit = peewee.IntegerField(null=True)
    rate_burst = peewee.IntegerField(null=True)
    created_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        table_name = "tenants"


class User(BaseModel):
    tenant_id = peewee.CharField(max_length=17)
    id = peewee.CharField(max_length=17)
    email = peewee.CharField(max_length=254)
    name = peewee.CharField(max_length=120)
    role = peewee.CharField(max_length=16)
    password_hash = peewee.CharField(max_length=255)
    active = peewee.BooleanField(default=True)
    # Bumped on password change or deactivation: tokens carrying an older version die.
    session_version = peewee.IntegerField(default=1)
    created_at = peewee.DateTimeField(default=utcnow)
    updated_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        table_name = "users"
        primary_key = peewee.CompositeKey("tenant_id", "id")


class ApiKey(BaseModel):
    tenant_id = peewee.CharField(max_length=17)
    id = peewee.CharField(max_length=17)
    key_hash = peewee.CharField(max_length=64, unique=True)
    # The secret a rotation replaced, still accepted until previous_expires_at (grace period).
    previous_key_hash = peewee.CharField(max_length=64, unique=True, null=True)
    previous_expires_at = peewee.DateTimeField(null=True)
    prefix = peewee.CharField(max_length=24)
    type = peewee.CharField(max_length=12)
    environment = peewee.CharField(max_length=8)
    name = peewee.CharField(max_length=120)
    description = peewee.TextField(null=True)
    scopes = peewee.JSONField()
    rate_limit_tier = peewee.CharField(max_length=12)
    allowed_origins = peewee.JSONField(null=True)
    created_by = peewee.CharField(max_length=17, null=True)
    expires_at = peewee.DateTimeField(null=True)
    revoked_at = peewee.DateTimeField(null=True)
    last_used_at = peewee.DateTimeField(null=True)
    created_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        table_name = "api_keys"
        primary_key = peewee.CompositeKey("tenant_id", "id")


class Lead(BaseModel):
    tenant_id = peewee.CharField(max_length=17)
    id = peewee.CharField(max_length=17)
    environment = peewee.CharField(max_length=8)
    email = peewee.CharField(max_length=254)
    email_normalized = peewee.CharField(max_length=254)
    first_name = peewee.CharField(max_length=100)
    last_name = peewee.CharField(max_length=100)
    phone = peewee.CharField(max_length=40, null=True)
    phone_e164 = peewee.CharField(max_length=20, null=True)
    company = peewee.CharField(max_length=200, null=True)
    title = peewee.CharField(max_length=200, null=True)
    industry = peewee.CharField(max_length=100, null=True)
    message = peewee.TextField(null=True)
    source = peewee.CharField(max_length=12)
    status = peewee.CharField(max_length=12)
    score = peewee.IntegerField(default=0)
    assigned_to = peewee.CharField(max_length=17, null=True)
    custom_fields = peewee.JSONField(default=dict)
    tags = peewee.JSONField(default=list)
    created_at = peewee.DateTimeField(default=utcnow)
    updated_at = peewee.DateTimeField(default=utcnow)
    # The oldest earlier lead found to be its duplicate (set by the dedup job; migration 0004).
    duplicate_of = peewee.CharField(max_length=17, null=True)
    # +1 with every change to what a client sees of the lead: its ETag (migration 0008).
    version = peewee.IntegerField(default=1)

    class Meta:
        table_name = "leads"
        primary_key = peewee.CompositeKey("tenant_id", "id")


class LeadTag(BaseModel):
    """One row per (lead, tag): makes ``?tag=`` an index lookup instead of a JSON scan."""

    tenant_id = peewee.CharField(max_length=17)
    environment = peewee.CharField(max_length=8)
    tag = peewee.CharField(max_length=50)
    lead_id = peewee.CharField(max_length=17)

    class Meta:
        table_name = "lead_tags"
        primary_key = peewee.CompositeKey("tenant_id", "environment", "tag", "lead_id")


class LeadEvent(BaseModel):
    """A lead's history: who changed what, when. Erased with the lead."""

    tenant_id = peewee.CharField(max_length=17)
    id = peewee.CharField(max_length=17)
    lead_id = peewee.CharField(max_length=17)
    action = peewee.CharField(max_length=32)
    actor_type = peewee.CharField(max_length=12)
    actor_id = peewee.CharField(max_length=17)
    on_behalf_of = peewee.CharField(max_length=17, null=True)
    changes = peewee.JSONField(default=dict)
    request_id = peewee.CharField(max_length=128, null=True)
    occurred_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        table_name = "lead_events"
        primary_key = peewee.CompositeKey("tenant_id", "id")


class AuditEvent(BaseModel):
    """Append-only record of a mutation, written in the mutation's own transaction."""

    tenant_id = peewee.CharField(max_length=17)
    id = peewee.CharField(max_length=17)
    environment = peewee.CharField(max_length=8)
    action = peewee.CharField(max_length=48)
    actor_type = peewee.CharField(max_length=12)
    actor_id = peewee.CharField(max_length=17)
    on_behalf_of = peewee.CharField(max_length=17, null=True)
    api_key_id = peewee.CharField(max_length=17, null=True)
    resource_type = peewee.CharField(max_length=32)
    resource_id = peewee.CharField(max_length=17)
    request_id = peewee.CharField(max_length=128, null=True)
    ip = peewee.CharField(max_length=64, null=True)
    user_agent = peewee.CharField(max_length=512, null=True)
    changes = peewee.JSONField(default=dict)
    occurred_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        table_name = "audit_events"
        primary_key = peewee.CompositeKey("tenant_id", "id")


class LoginFailure(BaseModel):
    """One sign-in attempt that counts against the throttle, keyed by a hash of
    ``account:<tenant>:<email>`` or ``ip:<address>`` (see `store.logins`)."""

    key_hash = peewee.CharField(max_length=64)
    id = peewee.CharField(max_length=17)
    occurred_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        table_name = "login_failures"
        primary_key = peewee.CompositeKey("key_hash", "id")


class RevokedSession(BaseModel):
    """A session token signed out before its expiry (``POST /v1/auth/logout``), by its id.

    Only the token's id is kept, never the token; pruned once ``expires_at`` has passed.
    """

    tenant_id = peewee.CharField(max_length=17)
    token_id = peewee.CharField(max_length=32)
    user_id = peewee.CharField(max_length=17)
    revoked_at = peewee.DateTimeField(default=utcnow)
    expires_at = peewee.DateTimeField()

    class Meta:
        table_name = "revoked_sessions"
        primary_key = peewee.CompositeKey("tenant_id", "token_id")


class Job(BaseModel):
    """A durable background job (see `store.jobs.queue`): committed with the rows it is about."""

    tenant_id = peewee.CharField(max_length=17)
    id = peewee.CharField(max_length=17)
    kind = peewee.CharField(max_length=32)
    payload = peewee.JSONField()
    state = peewee.CharField(max_length=10)
    attempts = peewee.IntegerField(default=0)
    max_attempts = peewee.IntegerField(default=5)
    run_at = peewee.DateTimeField(default=utcnow)
    locked_by = peewee.CharField(max_length=64, null=True)
    locked_until = peewee.DateTimeField(null=True)
    last_error = peewee.TextField(null=True)
    result = peewee.JSONField(null=True)
    created_at = peewee.DateTimeField(default=utcnow)
    updated_at = peewee.DateTimeField(default=utcnow)
    finished_at = peewee.DateTimeField(null=True)

    class Meta:
        table_name = "jobs"
        primary_key = peewee.CompositeKey("tenant_id", "id")


class LeadDuplicate(BaseModel):
    """One detected duplicate pair, stored in both directions, with why they match."""

    tenant_id = peewee.CharField(max_length=17)
    lead_id = peewee.CharField(max_length=17)
    duplicate_id = peewee.CharField(max_length=17)
    environment = peewee.CharField(max_length=8)
    reasons = peewee.JSONField()
    detected_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        table_name = "lead_duplicates"
        primary_key = peewee.CompositeKey("tenant_id", "lead_id", "duplicate_id")


class LeadImport(BaseModel):
    """A bulk CSV import (migration 0005): progress, counters and the first errors by row."""

    tenant_id = peewee.CharField(max_length=17)
    id = peewee.CharField(max_length=17)
    environment = peewee.CharField(max_length=8)
    # uploading -> queued -> processing -> completed | failed
    status = peewee.CharField(max_length=12)
    on_duplicate = peewee.CharField(max_length=8)
    # Who uploaded it (no secrets): the rows are created as that caller, for history and audit.
    actor = peewee.JSONField()
    job_id = peewee.CharField(max_length=17, null=True)
    size_bytes = peewee.BigIntegerField(default=0)
    bytes_done = peewee.BigIntegerField(default=0)
    # Data records consumed so far, committed with the leads they produced (exactly-once resume).
    rows_done = peewee.IntegerField(default=0)
    created_count = peewee.IntegerField(default=0)
    updated_count = peewee.IntegerField(default=0)
    failed_count = peewee.IntegerField(default=0)
    errors = peewee.JSONField(default=list)
    error_count = peewee.IntegerField(default=0)
    message = peewee.TextField(null=True)
    created_at = peewee.DateTimeField(default=utcnow)
    updated_at = peewee.DateTimeField(default=utcnow)
    started_at = peewee.DateTimeField(null=True)
    finished_at = peewee.DateTimeField(null=True)

    class Meta:
        table_name = "lead_imports"
        primary_key = peewee.CompositeKey("tenant_id", "id")


class ImportChunk(BaseModel):
    """One piece (about 1 MiB) of an uploaded CSV file, deleted when its import finishes."""

    tenant_id = peewee.CharField(max_length=17)
    import_id = peewee.CharField(max_length=17)
    seq = peewee.IntegerField()
    data = peewee.BlobField()

    class Meta:
        table_name = "import_chunks"
        primary_key = peewee.CompositeKey("tenant_id", "import_id", "seq")


class IdempotencyRecord(BaseModel):
    """The stored reply to a request sent with an ``Idempotency-Key``, kept 24 hours.

    Scoped by tenant and environment. Only a hash of the client's key is stored, and the reply
    is sealed (AES-GCM) with a key derived from the server secret and the client's key itself:
    a replayed API-key creation returns its plaintext, which must never rest in clear.
    """

    tenant_id = peewee.CharField(max_length=17)
    environment = peewee.CharField(max_length=8)
    key_hash = peewee.CharField(max_length=64)
    fingerprint = peewee.CharField(max_length=64)
    status_code = peewee.IntegerField(null=True)
    response = peewee.TextField(null=True)
    # The credential that made the request (`store.access.power.credential_of`): the only one
    # a replay is served to. The id of the resource the reply shows: erasing it drops the reply.
    owner = peewee.CharField(max_length=64, null=True)
    resource_id = peewee.CharField(max_length=17, null=True)
    created_at = peewee.DateTimeField(default=utcnow)
    expires_at = peewee.DateTimeField()

    class Meta:
        table_name = "idempotency_records"
        primary_key = peewee.CompositeKey("tenant_id", "environment", "key_hash")
        indexes = ((("tenant_id", "resource_id"), False),)


class CaptureSubmission(BaseModel):
    """A recent public-capture post (by payload hash): an identical repost returns its lead."""

    tenant_id = peewee.CharField(max_length=17)
    api_key_id = peewee.CharField(max_length=17)
    payload_hash = peewee.CharField(max_length=64)
    lead_id = peewee.CharField(max_length=17)
    created_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        table_name = "capture_submissions"
        primary_key = peewee.CompositeKey("tenant_id", "api_key_id", "payload_hash")


class LeadCount(BaseModel):
    """How many leads a tenant holds per environment, kept in the transaction that adds or
    removes them (`store.limits.quotas`): the plan quota is checked against it, not a COUNT(*)."""

    tenant_id = peewee.CharField(max_length=17)
    environment = peewee.CharField(max_length=8)
    count = peewee.BigIntegerField(default=0)

    class Meta:
        table_name = "lead_counts"
        primary_key = peewee.CompositeKey("tenant_id", "environment")
