"""Email syntax: one rule for every address the store accepts (leads and users alike)."""

from __future__ import annotations

import functools
import re

from email_validator import EmailNotValidError, validate_email
from email_validator.rfc_constants import DOT_ATOM_TEXT, EMAIL_MAX_LENGTH

# A plain ASCII host name (letters, digits, dots, hyphens; no IDNA ``xn--`` label, whose Unicode
# form has another length): its normalized and ASCII forms are the name itself, lower-cased.
_PLAIN_DOMAIN = re.compile(r"[A-Za-z0-9.\-]+\Z")


def _check(email: str) -> bool:
    try:
        validate_email(
            email,
            check_deliverability=False,
            globally_deliverable=False,
            test_environment=True,
            allow_quoted_local=True,
            allow_domain_literal=True,
        )
    except EmailNotValidError:
        return False
    return True


@functools.lru_cache(maxsize=4096)
def _domain_ok(domain: str) -> bool:
    """Whether email-validator accepts this part after the @-sign (with any valid local part)."""
    return _check("a@" + domain)


def is_valid_email(email: str) -> bool:
    """Syntax only: no DNS lookups on the request path. Special-use domains (.test, .local)
    are syntactically valid and common in staging and intranets, so they are accepted.

    The common address (an ASCII dot-atom local part at a plain ASCII host name) is decided
    without re-validating its domain every time: email-validator checks such a local part with
    this very pattern, the domain on its own (cached here: a bulk import repeats a few domains
    thousands of times, ~50 us each), and the length of the whole, which for such an address
    is its length as given. Everything else goes to email-validator whole. ``tests/store/
    test_emails.py`` checks over random addresses that both ways agree."""
    local, at, domain = email.rpartition("@")
    if at and DOT_ATOM_TEXT.match(local) and _PLAIN_DOMAIN.match(domain) and "xn--" not in domain.lower():
        return len(email) <= EMAIL_MAX_LENGTH and _domain_ok(domain)
    return _check(email)
