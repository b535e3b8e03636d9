"""config/env.py: settings read from the environment fail fast, naming the variable."""

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_duration, env_int, env_list, env_rate, env_str, env_zone

PROJECT = Path(__file__).resolve().parent.parent


def failure(reader, name, *args, **kwargs) -> str:
    with pytest.raises(ImproperlyConfigured) as excinfo:
        reader(name, *args, **kwargs)
    return str(excinfo.value)


# --- env_bool -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "value"), [("1", True), ("TRUE", True), ("off", False), ("", False)]
)
def test_bool_reads_the_usual_spellings(monkeypatch, raw, value):
    monkeypatch.setenv("CLEARWAY_TASKS_SYNC", raw)

    assert env_bool("CLEARWAY_TASKS_SYNC", not value) is value


def test_bool_falls_back_to_the_default_when_unset(monkeypatch):
    monkeypatch.delenv("CLEARWAY_TASKS_SYNC", raising=False)

    assert env_bool("CLEARWAY_TASKS_SYNC", True) is True


@pytest.mark.parametrize("raw", ["maybe", "2", "yes please"])
def test_bool_with_a_bad_value_names_the_variable(monkeypatch, raw):
    monkeypatch.setenv("DEBUG", raw)

    message = failure(env_bool, "DEBUG", False)

    assert "DEBUG" in message
    assert repr(raw) in message


# --- env_int --------------------------------------------------------------------------------


def test_int_reads_a_number(monkeypatch):
    monkeypatch.setenv("CLEARWAY_TRAFFIC_FLAG", "250")

    assert env_int("CLEARWAY_TRAFFIC_FLAG", 200, minimum=1) == 250


@pytest.mark.parametrize("raw", ["lots", "2.5", "", "1e3"])
def test_int_that_is_not_a_number_names_the_variable(monkeypatch, raw):
    monkeypatch.setenv("CLEARWAY_TRAFFIC_FLAG", raw)

    assert "CLEARWAY_TRAFFIC_FLAG" in failure(env_int, "CLEARWAY_TRAFFIC_FLAG", 200)


def test_int_under_its_minimum_names_the_variable_and_the_minimum(monkeypatch):
    monkeypatch.setenv("CLEARWAY_HORIZON_DAYS", "0")

    message = failure(env_int, "CLEARWAY_HORIZON_DAYS", 400, minimum=1)

    assert "CLEARWAY_HORIZON_DAYS" in message
    assert "at least 1" in message


# --- env_duration ---------------------------------------------------------------------------


def test_duration_reads_iso_8601(monkeypatch):
    monkeypatch.setenv("CLEARWAY_TRAFFIC_LEAD", "PT36H")

    assert env_duration("CLEARWAY_TRAFFIC_LEAD", timedelta(hours=48)) == timedelta(hours=36)


def test_duration_falls_back_to_the_default_when_unset(monkeypatch):
    monkeypatch.delenv("CLEARWAY_TRAFFIC_LEAD", raising=False)

    assert env_duration("CLEARWAY_TRAFFIC_LEAD", timedelta(hours=48)) == timedelta(hours=48)


@pytest.mark.parametrize("raw", ["6 hours", "-PT6H", "P1Y"])
def test_bad_or_negative_duration_names_the_variable(monkeypatch, raw):
    monkeypatch.setenv("CLEARWAY_TRAFFIC_TAIL", raw)

    message = failure(env_duration, "CLEARWAY_TRAFFIC_TAIL", timedelta(hours=6))

    assert "CLEARWAY_TRAFFIC_TAIL" in message
    assert "PT6H" in message


@pytest.mark.parametrize("raw", ["48", "PT"])
def test_ambiguous_duration_is_not_read_as_seconds_or_zero(monkeypatch, raw):
    monkeypatch.setenv("CLEARWAY_TRAFFIC_LEAD", raw)

    assert "CLEARWAY_TRAFFIC_LEAD" in failure(env_duration, "CLEARWAY_TRAFFIC_LEAD", timedelta(0))


# --- env_zone -------------------------------------------------------------------------------


def test_zone_reads_an_iana_name(monkeypatch):
    monkeypatch.setenv("TIME_ZONE", "Europe/London")

    assert env_zone("TIME_ZONE", "UTC") == "Europe/London"


@pytest.mark.parametrize("raw", ["Mars/Olympus_Mons", "", "../etc/passwd", "GMT+25"])
def test_unknown_zone_names_the_variable(monkeypatch, raw):
    monkeypatch.setenv("TIME_ZONE", raw)

    assert "TIME_ZONE" in failure(env_zone, "TIME_ZONE", "UTC")


@pytest.mark.parametrize("raw", ["America", "x" * 300])
def test_zone_that_reaches_the_filesystem_names_the_variable(monkeypatch, raw):
    monkeypatch.setenv("TIME_ZONE", raw)

    assert "TIME_ZONE" in failure(env_zone, "TIME_ZONE", "UTC")


# --- env_list and env_str -------------------------------------------------------------------


def test_list_splits_on_commas_and_drops_blanks(monkeypatch):
    monkeypatch.setenv("ALLOWED_HOSTS", " clearway.example.org, ,127.0.0.1 ")

    assert env_list("ALLOWED_HOSTS") == ["clearway.example.org", "127.0.0.1"]


def test_list_set_to_nothing_is_empty_not_the_default(monkeypatch):
    monkeypatch.setenv("CLEARWAY_FEED_ALLOWED_NETWORKS", "")

    assert env_list("CLEARWAY_FEED_ALLOWED_NETWORKS", ["127.0.0.0/8"]) == []


def test_str_falls_back_to_the_default_when_unset(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)

    assert env_str("SECRET_KEY", "fallback") == "fallback"


# --- the settings module --------------------------------------------------------------------------


def import_settings(**env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "import config.settings"],
        cwd=PROJECT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_settings_refuse_to_load_with_a_bad_threshold():
    result = import_settings(CLEARWAY_TRAFFIC_REFUSE="a thousand")

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "CLEARWAY_TRAFFIC_REFUSE" in result.stderr


def test_settings_refuse_to_load_with_a_bad_time_zone():
    result = import_settings(TIME_ZONE="Europe/Londn")

    assert result.returncode != 0
    assert "TIME_ZONE" in result.stderr


def test_settings_load_with_good_values():
    result = import_settings(CLEARWAY_TRAFFIC_LEAD="PT24H", DEBUG="false", TIME_ZONE="UTC")

    assert result.returncode == 0, result.stderr


def test_throttle_rate_reads_drf_form(monkeypatch):
    monkeypatch.setenv("CLEARWAY_API_RATE", "20/s")

    assert env_rate("CLEARWAY_API_RATE", "1200/min") == "20/s"


@pytest.mark.parametrize("raw", ["abc", "1200", "1200/fortnight", "/min"])
def test_bad_throttle_rate_names_the_variable(monkeypatch, raw):
    monkeypatch.setenv("CLEARWAY_API_RATE", raw)

    assert "CLEARWAY_API_RATE" in failure(env_rate, "CLEARWAY_API_RATE", "1200/min")
