"""The console's files over HTTP: strict headers on every answer, only shipped files, API untouched."""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path
from typing import Any

import pytest

from handlers.console import mount

ROOT = Path(__file__).resolve().parents[2]
STRICT = {
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}


def assert_strict(response: Any) -> None:
    policy = response.headers["content-security-policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"  # no 'unsafe-inline', no 'unsafe-eval'
    assert directives["style-src"] == "'self'"
    assert directives["connect-src"] == "'self'"
    assert directives["img-src"] == "'self' data:"
    assert directives["frame-ancestors"] == "'none'"
    for name, value in STRICT.items():
        assert response.headers[name] == value


@pytest.mark.parametrize(
    ("path", "media_type"),
    [
        ("/console/", "text/html"),
        ("/console/index.html", "text/html"),
        ("/console/js/main.js", "text/javascript"),
        ("/console/vendor/preact.js", "text/javascript"),
        ("/console/console.css", "text/css"),
    ],
)
def test_files_are_served_with_their_type_and_the_strict_headers(
    client: Any, path: str, media_type: str
) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(media_type)
    assert_strict(response)


def test_the_page_has_no_inline_script_or_style(client: Any) -> None:
    page = client.get("/console/").text
    assert '<script type="module" src="js/main.js"></script>' in page
    assert "<style" not in page and "style=" not in page and "onload=" not in page
    assert page.count("<script") == 1


@pytest.mark.parametrize(
    "path",
    [
        "/console/nope.js",
        "/console/js/",
        "/console/%2e%2e/mount.py",
        "/console/..%2fmount.py",
        "/console/mount.py",
    ],
)
def test_anything_else_under_console_is_404_with_the_headers(client: Any, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert_strict(response)


def test_bare_prefix_redirects_and_writes_are_refused(client: Any) -> None:
    redirect = client.get("/console", follow_redirects=False)
    assert (redirect.status_code, redirect.headers["location"]) == (308, "/console/")
    assert_strict(redirect)
    refused = client.post("/console/", content=b"x")
    assert (refused.status_code, refused.headers["allow"]) == (405, "GET, HEAD")


def test_the_api_is_untouched(client: Any) -> None:
    response = client.get("/v1/health")
    assert response.status_code == 200
    assert "content-security-policy" not in response.headers
    assert client.get("/consoles").status_code == 404  # a prefix match needs the slash


def _glob_match(name: str, pattern: str) -> bool:
    """setuptools' glob: ``*`` never crosses a ``/``."""
    parts, wanted = name.split("/"), pattern.split("/")
    return len(parts) == len(wanted) and all(
        fnmatch.fnmatchcase(a, b) for a, b in zip(parts, wanted, strict=True)
    )


def test_every_static_file_is_in_the_package_data() -> None:
    """`pip install .` ships exactly what the server serves (pyproject's package-data globs)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["handlers.console"]
    package = ROOT / "handlers" / "console"
    shipped = {
        path.relative_to(package).as_posix() for path in (package / "static").rglob("*") if path.is_file()
    }
    missing = {name for name in shipped if not any(_glob_match(name, pattern) for pattern in patterns)}
    assert missing == set()
    assert set(mount.shipped_files()) >= {"/", "/index.html", "/js/main.js", "/vendor/htm.js"}
