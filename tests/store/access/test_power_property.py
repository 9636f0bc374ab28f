"""The power invariant as a property, through real HTTP requests against the app.

Caller x target x operation, drawn by hypothesis:

- callers: API keys with any non-empty set of scopes, live or sandbox, made by an owner, an
  admin, a member, a deactivated admin or no user, optionally sent ``X-On-Behalf-Of`` a user of
  each role; and the sessions of users of each role;
- operations: create a key, rotate a key, create a user (then sign in as it and mint a key
  with the session), update a user's role / active flag / password, use a scope, and replay
  another credential's idempotent key creation.

What a caller holds is stated from the outside, independently of `store.access.power`: a key
holds its own environment and scopes and acts with its creator's role (no creator: admin),
and is dead (401 everywhere) once the creator is inactive or the role no longer grants the
scopes; ``X-On-Behalf-Of`` intersects that with the user's role; a session holds its role, live.
Whatever a request yields (a key, a user's role, a replayed reply) must be within that.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from store.keys import api_keys
from store.models import User
from store.users.passwords import hash_password
from tests.support import lead_body, make_tenant

PASSWORD = "a long enough passphrase"
SCOPES = ("read:leads", "write:leads", "admin:api_keys", "admin:users", "read:audit", "admin:webhooks")
CAPTURE = "capture:leads"
ROLE_SCOPES = {
    "owner": frozenset(SCOPES),
    "admin": frozenset(SCOPES),
    "member": frozenset({"read:leads", "write:leads"}),
    None: frozenset(),
}
RANK = {None: 0, "member": 1, "admin": 2, "owner": 3}
ENV_RANK = {"sandbox": 1, "live": 2}
# One read-only endpoint per scope, to observe what a caller may do.
SCOPE_PROBES = {
    "read:leads": "/v1/leads",
    "admin:api_keys": "/v1/api-keys",
    "read:audit": "/v1/audit-events",
}


@dataclass(frozen=True)
class Held:
    environment: str
    scopes: frozenset[str]
    role: str | None

    def covers(self, other: Held) -> bool:
        implied = {CAPTURE} if "write:leads" in self.scopes else set()
        return (
            ENV_RANK[other.environment] <= ENV_RANK[self.environment]
            and other.scopes <= self.scopes | implied
            and RANK[other.role] <= RANK[self.role]
        )


def of_role(role: str) -> Held:
    return Held("live", ROLE_SCOPES[role], role)


@dataclass
class World:
    tenant_id: str
    owner_key: str
    users: dict[str, str]  # label -> user id: owner, admin, member, inactive (an admin)
    roles: dict[str, str | None]  # user id -> role while active, None when inactive
    sessions: dict[str, dict[str, str]]
    password_hash: str


@pytest.fixture(scope="module")
def world(client: TestClient) -> Iterator[World]:
    seeded = make_tenant()
    headers = {"X-API-Key": seeded.live_key}
    users = {"owner": seeded.owner_id}
    sessions: dict[str, dict[str, str]] = {}
    for label, role in (("admin", "admin"), ("member", "member"), ("inactive", "admin")):
        email = f"{label}-{uuid.uuid4().hex[:8]}@example.com"
        body = {"email": email, "name": label, "role": role, "password": PASSWORD}
        created = client.post("/v1/users", json=body, headers=headers)
        assert created.status_code == 201, created.text
        users[label] = created.json()["data"]["id"]
        if label != "inactive":
            token = client.post("/v1/auth/login", json={"email": email, "password": PASSWORD}).json()
            sessions[label] = {"Authorization": f"Bearer {token['data']['token']}"}
    owner_email = User.get((User.tenant_id == seeded.id) & (User.id == seeded.owner_id)).email
    login = client.post(
        "/v1/auth/login", json={"email": owner_email, "password": "correct horse battery staple"}
    )
    sessions["owner"] = {"Authorization": f"Bearer {login.json()['data']['token']}"}
    deactivate = client.patch(f"/v1/users/{users['inactive']}", json={"active": False}, headers=headers)
    assert deactivate.status_code == 200, deactivate.text
    roles: dict[str, str | None] = {
        users["owner"]: "owner",
        users["admin"]: "admin",
        users["member"]: "member",
        users["inactive"]: None,
    }
    yield World(seeded.id, seeded.live_key, users, roles, sessions, hash_password(PASSWORD))


@dataclass(frozen=True)
class Caller:
    headers: dict[str, str]
    held: Held | None  # None: a dead credential, refused everywhere
    credential: str


def _mint(world: World, *, environment: str, scopes: frozenset[str], creator: str | None) -> tuple[str, str]:
    """A key inserted as it stands in the database, bypassing creation's checks: a key whose
    creator was since demoted or deactivated is exactly such a key."""
    issued = api_keys.insert_key(
        world.tenant_id,
        name=f"p-{uuid.uuid4().hex}",
        scopes=sorted(scopes),
        key_type=api_keys.SECRET,
        environment=environment,
        description=None,
        rate_limit_tier="standard",
        expires_at=None,
        created_by=world.users[creator] if creator else None,
    )
    return issued.plaintext, issued.record.id


def _key_role(world: World, creator: str | None, scopes: frozenset[str]) -> tuple[bool, str | None]:
    """(alive, role) of a key made by ``creator`` with ``scopes``."""
    if creator is None:
        return True, "admin"
    role = world.roles[world.users[creator]]
    implied = {CAPTURE} if role and "write:leads" in ROLE_SCOPES[role] else set()
    return role is not None and scopes <= ROLE_SCOPES[role] | implied, role


scope_sets = st.frozensets(st.sampled_from(SCOPES), min_size=1)
creators = st.sampled_from(["owner", "admin", "member", "inactive", None])
roles = st.sampled_from(["owner", "admin", "member"])


@st.composite
def callers(draw: st.DrawFn, world: World) -> Caller:
    if draw(st.booleans()):
        role = draw(roles)
        return Caller(world.sessions[role], of_role(role), f"user:{world.users[role]}")
    environment = draw(st.sampled_from(["live", "sandbox"]))
    scopes, creator = draw(scope_sets), draw(creators)
    plaintext, key_id = _mint(world, environment=environment, scopes=scopes, creator=creator)
    alive, role = _key_role(world, creator, scopes)
    headers = {"X-API-Key": plaintext}
    held: Held | None = Held(environment, scopes, role) if alive else None
    acting = draw(st.sampled_from([None, "owner", "admin", "member"]))
    if acting is not None:
        headers["X-On-Behalf-Of"] = world.users[acting]
        if held is not None:
            narrowed_role = acting if RANK[acting] < RANK[role] else role
            held = Held(environment, scopes & ROLE_SCOPES[acting], narrowed_role)
    return Caller(headers, held, f"key:{key_id}>{acting}")


def _fresh_user(world: World, role: str, active: bool) -> str:
    user_id = uuid.uuid4().hex[:16]
    User.create(
        tenant_id=world.tenant_id,
        id=user_id,
        email=f"t-{user_id}@example.com",
        name="Target",
        role=role,
        password_hash=world.password_hash,
        active=active,
    )
    return user_id


def _ok(response: Any) -> bool:
    assert response.status_code < 500, response.text
    return bool(response.status_code < 300)


def _dead(caller: Caller, response: Any) -> None:
    """A dead credential gets 401 invalid_key, whatever it asks."""
    if caller.held is None:
        assert response.status_code == 401 and response.json()["code"] == "invalid_key", response.text


def op_create_key(client: TestClient, world: World, caller: Caller, data: st.DataObject) -> None:
    publishable = data.draw(st.booleans())
    scopes = frozenset({CAPTURE}) if publishable else data.draw(scope_sets)
    environment = data.draw(st.sampled_from([None, "live", "sandbox"]))
    body: dict[str, Any] = {"name": f"c-{uuid.uuid4().hex}", "scopes": sorted(scopes)}
    body |= {"type": "publishable"} if publishable else {}
    body |= {"environment": environment} if environment else {}
    response = client.post("/v1/api-keys", json=body, headers=caller.headers)
    _dead(caller, response)
    if _ok(response):
        assert caller.held is not None
        key = response.json()["data"]
        creator_role = world.roles[key["createdBy"]] if key["createdBy"] else "admin"
        made = Held(key["environment"], frozenset(key["scopes"]), creator_role)
        assert caller.held.covers(made), (caller, made)


def op_rotate_key(client: TestClient, world: World, caller: Caller, data: st.DataObject) -> None:
    environment = data.draw(st.sampled_from(["live", "sandbox"]))
    scopes, creator = data.draw(scope_sets), data.draw(creators)
    _, key_id = _mint(world, environment=environment, scopes=scopes, creator=creator)
    _, role = _key_role(world, creator, scopes)
    body = data.draw(st.sampled_from([None, {"gracePeriodSeconds": 60}]))
    response = client.post(f"/v1/api-keys/{key_id}/rotate", json=body, headers=caller.headers)
    _dead(caller, response)
    if _ok(response):
        assert caller.held is not None
        assert caller.held.covers(Held(environment, scopes, role)), caller


def op_create_user(client: TestClient, world: World, caller: Caller, data: st.DataObject) -> None:
    role = data.draw(roles)
    email = f"n-{uuid.uuid4().hex[:12]}@example.com"
    body = {"email": email, "name": "New", "role": role, "password": PASSWORD}
    response = client.post("/v1/users", json=body, headers=caller.headers)
    _dead(caller, response)
    if not _ok(response):
        return
    assert caller.held is not None and caller.held.covers(of_role(role)), (caller, role)
    # Whoever set the password holds the user: its session, and the key that session mints.
    token = client.post("/v1/auth/login", json={"email": email, "password": PASSWORD}).json()["data"]["token"]
    session = {"Authorization": f"Bearer {token}"}
    minted = client.post(
        "/v1/api-keys",
        json={"name": f"s-{uuid.uuid4().hex}", "scopes": sorted(ROLE_SCOPES[role])},
        headers=session,
    )
    if _ok(minted):
        key = minted.json()["data"]
        assert caller.held.covers(Held(key["environment"], frozenset(key["scopes"]), role))


def op_update_user(client: TestClient, world: World, caller: Caller, data: st.DataObject) -> None:
    before, active = data.draw(roles), data.draw(st.booleans())
    target = _fresh_user(world, before, active)
    change = data.draw(
        st.fixed_dictionaries(
            {},
            optional={
                "role": roles,
                "active": st.booleans(),
                "password": st.just("another long passphrase"),
                "name": st.just("Renamed"),
            },
        ).filter(bool)
    )
    response = client.patch(f"/v1/users/{target}", json=change, headers=caller.headers)
    _dead(caller, response)
    if not _ok(response):
        return
    assert caller.held is not None and caller.held.environment == "live", caller
    after = change.get("role", before)
    if "role" in change or "password" in change or (change.get("active") is True and not active):
        assert caller.held.covers(of_role(after)), (caller, change)
    assert RANK[caller.held.role] >= 2, caller  # owners and admins manage users
    if "owner" in (before, after):
        assert caller.held.role == "owner", caller


def op_use_scope(client: TestClient, world: World, caller: Caller, data: st.DataObject) -> None:
    scope = data.draw(st.sampled_from(sorted(SCOPE_PROBES)))
    response = client.get(SCOPE_PROBES[scope], headers=caller.headers)
    _dead(caller, response)
    if caller.held is not None:
        # Exactly the scopes held: acting for someone narrows, never widens (nor over-narrows).
        assert _ok(response) == (scope in caller.held.scopes), (caller, scope, response.text)
    write = client.post("/v1/leads", json=lead_body(), headers=caller.headers)
    _dead(caller, write)
    if _ok(write):
        assert caller.held is not None and "write:leads" in caller.held.scopes
        assert write.json()["data"]["environment"] == caller.held.environment


def op_replay(client: TestClient, world: World, caller: Caller, data: st.DataObject) -> None:
    """Another credential (or, sometimes, the caller itself) made a key with this
    Idempotency-Key; the caller sends the very same request."""
    idem = {"Idempotency-Key": str(uuid.uuid4())}
    body = {"name": f"r-{uuid.uuid4().hex}", "scopes": ["read:leads"]}
    itself = data.draw(st.booleans()) and caller.held is not None
    maker = caller.headers if itself else {"X-API-Key": world.owner_key}
    first = client.post("/v1/api-keys", json=body, headers={**maker, **idem})
    if not _ok(first):
        return
    plaintext = first.json()["data"]["key"]
    replay = client.post("/v1/api-keys", json=body, headers={**caller.headers, **idem})
    _dead(caller, replay)
    if not itself:
        assert plaintext not in replay.text and "idempotent-replayed" not in replay.headers, replay.text
        # Records are per environment: a sandbox caller never even meets the live one's record.
        held = caller.held
        if held is not None and held.environment == "live" and "admin:api_keys" in held.scopes:
            assert replay.status_code == 409 and replay.json()["code"] == "idempotency_conflict"
    elif replay.status_code < 300:
        assert replay.headers["idempotent-replayed"] == "true" and replay.json()["data"]["key"] == plaintext


OPERATIONS = [op_create_key, op_rotate_key, op_create_user, op_update_user, op_use_scope, op_replay]


@settings(
    max_examples=90,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_no_request_leaves_its_caller_with_more_power(
    client: TestClient, world: World, data: st.DataObject
) -> None:
    caller = data.draw(callers(world), label="caller")
    operation = data.draw(st.sampled_from(OPERATIONS), label="operation")
    operation(client, world, caller, data)
