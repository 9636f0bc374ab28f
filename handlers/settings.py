"""Settings, read once from the environment, typed, and loud about bad values."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

DEV_SECRET = "leadpipe-development-secret-do-not-use-in-production"


class ConfigError(ValueError):
    """A setting is missing or malformed; raised at startup, never mid-request."""


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from exc
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low} and {high}, got {value}")
    return value


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be a boolean (true/false), got {raw!r}")


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite:///leadpipe.db"
    # The first key signs; all of them verify, so secrets can rotate without logging
    # everybody out or breaking cursors in flight.
    secret_keys: tuple[str, ...] = field(default=(DEV_SECRET,))
    production: bool = False
    max_body_bytes: int = 1_048_576
    validate_responses: bool = False
    db_pool_size: int = 20
    log_level: str = "INFO"
    # Job-queue worker threads inside `leadpipe serve` (0: run `leadpipe worker` separately).
    worker_threads: int = 1

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        mode = env.get("LEADPIPE_ENV", "development").strip().lower()
        if mode not in ("development", "production"):
            raise ConfigError(f"LEADPIPE_ENV must be 'development' or 'production', got {mode!r}")
        production = mode == "production"
        secrets = tuple(s.strip() for s in env.get("LEADPIPE_SECRET_KEY", "").split(",") if s.strip())
        if not secrets:
            if production:
                raise ConfigError(
                    "LEADPIPE_SECRET_KEY is required when LEADPIPE_ENV=production "
                    "(comma-separated; the first signs, all verify)"
                )
            secrets = (DEV_SECRET,)
        if production and any(len(s) < 32 for s in secrets):
            raise ConfigError("LEADPIPE_SECRET_KEY entries must be at least 32 characters")
        database_url = env.get("LEADPIPE_DATABASE_URL", cls.database_url).strip()
        if not database_url.startswith(("sqlite:///", "postgres://", "postgresql://")):
            raise ConfigError("LEADPIPE_DATABASE_URL must start with sqlite:/// or postgresql://")
        log_level = env.get("LEADPIPE_LOG_LEVEL", "INFO").strip().upper()
        if log_level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ConfigError(f"LEADPIPE_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, got {log_level!r}")
        return cls(
            database_url=database_url,
            secret_keys=secrets,
            production=production,
            max_body_bytes=_int(env, "LEADPIPE_MAX_BODY_BYTES", cls.max_body_bytes, 1024, 200 * 1024 * 1024),
            validate_responses=_bool(env, "LEADPIPE_VALIDATE_RESPONSES", not production),
            db_pool_size=_int(env, "LEADPIPE_DB_POOL_SIZE", cls.db_pool_size, 1, 500),
            log_level=log_level,
            worker_threads=_int(env, "LEADPIPE_WORKER_THREADS", cls.worker_threads, 0, 32),
        )
