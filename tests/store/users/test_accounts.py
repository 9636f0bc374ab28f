"""Users in the store: role rules, the last owner, session versions, acting on behalf."""

from __future__ import annotations

import dataclasses
import uuid

import pytest

from store.access import roles
from store.errors import Conflict, PermissionDenied
from store.models import User
from store.users import accounts as users
from tests.support import SeededTenant, principal


def new_user(tenant: SeededTenant, role: str = "member") -> User:
    return users.create_user(
        principal(tenant.live_key),
        email=f"{uuid.uuid4().hex[:8]}@example.com",
        name="N",
        role=role,
        password="p" * 10,
    )


@pytest.mark.parametrize(
    ("actor", "target", "new", "allowed"),
    [
        ("owner", "owner", "member", True),
        ("owner", None, "owner", True),
        ("admin", "member", "admin", True),
        ("admin", None, "owner", False),
        ("admin", "owner", None, False),
        ("member", "member", None, False),
    ],
)
def test_who_may_manage_whom(actor: str, target: str | None, new: str | None, allowed: bool) -> None:
    if allowed:
        roles.check_may_manage(actor, target, new)
    else:
        with pytest.raises(PermissionDenied):
            roles.check_may_manage(actor, target, new)


def test_password_change_and_deactivation_bump_the_session_version(tenant: SeededTenant) -> None:
    caller = principal(tenant.live_key)
    user = new_user(tenant)
    assert user.session_version == 1
    assert users.update_user(caller, user.id, {"name": "Other"}).session_version == 1
    assert users.update_user(caller, user.id, {"password": "q" * 12}).session_version == 2
    assert users.update_user(caller, user.id, {"active": False}).session_version == 3
    assert users.update_user(caller, user.id, {"active": True}).session_version == 3


def test_the_last_owner_cannot_leave(tenant: SeededTenant) -> None:
    with pytest.raises(Conflict):
        users.update_user(principal(tenant.live_key), tenant.owner_id, {"active": False})


def test_acting_as_needs_an_active_user_of_the_same_tenant(
    tenant: SeededTenant, other_tenant: SeededTenant
) -> None:
    caller = principal(tenant.live_key)
    member = new_user(tenant)
    acting = users.acting_as(caller, member.id)
    assert (acting.user_id, acting.on_behalf_of, acting.api_key_id) == (
        member.id,
        member.id,
        caller.api_key_id,
    )
    for target in (other_tenant.owner_id, "missing"):
        with pytest.raises(PermissionDenied):
            users.acting_as(caller, target)
    with pytest.raises(PermissionDenied):
        users.acting_as(dataclasses.replace(caller, actor_type="user"), member.id)
