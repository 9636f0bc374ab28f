"""Origin normalization and matching for publishable keys."""

from __future__ import annotations

import pytest

from store.errors import ValidationFailed
from store.keys import origins


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://www.Example.com", "https://www.example.com"),
        ("HTTPS://example.com:443/", "https://example.com"),
        ("http://localhost:3000/thanks?x=1", "http://localhost:3000"),
        ("http://example.com:80", "http://example.com"),
        ("ftp://example.com", None),
        ("example.com", None),
        ("https://", None),
        ("https://example.com:99999", None),
    ],
)
def test_origin_of(url: str, origin: str | None) -> None:
    assert origins.origin_of(url) == origin


def test_key_origins_are_bare_normalized_and_unique() -> None:
    given = ["https://A.example/", "https://a.example", "http://localhost:8080"]
    assert origins.normalize_origins(given, publishable=True) == [
        "https://a.example",
        "http://localhost:8080",
    ]
    assert origins.normalize_origins(None, publishable=False) is None


@pytest.mark.parametrize(
    "bad", ["https://a.example/path", "https://a.example?q=1", "not a url", "https://a.example#x"]
)
def test_key_origins_refuse_anything_but_an_origin(bad: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        origins.normalize_origins(["https://ok.example", bad], publishable=True)
    assert [e.field for e in caught.value.errors] == ["allowedOrigins[1]"]


def test_secret_keys_take_no_origins() -> None:
    with pytest.raises(ValidationFailed):
        origins.normalize_origins(["https://a.example"], publishable=False)


def test_is_allowed() -> None:
    allowed = ["https://a.example", "http://localhost:3000"]
    assert origins.is_allowed("https://A.example", allowed)
    assert origins.is_allowed("http://localhost:3000", allowed)
    assert not origins.is_allowed("https://a.example.evil.com", allowed)
    assert not origins.is_allowed("null", allowed)
    assert not origins.is_allowed("https://a.example", None)
    assert not origins.is_allowed(None, allowed)
