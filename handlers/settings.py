"""Settings, read once from the environment, typed, and loud about bad values."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from store.webhooks.config import DEFAULT_RETRY_DELAYS

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


JSON_IMPORT_BODY_FACTOR = 10


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite:///leadpipe.db"
    # The first key signs; all of them verify, so secrets can rotate without logging
    # everybody out or breaking cursors in flight.
    secret_keys: tuple[str, ...] = field(default=(DEV_SECRET,))
    production: bool = False
    max_body_bytes: int = 1_048_576
    # The CSV import's own body cap (streamed to the database, never held in memory). A JSON
    # import (up to 1,000 leads, parsed in memory) may be JSON_IMPORT_BODY_FACTOR x max_body_bytes.
    max_import_bytes: int = 100 * 1024 * 1024
    validate_responses: bool = False
    db_pool_size: int = 20
    log_level: str = "INFO"
    # Session tokens expire this long after sign-in (itsdangerous max_age).
    session_ttl_seconds: int = 3600
    # Failed sign-ins allowed per account and per client IP within the window, then 429.
    login_max_failures_per_account: int = 5
    login_max_failures_per_ip: int = 100
    login_failure_window_seconds: int = 900
    # Job-queue worker threads inside `leadpipe serve` (0: run `leadpipe worker` separately).
    worker_threads: int = 1
    # Rate-limit counters: "memory://" (one worker) or "redis://host:port/db" (shared by all).
    rate_limit_url: str = "memory://"
    # Per client IP, before the key is even looked up: (requests/minute, burst); None = off.
    rate_limit_per_ip: tuple[int, int] | None = (6_000, 600)
    # Operator overrides of the plan table: ((plan, requests/minute, burst), ...).
    rate_limit_plans: tuple[tuple[str, int, int], ...] = ()
    # Public capture (POST /v1/public/leads): (submissions/minute, burst) per client IP and per
    # publishable key; None = off. Humans fill forms slowly; bots do not.
    capture_rate_per_ip: tuple[int, int] | None = (20, 5)
    capture_rate_per_key: tuple[int, int] | None = (600, 60)
    # Log lines: "json" (one object per line, the production default) or "text".
    log_format: str = "text"
    # When set, GET /metrics needs "Authorization: Bearer <token>".
    metrics_token: str | None = None
    # Events stay in the feed (and finished deliveries in the log) this many days.
    event_retention_days: int = 30
    # Seconds to wait after each failed webhook attempt (jittered +-10 %); the default spans ~4 days.
    webhook_retry_delays: tuple[int, ...] = DEFAULT_RETRY_DELAYS
    # Non-global networks webhooks may reach anyway (CIDRs), e.g. 127.0.0.0/8 in development.
    webhook_allow_networks: tuple[str, ...] = ()
    # Deliveries in flight at once per endpoint, across all workers.
    webhook_max_in_flight: int = 4
    # Peers (CIDRs) whose X-Forwarded-For / X-Forwarded-Proto are believed: the client IP of
    # per-IP limits and audit events. None by default: any local process could claim any IP.
    trusted_proxies: tuple[str, ...] = ()
    # A request body that stalls this long between two of its parts gets 408 (slowloris).
    body_timeout_seconds: float = 30.0

    @property
    def rate_limit_overrides(self) -> dict[str, tuple[int, int]]:
        """``rate_limit_plans`` as plan -> (requests/minute, burst): the one form the rate-limit
        middleware, ``GET /v1/tenant`` and ``leadpipe tenant set-plan`` all read."""
        return {plan: (limit, burst) for plan, limit, burst in self.rate_limit_plans}

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
        if production and DEV_SECRET in secrets:
            # It is in the source code: anyone could forge cursors and session tokens with it.
            raise ConfigError("LEADPIPE_SECRET_KEY must not be the public development secret")
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
            max_import_bytes=_int(env, "LEADPIPE_MAX_IMPORT_BYTES", cls.max_import_bytes, 1024, 10 * 1024**3),
            validate_responses=_bool(env, "LEADPIPE_VALIDATE_RESPONSES", not production),
            db_pool_size=_int(env, "LEADPIPE_DB_POOL_SIZE", cls.db_pool_size, 1, 500),
            log_level=log_level,
            session_ttl_seconds=_int(
                env, "LEADPIPE_SESSION_TTL_SECONDS", cls.session_ttl_seconds, 60, 30 * 86400
            ),
            login_max_failures_per_account=_int(
                env, "LEADPIPE_LOGIN_MAX_FAILURES_PER_ACCOUNT", cls.login_max_failures_per_account, 1, 1000
            ),
            login_max_failures_per_ip=_int(
                env, "LEADPIPE_LOGIN_MAX_FAILURES_PER_IP", cls.login_max_failures_per_ip, 1, 100_000
            ),
            login_failure_window_seconds=_int(
                env, "LEADPIPE_LOGIN_FAILURE_WINDOW_SECONDS", cls.login_failure_window_seconds, 1, 86400
            ),
            worker_threads=_int(env, "LEADPIPE_WORKER_THREADS", cls.worker_threads, 0, 32),
            rate_limit_url=_rate_limit_url(env),
            rate_limit_per_ip=_rate_pair(env, "LEADPIPE_RATE_LIMIT_PER_IP", cls.rate_limit_per_ip),
            rate_limit_plans=_rate_plans(env),
            capture_rate_per_ip=_rate_pair(env, "LEADPIPE_CAPTURE_RATE_PER_IP", cls.capture_rate_per_ip),
            capture_rate_per_key=_rate_pair(env, "LEADPIPE_CAPTURE_RATE_PER_KEY", cls.capture_rate_per_key),
            log_format=_choice(
                env, "LEADPIPE_LOG_FORMAT", "json" if production else "text", ("json", "text")
            ),
            metrics_token=_metrics_token(env),
            event_retention_days=_int(
                env, "LEADPIPE_EVENT_RETENTION_DAYS", cls.event_retention_days, 1, 3650
            ),
            webhook_retry_delays=_delays(env),
            webhook_allow_networks=_networks(env),
            webhook_max_in_flight=_int(
                env, "LEADPIPE_WEBHOOK_MAX_IN_FLIGHT", cls.webhook_max_in_flight, 1, 100
            ),
            trusted_proxies=_cidrs(env, "LEADPIPE_TRUSTED_PROXIES"),
            body_timeout_seconds=float(
                _int(env, "LEADPIPE_BODY_TIMEOUT_SECONDS", int(cls.body_timeout_seconds), 1, 3600)
            ),
        )


def _cidrs(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """``"10.0.0.0/8, 192.168.1.7"`` -> normalized CIDRs; anything else stops startup."""
    networks = []
    for part in filter(None, (p.strip() for p in env.get(name, "").split(","))):
        try:
            networks.append(str(ipaddress.ip_network(part, strict=False)))
        except ValueError as exc:
            raise ConfigError(f"{name} must be comma-separated IP addresses or CIDRs, got {part!r}") from exc
    return tuple(networks)


def _rate_limit_url(env: Mapping[str, str]) -> str:
    url = env.get("LEADPIPE_RATE_LIMIT_URL", "").strip() or "memory://"
    if not url.startswith(("memory://", "redis://", "rediss://")):
        raise ConfigError("LEADPIPE_RATE_LIMIT_URL must start with memory://, redis:// or rediss://")
    return url


def _parse_pair(name: str, raw: str) -> tuple[int, int]:
    """``"1000/100"`` -> (1000, 100): requests per minute / burst."""
    limit, _, burst = raw.strip().partition("/")
    try:
        pair = (int(limit), int(burst or max(1, int(limit) // 10)))
    except ValueError as exc:
        raise ConfigError(f"{name} must look like LIMIT/BURST (e.g. 1000/100), got {raw!r}") from exc
    if not (1 <= pair[1] <= pair[0] <= 10_000_000):
        raise ConfigError(f"{name} needs 1 <= burst <= limit <= 10000000, got {raw!r}")
    return pair


def _rate_pair(env: Mapping[str, str], name: str, default: tuple[int, int] | None) -> tuple[int, int] | None:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    return None if raw.lower() in ("off", "0", "none") else _parse_pair(name, raw)


def _rate_plans(env: Mapping[str, str]) -> tuple[tuple[str, int, int], ...]:
    """``LEADPIPE_RATE_LIMITS="free=120/20,pro=2000/200"`` retunes plans without a release."""
    plans = []
    for part in filter(None, (p.strip() for p in env.get("LEADPIPE_RATE_LIMITS", "").split(","))):
        plan, _, pair = part.partition("=")
        if plan.strip() not in ("free", "starter", "pro", "team", "enterprise"):
            raise ConfigError(f"LEADPIPE_RATE_LIMITS: unknown plan {plan!r}")
        plans.append((plan.strip(), *_parse_pair("LEADPIPE_RATE_LIMITS", pair)))
    return tuple(plans)


def _choice(env: Mapping[str, str], name: str, default: str, allowed: tuple[str, ...]) -> str:
    value = env.get(name, "").strip().lower() or default
    if value not in allowed:
        raise ConfigError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
    return value


def _metrics_token(env: Mapping[str, str]) -> str | None:
    token = env.get("LEADPIPE_METRICS_TOKEN", "").strip()
    if token and len(token) < 16:
        raise ConfigError("LEADPIPE_METRICS_TOKEN must be at least 16 characters")
    return token or None


def _delays(env: Mapping[str, str]) -> tuple[int, ...]:
    """``LEADPIPE_WEBHOOK_RETRY_DELAYS="5,300,1800"``: 1-50 waits of 0 s to 7 days each."""
    raw = env.get("LEADPIPE_WEBHOOK_RETRY_DELAYS", "").strip()
    if not raw:
        return DEFAULT_RETRY_DELAYS
    try:
        delays = tuple(int(part) for part in raw.split(","))
    except ValueError as exc:
        raise ConfigError(
            f"LEADPIPE_WEBHOOK_RETRY_DELAYS must be comma-separated seconds, got {raw!r}"
        ) from exc
    if not 1 <= len(delays) <= 50 or any(not 0 <= d <= 7 * 86400 for d in delays):
        raise ConfigError("LEADPIPE_WEBHOOK_RETRY_DELAYS needs 1-50 delays, each 0-604800 seconds")
    return delays


def _networks(env: Mapping[str, str]) -> tuple[str, ...]:
    """``LEADPIPE_WEBHOOK_ALLOW_NETWORKS="127.0.0.0/8,::1/128"``: validated CIDRs."""
    found = []
    for part in filter(None, (p.strip() for p in env.get("LEADPIPE_WEBHOOK_ALLOW_NETWORKS", "").split(","))):
        try:
            found.append(str(ipaddress.ip_network(part, strict=False)))
        except ValueError as exc:
            raise ConfigError(f"LEADPIPE_WEBHOOK_ALLOW_NETWORKS: {part!r} is not a CIDR network") from exc
    return tuple(found)
