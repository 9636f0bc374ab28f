"""The capture ``redirect`` check, as a property against a browser's URL parser.

Python's ``urlsplit`` and a browser (WHATWG) disagree about the host of inputs such as
``https://evil.example\\@www.example.com/``; the check accepts only a strict form on which they
cannot disagree. Property: whatever the check accepts, the WHATWG parser (ada, Node's) resolves
to exactly the allowed origin, and the URL holds nothing that could split a header.
"""

from __future__ import annotations

import ada_url
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from store.keys.origins import is_allowed_redirect, redirect_origin

ALLOWED = "https://www.example.com"
ALLOWED_LIST = [ALLOWED, "http://localhost:3000"]

TRICKY = [
    "\\",
    "@",
    "\t",
    "\n",
    "\r",
    " ",
    "%",
    "%2e",
    "%40",
    "%5c",
    "\u3002",
    "\uff0e",
    "\uff61",
    "/",
    ":",
    "#",
    "?",
    ".",
    "\x00",
    "\x7f",
    "\u200b",
    "\u212a",
    "\u017f",
    "\u24cc",
    "\uff57",
    "[",
    "]",
    "*",
    ";",
    "\x0b",
]
SCHEMES = ["https", "http", "HTTPS", "hTtP", "", "javascript", "data", "ftp", "https ", " https"]
SEPARATORS = ["://", ":/", ":", "//", ":\\\\", ":\\/", ":/\\", "://\\", ":///", "\t://", ":\t//"]
USERINFO = ["", "evil.example@", "evil.example\\@", "evil.example%40", "a:b@", "@", "www.example.com@"]
HOSTS = [
    "www.example.com",
    "WWW.EXAMPLE.COM",
    "evil.example",
    "www.example.com.evil.example",
    "localhost",
    "example.com",
    "www.example.com.",
]
PORTS = ["", ":443", ":80", ":3000", ":0443", ":", ":65536", ":99999999"]


@st.composite
def tricky_urls(draw: st.DrawFn) -> str:
    host = draw(st.sampled_from(HOSTS))
    if draw(st.booleans()):  # break the host with a tricky character somewhere
        at = draw(st.integers(0, len(host)))
        host = host[:at] + draw(st.sampled_from(TRICKY)) + host[at:]
    tail = draw(st.lists(st.sampled_from(["/", "thanks", "?x=1", "#f", *TRICKY]), max_size=6))
    return (
        draw(st.sampled_from(SCHEMES))
        + draw(st.sampled_from(SEPARATORS))
        + draw(st.sampled_from(USERINFO))
        + host
        + draw(st.sampled_from(PORTS))
        + "".join(tail)
    )


def browser_origin(url: str) -> str | None:
    try:
        return str(ada_url.URL(url).origin)
    except ValueError:
        return None


def _holds(url: str) -> None:
    if is_allowed_redirect(url, ALLOWED_LIST):
        assert browser_origin(url) in ALLOWED_LIST, url
        assert browser_origin(url) == redirect_origin(url), url
        assert not any(c in url for c in "\\\r\n\t ") and url.isascii() and url.isprintable(), url


@settings(max_examples=3000, deadline=None)
@given(tricky_urls())
@example("https://evil.example\\@www.example.com/")
@example("https://www.example.com\r\nSet-Cookie: a=b")
@example("https://www.example.com/thanks\r\n")
@example("//www.example.com/thanks")
@example("https:www.example.com/")
@example("https://www.example.com%2f@evil.example/")
@example("https://www。example。com/")
def test_an_accepted_redirect_leads_a_browser_to_an_allowed_origin(url: str) -> None:
    _holds(url)


@settings(max_examples=2000, deadline=None)
@given(
    st.lists(st.sampled_from([*"htps:/\\@.wexamplco", *TRICKY]), max_size=30).map(
        lambda t: ALLOWED + "".join(t)
    )
)
def test_anything_after_the_allowed_origin_keeps_the_property(url: str) -> None:
    _holds(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://www.example.com",
        "https://www.example.com/",
        "https://WWW.Example.COM:443/thanks?from=contact#top",
        "https://www.example.com/a%20b/c;d=e?q=@x&y=(1)",
        "http://localhost:3000/thanks",
    ],
)
def test_plain_urls_on_an_allowed_origin_are_accepted(url: str) -> None:
    assert is_allowed_redirect(url, ALLOWED_LIST)
    assert browser_origin(url) in ALLOWED_LIST


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example\\@www.example.com/",
        "https://evil.example@www.example.com/",
        "https://www.example.com\r\nLocation: https://evil.example/",
        "https://www.exa\tmple.com/",
        "//www.example.com/",
        "www.example.com/thanks",
        "https:www.example.com",
        "https://www%2eexample.com/",
        "https://www。example。com/",
        "https://www.example.com.evil.example/",
        "http://www.example.com/",  # another scheme is another origin
        "https://www.example.com:8443/",
        "javascript://www.example.com/%0aalert(1)",
    ],
)
def test_tricky_forms_are_refused(url: str) -> None:
    assert not is_allowed_redirect(url, ALLOWED_LIST)
