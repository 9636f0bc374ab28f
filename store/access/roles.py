"""User roles: the scopes a session gets, and who may manage whom.

| role   | session scopes                                | user administration                     |
| ------ | --------------------------------------------- | --------------------------------------- |
| owner  | every scope                                   | anyone; may grant and revoke ``owner``  |
| admin  | every scope                                   | admins and members; never owners        |
| member | ``read:leads``, ``write:leads``               | none (may list and view users)          |

The tenant always keeps at least one active owner. An API key acts with the role of the user
it acts as (its creator, or the ``X-On-Behalf-Of`` user); a key with no user acts as an admin.
"""

from __future__ import annotations

from store.access.principals import SCOPES
from store.errors import Conflict, PermissionDenied

OWNER, ADMIN, MEMBER = "owner", "admin", "member"
ROLES = (OWNER, ADMIN, MEMBER)

ROLE_SCOPES: dict[str, frozenset[str]] = {
    OWNER: frozenset(SCOPES),
    ADMIN: frozenset(SCOPES),
    MEMBER: frozenset({"read:leads", "write:leads"}),
}


def scopes_for(role: str) -> frozenset[str]:
    return ROLE_SCOPES.get(role, frozenset())


def check_may_manage(actor_role: str, target_role: str | None, new_role: str | None) -> None:
    """Raise `PermissionDenied` unless ``actor_role`` may touch ``target_role`` / grant ``new_role``.

    ``target_role`` is None on creation; ``new_role`` is None when the role is not changing.
    """
    if actor_role not in (OWNER, ADMIN):
        raise PermissionDenied("Only owners and admins manage users")
    if actor_role != OWNER and OWNER in (target_role, new_role):
        raise PermissionDenied("Only an owner may create, change or grant the owner role")


def check_keeps_an_owner(remaining_active_owners: int) -> None:
    if remaining_active_owners < 1:
        raise Conflict("A tenant keeps at least one active owner")
