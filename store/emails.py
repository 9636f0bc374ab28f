"""Email syntax: one rule for every address the store accepts (leads and users alike)."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email


def is_valid_email(email: str) -> bool:
    """Syntax only: no DNS lookups on the request path. Special-use domains (.test, .local)
    are syntactically valid and common in staging and intranets, so they are accepted."""
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
