"""Session tokens in the store: signing, key rotation, expiry, revocation by version."""

from __future__ import annotations

import time

import pytest

from store.errors import Unauthenticated
from store.models import User
from store.users import sessions
from store.users.sessions import SessionCodec
from tests.support import SeededTenant

OLD, NEW = "old-secret-key-0123456789-0123456789", "new-secret-key-0123456789-0123456789"


def owner(tenant: SeededTenant) -> User:
    return User.get((User.tenant_id == tenant.id) & (User.id == tenant.owner_id))


def test_token_resolves_to_the_users_principal(tenant: SeededTenant) -> None:
    codec = SessionCodec([OLD], 600)
    issued = codec.issue(owner(tenant))

    principal = sessions.authenticate(issued.token, codec)

    assert (principal.tenant_id, principal.user_id, principal.actor_type) == (
        tenant.id,
        tenant.owner_id,
        "user",
    )
    assert principal.api_key_id is None and principal.environment == "live"
    assert "admin:users" in principal.scopes


def test_keys_rotate_first_signs_all_verify(tenant: SeededTenant) -> None:
    user = owner(tenant)
    old_token = SessionCodec([OLD], 600).issue(user).token
    rotated = SessionCodec([NEW, OLD], 600)

    assert sessions.authenticate(old_token, rotated).user_id == user.id
    new_token = rotated.issue(user).token
    assert sessions.authenticate(new_token, SessionCodec([NEW], 600)).user_id == user.id
    with pytest.raises(Unauthenticated):
        sessions.authenticate(new_token, SessionCodec([OLD], 600))


def test_expiry_follows_the_ttl(tenant: SeededTenant) -> None:
    codec = SessionCodec([OLD], 60)
    stale = codec.issue(owner(tenant), issued_at=int(time.time()) - 61)
    with pytest.raises(Unauthenticated, match="expired"):
        sessions.authenticate(stale.token, codec)


def test_a_bumped_session_version_revokes(tenant: SeededTenant) -> None:
    codec = SessionCodec([OLD], 600)
    token = codec.issue(owner(tenant)).token
    User.update(session_version=User.session_version + 1).where(
        (User.tenant_id == tenant.id) & (User.id == tenant.owner_id)
    ).execute()
    with pytest.raises(Unauthenticated, match="revoked"):
        sessions.authenticate(token, codec)


def test_a_cursor_signature_is_not_a_token() -> None:
    from store.pagination import CursorCodec

    cursor = CursorCodec([OLD]).encode("f", ["x"])
    with pytest.raises(Unauthenticated):
        sessions.authenticate(cursor, SessionCodec([OLD], 600))
