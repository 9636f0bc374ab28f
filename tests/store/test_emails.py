"""`is_valid_email`'s shortcut for common addresses (cached domain check) answers exactly what
email-validator answers for the whole address, over random addresses near every edge: dots,
quotes, @-signs, non-ASCII, IDNA labels, special-use domains and lengths around the limits."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from store import emails

ATEXT = "abcXYZ019!#$%&'*+-/=?^_`{|}~"
LOCAL_CHARS = ATEXT + '.."@ \\é'
DOMAIN_CHARS = "abcXYZ019.-_é"
LABELS = ("example", "xn--bcher-kva", "localhost", "test", "local", "invalid", "com", "-bad", "bad-")
LABELS += ("a" * 63, "a" * 64)
LONG_LOCALS = ["", "a" * 64, "b" * 65, "c" * 250]
local_parts = st.one_of(st.text(LOCAL_CHARS, max_size=12), st.sampled_from(LONG_LOCALS))
domains = st.one_of(
    st.text(DOMAIN_CHARS, max_size=12),
    st.lists(st.sampled_from(LABELS), min_size=1, max_size=5).map(".".join),
    st.sampled_from(["[127.0.0.1]", "[IPv6:::1]", "example.com.", ".example.com", "b..c"]),
    st.just("x" * 250 + ".com"),
)


def _expected(email: str) -> bool:
    return emails._check(email)


@settings(max_examples=1500, deadline=None)
@given(local=local_parts, domain=domains, ats=st.integers(0, 2))
def test_the_shortcut_agrees_with_email_validator(local: str, domain: str, ats: int) -> None:
    email = local + "@" * ats + domain
    assert emails.is_valid_email(email) == _expected(email), email


def test_long_addresses_at_the_limit() -> None:
    domain = "example.com"
    for length in (253, 254, 255):
        email = "a" * (length - len(domain) - 1) + "@" + domain
        assert emails.is_valid_email(email) == _expected(email) == (length <= 254)
