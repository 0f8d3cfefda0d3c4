"""Settings: read from the environment once, validated, then frozen."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from core.cache import redis_options

__all__ = ["Settings", "SettingsError"]


class SettingsError(ValueError):
    """One bad variable; the message is the single line start-up prints."""


Parser = Callable[[str], Any]

SHIPPED_CORPUS = str(Path(__file__).resolve().parent.parent / "data" / "corpus")


def _integer(low: int, high: int) -> Parser:
    def parse(raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise ValueError("must be a whole number") from None
        if not low <= value <= high:
            raise ValueError(f"must be between {low} and {high}")
        return value

    return parse


def _seconds(low: float = 0.001, high: float = 86_400 * 30) -> Parser:
    def parse(raw: str) -> float:
        try:
            value = float(raw)
        except ValueError:
            raise ValueError("must be a number of seconds") from None
        if not low <= value <= high:  # also refuses nan
            raise ValueError(f"must be a number of seconds between {low:g} and {high:g}")
        return value

    return parse


def _choice(*options: str) -> Parser:
    def parse(raw: str) -> str:
        value = raw.strip().lower()
        if value not in options:
            raise ValueError(f"must be one of {', '.join(options)}")
        return value

    return parse


def _boolean(raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError("must be true or false")


def _url(*schemes: str) -> Parser:
    def parse(raw: str) -> str:
        parts = urlsplit(raw.strip())
        if parts.scheme not in schemes or (parts.scheme != "memory" and not parts.hostname):
            raise ValueError(f"must be a {' or '.join(s + '://' for s in schemes)} URL")
        if parts.scheme == "redis":
            redis_options(raw.strip())
        return raw.strip()

    return parse


def _secret(raw: str) -> str:
    # Shorter HMAC keys are brute-forceable (RFC 7518 3.2 asks for at least the hash size).
    if len(raw.encode()) < 32:
        raise ValueError("must be at least 32 bytes")
    return raw


def _log_level(raw: str) -> str:
    value = raw.strip().upper()
    if value not in logging.getLevelNamesMapping():
        raise ValueError("must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
    return value


def _text(raw: str) -> str:
    if not raw.strip():
        raise ValueError("must not be empty")
    return raw.strip()


def _origins(raw: str) -> tuple[str, ...]:
    origins = tuple(origin.strip().rstrip("/").lower() for origin in raw.split(",") if origin.strip())
    for origin in origins:
        parts = urlsplit(origin)
        if origin != "*" and (parts.scheme not in ("http", "https") or not parts.hostname or parts.path):
            raise ValueError(f"{origin!r} is not an origin such as https://app.example.org, or *")
    return origins


def _setting(default: Any, parse: Parser, *, secret: bool = False) -> Any:
    return field(default=default, metadata={"parse": parse, "secret": secret})


@dataclass(frozen=True, slots=True)
class Settings:
    """Each field is read from the upper-cased environment variable of its name."""

    host: str = _setting("127.0.0.1", _text)
    port: int = _setting(8080, _integer(0, 65535))
    log_level: str = _setting("INFO", _log_level)
    access_log: bool = _setting(True, _boolean)
    max_body_bytes: int = _setting(1024 * 1024, _integer(1024, 64 * 1024 * 1024))
    # The kernel queues this many connections not yet accepted; aiohttp's 128 drops bursts of users.
    listen_backlog: int = _setting(1024, _integer(1, 65_535))
    shutdown_timeout: float = _setting(10.0, _seconds(0.1, 600))

    cache_url: str = _setting("memory://", _url("memory", "redis"))
    cache_prefix: str = _setting("mpc", _text)
    cache_sweep_interval: float = _setting(60.0, _seconds())
    redis_timeout: float = _setting(1.0, _seconds(0.01, 60))
    redis_pool_size: int = _setting(50, _integer(1, 10_000))
    redis_lock_ttl: float = _setting(5.0, _seconds(0.05, 300))

    token_cache_ttl: float = _setting(300.0, _seconds())
    token_cache_max: int = _setting(10_000, _integer(1, 1_000_000))
    token_rejection_ttl: float = _setting(30.0, _seconds(0.001, 30))
    search_cache_ttl: float = _setting(300.0, _seconds())
    search_cache_max: int = _setting(1_000, _integer(1, 1_000_000))
    report_cache_ttl: float = _setting(600.0, _seconds())
    report_cache_max: int = _setting(200, _integer(1, 100_000))

    conversation_max_messages: int = _setting(50, _integer(1, 10_000))
    conversation_max_users: int = _setting(1_000, _integer(1, 1_000_000))
    conversation_idle_ttl: float = _setting(3600.0, _seconds())
    report_concurrency: int = _setting(3, _integer(1, 64))
    reports_max_per_user: int = _setting(2, _integer(1, 100))
    reports_max_running: int = _setting(50, _integer(1, 10_000))
    report_sources: int = _setting(8, _integer(1, 20))
    report_jobs_max: int = _setting(5_000, _integer(1, 1_000_000))

    auth_mode: str = _setting("local", _choice("local", "ledewire"))
    auth_jwt_secret: str | None = _setting(None, _secret, secret=True)
    local_token_ttl: int = _setting(1800, _integer(60, 86_400 * 30))
    local_max_accounts: int = _setting(10_000, _integer(1, 10_000_000))
    password_hash_concurrency: int = _setting(2, _integer(1, 64))
    password_hash_queue: int = _setting(64, _integer(1, 100_000))
    ledewire_api_url: str | None = _setting(None, _url("http", "https"))

    search_provider: str = _setting("local", _choice("local", "tavily"))
    corpus_dir: str = _setting(SHIPPED_CORPUS, _text)
    source_cache_ttl: float = _setting(3600.0, _seconds())
    source_cache_max: int = _setting(10_000, _integer(1, 10_000_000))
    tavily_base_url: str = _setting("https://api.tavily.com", _url("http", "https"))
    tavily_api_key: str | None = _setting(None, _text, secret=True)
    tavily_search_depth: str = _setting("basic", _choice("basic", "advanced"))
    search_timeout: float = _setting(10.0, _seconds(0.01, 120))

    license_cache_ttl: float = _setting(3600.0, _seconds())
    license_failure_ttl: float = _setting(60.0, _seconds(0.001, 60))
    license_cache_max: int = _setting(5_000, _integer(1, 1_000_000))
    discovery_timeout: float = _setting(2.0, _seconds(0.01, 30))
    discovery_concurrency: int = _setting(8, _integer(1, 256))
    discovery_budget: float = _setting(3.0, _seconds(0.01, 60))
    allow_private_fetch: bool = _setting(False, _boolean)
    tollbit_api_key: str | None = _setting(None, _text, secret=True)
    tollbit_base_url: str = _setting("https://gateway.tollbit.com", _url("http", "https"))

    retry_attempts: int = _setting(3, _integer(1, 10))
    retry_base_delay: float = _setting(0.5, _seconds(0.0001, 60))
    retry_max_delay: float = _setting(8.0, _seconds(0.001, 300))
    retry_after_cap: float = _setting(20.0, _seconds(0.001, 300))

    llm_provider: str = _setting("local", _choice("local", "anthropic", "openai"))
    llm_model: str | None = _setting(None, _text)
    llm_timeout: float = _setting(60.0, _seconds(0.01, 600))
    llm_stream_timeout: float = _setting(600.0, _seconds(0.01, 3600))
    llm_max_tokens: int = _setting(1024, _integer(16, 32_000))
    anthropic_api_key: str | None = _setting(None, _text, secret=True)
    anthropic_base_url: str = _setting("https://api.anthropic.com", _url("http", "https"))
    openai_api_key: str | None = _setting(None, _text, secret=True)
    openai_base_url: str = _setting("https://api.openai.com/v1", _url("http", "https"))

    chat_rate_limit: int = _setting(30, _integer(1, 100_000))
    search_rate_limit: int = _setting(60, _integer(1, 100_000))
    chat_history_messages: int = _setting(20, _integer(1, 1_000))
    # At least one whole message (8,000 characters), so the newest always fits.
    chat_history_chars: int = _setting(12_000, _integer(8_000, 1_000_000))
    ws_max_per_user: int = _setting(5, _integer(1, 1_000))
    ws_heartbeat: float = _setting(30.0, _seconds(0.01, 3600))
    ws_auth_timeout: float = _setting(10.0, _seconds(0.01, 600))
    allowed_origins: tuple[str, ...] = _setting((), _origins)

    upstream_timeout: float = _setting(10.0, _seconds(0.01, 600))
    upstream_connect_timeout: float = _setting(3.0, _seconds(0.01, 60))
    upstream_pool_size: int = _setting(100, _integer(1, 10_000))
    auth_upstream_timeout: float = _setting(5.0, _seconds(0.01, 60))

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """Parse every known variable; the first bad one raises SettingsError."""
        values: dict[str, Any] = {}
        for spec in dataclasses.fields(cls):
            name = spec.name.upper()
            raw = env.get(name)
            if raw is None or raw == "":
                continue
            try:
                values[spec.name] = spec.metadata["parse"](raw)
            except ValueError as exc:
                shown = "<hidden>" if spec.metadata["secret"] else repr(raw)
                raise SettingsError(f"{name}={shown}: {exc}") from None
        settings = cls(**values)
        settings._check_together()
        return settings

    def _check_together(self) -> None:
        if self.auth_mode == "ledewire" and not self.ledewire_api_url:
            raise SettingsError("AUTH_MODE='ledewire' needs LEDEWIRE_API_URL")
        if self.llm_provider == "anthropic" and not self.anthropic_api_key:
            raise SettingsError("LLM_PROVIDER='anthropic' needs ANTHROPIC_API_KEY")
        if self.search_provider == "tavily" and not self.tavily_api_key:
            raise SettingsError("SEARCH_PROVIDER='tavily' needs TAVILY_API_KEY")
