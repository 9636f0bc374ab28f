"""Revocation is immediate across processes. Two ``leadpipe serve`` on one database each
remember the principals of keys they have served (`handlers.http.credentials`); a key revoked
through one, or whose creator is deactivated or demoted through one, is refused by the other
on its very next request, whatever that request is."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.server_support import two_servers
from tests.support import assert_error, assert_ok, create_user, lead_body, make_key, sign_in

pytestmark = pytest.mark.slow


def _served_twice(b: httpx.Client, key: str, lead_id: str) -> None:
    """The key works on B, and B has seen it before (its next request is checked on the hint)."""
    for _ in range(2):
        assert b.get(f"/v1/leads/{lead_id}", headers={"X-API-Key": key}).status_code == 200
        assert b.get("/v1/leads", headers={"Authorization": f"Bearer {key}"}).status_code == 200


def test_a_key_stopped_through_one_server_is_refused_by_the_other_at_once(tmp_path: Path) -> None:
    with two_servers(tmp_path) as pair:
        a, b, made = pair.a, pair.b, pair.tenant
        owner = {"X-API-Key": made["apiKey"]}
        lead = assert_ok(a.post("/v1/leads", json=lead_body(), headers=owner), 201)
        admin = create_user(a, owner, "admin")
        session = sign_in(a, admin["email"])
        revoked = make_key(a, owner, scopes=["read:leads"])
        deactivated = make_key(a, session, scopes=["read:leads"])
        demoted = make_key(a, session, scopes=["read:leads", "admin:api_keys"])
        kept = make_key(a, session, scopes=["read:leads", "write:leads"])
        for key in (revoked, deactivated, demoted, kept):
            _served_twice(b, key["key"], lead["id"])

        assert_ok(a.delete(f"/v1/api-keys/{revoked['id']}", headers=owner))
        refused = b.get(f"/v1/leads/{lead['id']}", headers={"X-API-Key": revoked["key"]})
        assert "revoked" in assert_error(refused, 401, "invalid_key")["message"]
        listed = b.get("/v1/leads", headers={"Authorization": f"Bearer {revoked['key']}"})
        assert_error(listed, 401, "invalid_key")

        # The creator demoted to member: a member may not manage keys, so that key stops;
        # one within a member's scopes goes on working.
        assert_ok(a.patch(f"/v1/users/{admin['id']}", json={"role": "member"}, headers=owner))
        refused = b.get("/v1/leads", headers={"X-API-Key": demoted["key"]})
        assert "no longer grants" in assert_error(refused, 401, "invalid_key")["message"]
        assert b.get("/v1/leads", headers={"X-API-Key": kept["key"]}).status_code == 200

        assert_ok(a.patch(f"/v1/users/{admin['id']}", json={"active": False}, headers=owner))
        for key in (deactivated, kept):
            refused = b.get(f"/v1/leads/{lead['id']}", headers={"X-API-Key": key["key"]})
            assert "deactivated" in assert_error(refused, 401, "invalid_key")["message"]
        # A write on a stopped key is refused too, and writes nothing.
        write = b.post("/v1/leads", json=lead_body(), headers={"X-API-Key": kept["key"]})
        assert_error(write, 401, "invalid_key")
        assert len(assert_ok(b.get("/v1/leads", headers=owner))) == 1
    assert pair.errors() == ""
