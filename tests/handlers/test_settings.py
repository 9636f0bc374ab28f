"""Settings from the environment: typed, defaulted, and loud about anything wrong."""

from __future__ import annotations

import pytest

from handlers.settings import DEV_SECRET, ConfigError, Settings

GOOD_SECRET = "s" * 32


def test_defaults_for_a_newcomer() -> None:
    settings = Settings.from_env({})
    assert settings.database_url == "sqlite:///leadpipe.db"
    assert settings.secret_keys == (DEV_SECRET,)
    assert settings.production is False
    assert settings.validate_responses is True  # on outside production: spec drift shows up early
    assert (settings.max_body_bytes, settings.db_pool_size, settings.log_level) == (1_048_576, 20, "INFO")


def test_production_without_secret_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="LEADPIPE_SECRET_KEY is required"):
        Settings.from_env({"LEADPIPE_ENV": "production"})
    with pytest.raises(ConfigError, match="LEADPIPE_SECRET_KEY"):
        Settings.from_env({"LEADPIPE_ENV": "production", "LEADPIPE_SECRET_KEY": " , "})


@pytest.mark.parametrize("secret", ["short", f"{GOOD_SECRET},short", DEV_SECRET])
def test_production_refuses_weak_or_public_secrets(secret: str) -> None:
    with pytest.raises(ConfigError, match="LEADPIPE_SECRET_KEY"):
        Settings.from_env({"LEADPIPE_ENV": "production", "LEADPIPE_SECRET_KEY": secret})


def test_production_with_secrets() -> None:
    other = "t" * 40
    settings = Settings.from_env(
        {"LEADPIPE_ENV": " Production ", "LEADPIPE_SECRET_KEY": f" {GOOD_SECRET} , {other} "}
    )
    assert settings.production is True
    assert settings.secret_keys == (GOOD_SECRET, other)
    assert settings.validate_responses is False  # ~14% throughput: off in production by default


@pytest.mark.parametrize("mode", ["prod", "staging", "test"])
def test_unknown_mode_is_refused(mode: str) -> None:
    with pytest.raises(ConfigError, match="LEADPIPE_ENV"):
        Settings.from_env({"LEADPIPE_ENV": mode})


@pytest.mark.parametrize(
    "url", ["sqlite:////tmp/x.db", "sqlite:///relative.db", "postgresql://u@h:5432/db", "postgres://h/db"]
)
def test_database_urls(url: str) -> None:
    assert Settings.from_env({"LEADPIPE_DATABASE_URL": f" {url} "}).database_url == url


@pytest.mark.parametrize("url", ["mysql://h/db", "leadpipe.db", "sqlite://x.db", ""])
def test_bad_database_urls(url: str) -> None:
    with pytest.raises(ConfigError, match="LEADPIPE_DATABASE_URL"):
        Settings.from_env({"LEADPIPE_DATABASE_URL": url})


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("LEADPIPE_MAX_BODY_BYTES", "abc"),
        ("LEADPIPE_MAX_BODY_BYTES", "1.5"),
        ("LEADPIPE_MAX_BODY_BYTES", "100"),
        ("LEADPIPE_MAX_BODY_BYTES", "-1"),
        ("LEADPIPE_MAX_BODY_BYTES", str(10**12)),
        ("LEADPIPE_DB_POOL_SIZE", "0"),
        ("LEADPIPE_DB_POOL_SIZE", "many"),
        ("LEADPIPE_DB_POOL_SIZE", "501"),
    ],
)
def test_bad_integers_are_refused_by_name(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({name: value})


@pytest.mark.parametrize(
    ("name", "value", "attribute", "expected"),
    [
        ("LEADPIPE_MAX_BODY_BYTES", "2048", "max_body_bytes", 2048),
        ("LEADPIPE_MAX_BODY_BYTES", " 4096 ", "max_body_bytes", 4096),
        ("LEADPIPE_MAX_BODY_BYTES", "", "max_body_bytes", 1_048_576),
        ("LEADPIPE_DB_POOL_SIZE", "5", "db_pool_size", 5),
    ],
)
def test_good_integers(name: str, value: str, attribute: str, expected: int) -> None:
    assert getattr(Settings.from_env({name: value}), attribute) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1", True),
        ("true", True),
        ("TRUE", True),
        ("yes", True),
        ("on", True),
        (" On ", True),
        ("0", False),
        ("false", False),
        ("No", False),
        ("off", False),
        ("", True),
    ],
)
def test_booleans(value: str, expected: bool) -> None:
    assert Settings.from_env({"LEADPIPE_VALIDATE_RESPONSES": value}).validate_responses is expected


@pytest.mark.parametrize("value", ["maybe", "2", "y", "enabled"])
def test_bad_booleans_are_refused_by_name(value: str) -> None:
    with pytest.raises(ConfigError, match="LEADPIPE_VALIDATE_RESPONSES"):
        Settings.from_env({"LEADPIPE_VALIDATE_RESPONSES": value})


@pytest.mark.parametrize(
    ("value", "expected"), [("debug", "DEBUG"), (" warning ", "WARNING"), ("ERROR", "ERROR")]
)
def test_log_levels(value: str, expected: str) -> None:
    assert Settings.from_env({"LEADPIPE_LOG_LEVEL": value}).log_level == expected


@pytest.mark.parametrize("value", ["TRACE", "loud", "CRITICAL"])
def test_bad_log_levels(value: str) -> None:
    with pytest.raises(ConfigError, match="LEADPIPE_LOG_LEVEL"):
        Settings.from_env({"LEADPIPE_LOG_LEVEL": value})


def test_reads_os_environ_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEADPIPE_DB_POOL_SIZE", "7")
    assert Settings.from_env().db_pool_size == 7
    monkeypatch.setenv("LEADPIPE_DB_POOL_SIZE", "seven")
    with pytest.raises(ConfigError):
        Settings.from_env()


def test_webhook_and_event_settings() -> None:
    settings = Settings.from_env(
        {
            "LEADPIPE_WEBHOOK_RETRY_DELAYS": "0, 5,300",
            "LEADPIPE_WEBHOOK_ALLOW_NETWORKS": "127.0.0.0/8, ::1/128,10.1.2.3/16",
            "LEADPIPE_EVENT_RETENTION_DAYS": "7",
            "LEADPIPE_WEBHOOK_MAX_IN_FLIGHT": "2",
        }
    )
    assert settings.webhook_retry_delays == (0, 5, 300)
    assert settings.webhook_allow_networks == ("127.0.0.0/8", "::1/128", "10.1.0.0/16")
    assert (settings.event_retention_days, settings.webhook_max_in_flight) == (7, 2)
    defaults = Settings.from_env({})
    assert sum(defaults.webhook_retry_delays) > 3 * 86400 and defaults.webhook_allow_networks == ()
    assert defaults.event_retention_days == 30


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("LEADPIPE_WEBHOOK_RETRY_DELAYS", "5,soon"),
        ("LEADPIPE_WEBHOOK_RETRY_DELAYS", "-1"),
        ("LEADPIPE_WEBHOOK_RETRY_DELAYS", "999999999"),
        ("LEADPIPE_WEBHOOK_ALLOW_NETWORKS", "localhost"),
        ("LEADPIPE_WEBHOOK_ALLOW_NETWORKS", "10.0.0.0/33"),
        ("LEADPIPE_EVENT_RETENTION_DAYS", "0"),
        ("LEADPIPE_WEBHOOK_MAX_IN_FLIGHT", "0"),
    ],
)
def test_bad_webhook_settings_are_refused_by_name(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({name: value})
