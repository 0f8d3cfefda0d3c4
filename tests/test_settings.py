"""Settings are read once from the environment; a bad value stops start-up with one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from server import Settings, SettingsError

ROOT = Path(__file__).resolve().parent.parent


def test_defaults_are_the_documented_bounds():
    settings = Settings.from_env({})

    assert (settings.host, settings.port, settings.cache_url) == ("127.0.0.1", 8080, "memory://")
    assert (settings.token_cache_ttl, settings.token_cache_max, settings.cache_sweep_interval) == (300, 10_000, 60)
    assert (settings.search_cache_ttl, settings.report_cache_ttl) == (300, 600)
    assert (settings.conversation_max_messages, settings.conversation_max_users) == (50, 1000)
    assert settings.conversation_idle_ttl == 3600
    assert settings.report_concurrency == 3
    assert settings.auth_mode == "local"


def test_values_are_parsed():
    settings = Settings.from_env(
        {"PORT": "9000", "TOKEN_CACHE_TTL": "0.5", "AUTH_MODE": "LedeWire", "LEDEWIRE_API_URL": "https://lw.example.org",
         "CACHE_URL": "redis://127.0.0.1:6379/2", "ACCESS_LOG": "off", "LOG_LEVEL": "debug"}
    )

    assert (settings.port, settings.token_cache_ttl, settings.auth_mode) == (9000, 0.5, "ledewire")
    assert (settings.access_log, settings.log_level, settings.cache_url) == (False, "DEBUG", "redis://127.0.0.1:6379/2")


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"PORT": "70000"}, "PORT='70000'"),
        ({"PORT": "http"}, "PORT='http'"),
        ({"TOKEN_CACHE_TTL": "abc"}, "TOKEN_CACHE_TTL='abc'"),
        ({"TOKEN_CACHE_TTL": "-1"}, "TOKEN_CACHE_TTL='-1'"),
        ({"TOKEN_CACHE_TTL": "nan"}, "TOKEN_CACHE_TTL='nan'"),
        ({"TOKEN_CACHE_MAX": "0"}, "TOKEN_CACHE_MAX='0'"),
        ({"REPORT_CONCURRENCY": "2.5"}, "REPORT_CONCURRENCY='2.5'"),
        ({"AUTH_MODE": "oauth"}, "AUTH_MODE='oauth'"),
        ({"CACHE_URL": "memcached://x"}, "CACHE_URL='memcached://x'"),
        ({"CACHE_URL": "redis://host/zero"}, "CACHE_URL='redis://host/zero'"),
        ({"LEDEWIRE_API_URL": "ftp://x"}, "LEDEWIRE_API_URL='ftp://x'"),
        ({"LOG_LEVEL": "loud"}, "LOG_LEVEL='loud'"),
        ({"ACCESS_LOG": "maybe"}, "ACCESS_LOG='maybe'"),
        ({"AUTH_MODE": "ledewire"}, "LEDEWIRE_API_URL"),
    ],
)
def test_bad_values_name_the_variable_and_value(env, named):
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(env)

    assert named in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_short_secret_is_refused_without_echoing_it():
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"AUTH_JWT_SECRET": "hunter2"})

    assert "AUTH_JWT_SECRET" in str(caught.value)
    assert "hunter2" not in str(caught.value)


def test_a_bad_setting_stops_start_up_with_one_line():
    env = {**os.environ, "PORT": "70000"}

    result = subprocess.run(
        [sys.executable, "run.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=30
    )

    assert result.returncode == 2
    assert result.stderr.strip() == "configuration error: PORT='70000': must be between 0 and 65535"
    assert result.stdout == ""
