"""Idempotent writes: the same ``Idempotency-Key`` and request within 24 h replay the first reply.

`run` opens the outer transaction and, inside it, claims the key, runs the write *and* the
rendering of its reply (the caller's ``produce``), and stores the sealed reply: the record
commits with the resource or not at all. A failure (validation, conflict, 5xx) rolls back the
claim too, so failures are never cached and a retry runs afresh.

Concurrent requests with one key create one resource. On SQLite the IMMEDIATE write lock
serialises them; on PostgreSQL the second claim's INSERT waits on the first's uncommitted row
and, once that commits, fails on the primary key, so the second replays (or, if the first
rolled back, proceeds). Either way the others wait rather than race.

The stored reply may hold an API key's plaintext, so it is sealed with AES-GCM under a key
derived (HKDF) from the server secret and the client's idempotency key; only a SHA-256 of the
client's key is stored. Someone holding the database alone can read neither.

A reply is replayed only to the credential that made the request (the same API key, or the
same signed-in user, acting for the same ``X-On-Behalf-Of`` user): any other credential of the
tenant sending the same key gets ``409 idempotency_conflict`` and learns nothing of the reply
(`store.access.power.ensure_same_credential`). Each record names the resource its reply shows,
so erasing a lead drops the replies holding it (`forget_resources`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import peewee

from store import sealing
from store.access import power
from store.access.principals import Principal
from store.db import database, transaction
from store.errors import IdempotencyConflict
from store.models import IdempotencyRecord, utcnow

TTL = dt.timedelta(hours=24)
MAX_KEY_LENGTH = 255
# Each idempotent write also purges the tenant's expired records with this probability: the
# table stays bounded without a scheduler (`leadpipe idempotency purge` does all tenants).
PURGE_PROBABILITY = 0.05

Body = dict[str, Any]


@dataclass(frozen=True)
class Outcome:
    body: Body
    status: int
    replayed: bool


def fingerprint(method: str, path: str, body: Any) -> str:
    """What makes two requests "the same": method, path and the canonical JSON body."""
    canonical = json.dumps([method.upper(), path, body], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


SALT = b"leadpipe-idempotency-v1"


def seal(secret: str, tenant_id: str, environment: str, key: str, body: Body) -> str:
    return sealing.seal(secret, SALT, (tenant_id, environment, key), json.dumps(body).encode())


def unseal(secrets: tuple[str, ...], tenant_id: str, environment: str, key: str, stored: str) -> Body | None:
    """Try every configured secret (the first seals; older ones still open during rotation)."""
    plain = sealing.unseal(secrets, SALT, (tenant_id, environment, key), stored)
    if plain is None:
        return None
    body: Body = json.loads(plain)
    return body


def _find(tenant_id: str, environment: str, key_hash: str) -> IdempotencyRecord | None:
    return IdempotencyRecord.get_or_none(
        (IdempotencyRecord.tenant_id == tenant_id)
        & (IdempotencyRecord.environment == environment)
        & (IdempotencyRecord.key_hash == key_hash)
    )


def _replay(
    record: IdempotencyRecord, caller: Principal, request_fingerprint: str, secrets: tuple[str, ...], key: str
) -> Outcome:
    # Before anything else: another credential learns nothing about the stored request.
    power.ensure_same_credential(caller, record.owner)
    if record.fingerprint != request_fingerprint:
        raise IdempotencyConflict(
            "This Idempotency-Key was already used for a different request (method, path or body)"
        )
    body, status = None, record.status_code
    if record.response is not None and status is not None:
        body = unseal(secrets, record.tenant_id, record.environment, key, record.response)
    if body is None or status is None:
        raise IdempotencyConflict("The reply stored for this Idempotency-Key can no longer be replayed")
    return Outcome(body, int(status), replayed=True)


@transaction
def run(
    caller: Principal,
    key: str,
    request_fingerprint: str,
    secrets: tuple[str, ...],
    produce: Callable[[], tuple[Body, int]],
) -> Outcome:
    """Replay the stored reply for ``key`` (to the credential that made it only), or run
    ``produce`` and store its reply atomically, tagged with the resource it shows."""
    tenant_id, environment = caller.tenant_id, caller.environment
    key_hash = _key_hash(key)
    now = utcnow()
    if random.random() < PURGE_PROBABILITY:
        purge_expired(tenant_id, now)
    record = _find(tenant_id, environment, key_hash)
    if record is not None and record.expires_at > now:
        return _replay(record, caller, request_fingerprint, secrets, key)
    if record is not None:
        record.delete_instance()
    try:
        with database.atomic():  # a savepoint: a lost race must not abort the transaction
            IdempotencyRecord.insert(
                tenant_id=tenant_id,
                environment=environment,
                key_hash=key_hash,
                fingerprint=request_fingerprint,
                owner=power.credential_of(caller),
                created_at=now,
                expires_at=now + TTL,
            ).execute()
    except peewee.IntegrityError:
        winner = _find(tenant_id, environment, key_hash)
        if winner is None:
            raise IdempotencyConflict("A request with this Idempotency-Key is in progress; retry") from None
        return _replay(winner, caller, request_fingerprint, secrets, key)
    body, status = produce()
    (
        IdempotencyRecord.update(
            status_code=status,
            response=seal(secrets[0], tenant_id, environment, key, body),
            resource_id=_resource_id(body),
        )
        .where(
            (IdempotencyRecord.tenant_id == tenant_id)
            & (IdempotencyRecord.environment == environment)
            & (IdempotencyRecord.key_hash == key_hash)
        )
        .execute()
    )
    return Outcome(body, status, replayed=False)


def _resource_id(body: Body) -> str | None:
    """The id of the resource a reply shows (ids are unique across kinds), if it shows one."""
    data = body.get("data")
    resource = data.get("id") if isinstance(data, dict) else None
    return resource if isinstance(resource, str) else None


def forget_resources(tenant_id: str, resource_ids: list[str]) -> int:
    """Drop the stored replies showing these (erased or merged-away) resources: a replay must
    never bring back an erased lead. A retry with the same key then runs afresh."""
    query = IdempotencyRecord.delete().where(
        (IdempotencyRecord.tenant_id == tenant_id) & IdempotencyRecord.resource_id.in_(resource_ids)
    )
    return int(query.execute())


def purge_expired(tenant_id: str, now: dt.datetime | None = None) -> int:
    now = now or utcnow()
    query = IdempotencyRecord.delete().where(
        (IdempotencyRecord.tenant_id == tenant_id) & (IdempotencyRecord.expires_at <= now)
    )
    return int(query.execute())


@transaction
def purge_all_expired() -> int:
    """Maintenance (``leadpipe idempotency purge``): every tenant's expired records, tenant by tenant."""
    tenant_ids = [
        row.tenant_id
        for row in IdempotencyRecord.select(IdempotencyRecord.tenant_id)
        .where(IdempotencyRecord.expires_at <= utcnow())
        .distinct()
    ]
    return sum(purge_expired(tenant_id) for tenant_id in tenant_ids)
