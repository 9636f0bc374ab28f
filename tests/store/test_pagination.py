"""Cursors: opaque, signed, bound to their list; anything else is a 400, never a wrong page."""

from __future__ import annotations

import pytest
from itsdangerous import URLSafeSerializer

from store.errors import BadRequest
from store.pagination import CursorCodec, PageResult

SECRET = "a-secret-that-is-long-enough-for-the-tests-0123"
CODEC = CursorCodec([SECRET])
FINGERPRINT = CursorCodec.fingerprint("leads", {"env": "live", "sort": "-createdAt", "status": None})


def _refused(token: str, fingerprint: str = FINGERPRINT, codec: CursorCodec = CODEC) -> BadRequest:
    with pytest.raises(BadRequest) as caught:
        codec.decode(token, fingerprint)
    assert isinstance(caught.value, BadRequest) and caught.value.code == "bad_request"
    assert [e.field for e in caught.value.errors] == ["cursor"]
    return caught.value


def test_round_trip() -> None:
    token = CODEC.encode(FINGERPRINT, ["2026-01-01T00:00:00", "abc"])
    assert CODEC.decode(token, FINGERPRINT) == ["2026-01-01T00:00:00", "abc"]
    assert "abc" not in token or token.count(".") >= 1  # signed, not a bare value


@pytest.mark.parametrize("position", [0, 5, 20, -2])  # not -1: its low bits are base64 padding
def test_any_edited_character_is_refused(position: int) -> None:
    token = CODEC.encode(FINGERPRINT, ["2026-01-01T00:00:00", "abc"])
    index = position % len(token)
    swapped = "A" if token[index] != "A" else "B"
    _refused(token[:index] + swapped + token[index + 1 :])


@pytest.mark.parametrize("token", ["x", "not-a-cursor", "e30", "e30.", "....", "W10.abc"])
def test_garbage_is_refused(token: str) -> None:
    _refused(token)


def test_forged_with_another_secret_is_refused() -> None:
    forged = CursorCodec(["some-other-secret-entirely-0123456789"]).encode(FINGERPRINT, ["9999", "zzz"])
    _refused(forged)


def test_unsigned_payload_is_refused() -> None:
    naked = URLSafeSerializer("", salt="leadpipe.cursor").dumps({"f": FINGERPRINT, "p": ["x", "y"]})
    _refused(str(naked))


@pytest.mark.parametrize(
    "other",
    [
        CursorCodec.fingerprint("api_keys", {"env": "live"}),
        CursorCodec.fingerprint("leads", {"env": "sandbox", "sort": "-createdAt", "status": None}),
        CursorCodec.fingerprint("leads", {"env": "live", "sort": "createdAt", "status": None}),
        CursorCodec.fingerprint("leads", {"env": "live", "sort": "-createdAt", "status": "new"}),
        CursorCodec.fingerprint("lead_history", {"lead": "abc"}),
    ],
)
def test_cursor_of_another_list_is_refused(other: str) -> None:
    assert other != FINGERPRINT
    _refused(CODEC.encode(other, ["x", "y"]))


@pytest.mark.parametrize("payload", [["x"], "x", {"f": FINGERPRINT}, {"f": FINGERPRINT, "p": "x"}])
def test_signed_but_malformed_payloads_are_refused(payload: object) -> None:
    token = URLSafeSerializer([SECRET], salt="leadpipe.cursor").dumps(payload)
    _refused(str(token))


def test_cursors_survive_secret_rotation() -> None:
    token = CODEC.encode(FINGERPRINT, ["v", "id"])
    rotated = CursorCodec(["the-new-secret-0123456789-0123456789", SECRET])
    assert rotated.decode(token, FINGERPRINT) == ["v", "id"]
    retired = CursorCodec(["the-new-secret-0123456789-0123456789"])
    _refused(token, codec=retired)


def test_fingerprint_is_stable_and_order_independent() -> None:
    assert CursorCodec.fingerprint("k", {"a": 1, "b": 2}) == CursorCodec.fingerprint("k", {"b": 2, "a": 1})
    assert CursorCodec.fingerprint("k", {"a": 1}) != CursorCodec.fingerprint("k", {"a": 2})


@pytest.mark.parametrize(
    ("rows", "limit", "has_more"), [(0, 3, False), (2, 3, False), (3, 3, False), (4, 3, True)]
)
def test_page_trims_the_lookahead_row(rows: int, limit: int, has_more: bool) -> None:
    page: PageResult[int] = CODEC.page(list(range(rows)), limit, FINGERPRINT, lambda n: [n])
    assert page.items == list(range(min(rows, limit)))
    assert page.has_more is has_more
    if has_more:
        assert page.next_cursor is not None
        assert CODEC.decode(page.next_cursor, FINGERPRINT) == [limit - 1]
    else:
        assert page.next_cursor is None


def test_the_first_secret_signs_and_older_ones_still_verify() -> None:
    old = CursorCodec(["old-secret-0123456789abcdef0123456789"])
    rotated = CursorCodec(["new-secret-0123456789abcdef0123456789", "old-secret-0123456789abcdef0123456789"])
    only_new = CursorCodec(["new-secret-0123456789abcdef0123456789"])
    fingerprint = CursorCodec.fingerprint("leads", {})

    issued_before_rotation = old.encode(fingerprint, ["a", "b"])
    assert rotated.decode(issued_before_rotation, fingerprint) == ["a", "b"]
    assert only_new.decode(rotated.encode(fingerprint, ["c", "d"]), fingerprint) == ["c", "d"]
