"""The settings for proxies and slow bodies: typed, defaulted safely, loud about bad values."""

from __future__ import annotations

import pytest

from handlers.settings import ConfigError, Settings


def test_defaults_trust_no_proxy_and_time_out_bodies_after_30_s() -> None:
    settings = Settings.from_env({})
    assert settings.trusted_proxies == ()
    assert settings.body_timeout_seconds == 30


def test_trusted_proxies_are_normalized_networks() -> None:
    settings = Settings.from_env({"LEADPIPE_TRUSTED_PROXIES": " 10.1.2.3/8 , 192.168.0.7, ::1 "})
    assert settings.trusted_proxies == ("10.0.0.0/8", "192.168.0.7/32", "::1/128")


@pytest.mark.parametrize("bad", ["*", "localhost", "10.0.0.0/33", "1.2.3.4, nope"])
def test_anything_but_addresses_and_cidrs_is_refused(bad: str) -> None:
    with pytest.raises(ConfigError, match="LEADPIPE_TRUSTED_PROXIES"):
        Settings.from_env({"LEADPIPE_TRUSTED_PROXIES": bad})


@pytest.mark.parametrize("bad", ["0", "-1", "abc", "3601"])
def test_the_body_timeout_is_bounded(bad: str) -> None:
    with pytest.raises(ConfigError, match="LEADPIPE_BODY_TIMEOUT_SECONDS"):
        Settings.from_env({"LEADPIPE_BODY_TIMEOUT_SECONDS": bad})
