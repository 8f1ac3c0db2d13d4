"""Settings: defaults that work, and a bad value that stops the start naming the setting."""

from __future__ import annotations

import pytest

from bot.cli import main
from bot.settings import SettingsError, load_settings


def test_defaults_use_sqlite_in_the_data_folder(env):
    settings = load_settings(database_url="")
    assert settings.resolved_database_url.startswith("sqlite+aiosqlite:///")
    assert settings.resolved_database_url.endswith("data/binhyen.db")
    assert settings.timezone == "Asia/Ho_Chi_Minh" and settings.default_language == "vi"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TIMEZONE", "Asia/Hanoi_City"),
        ("DEFAULT_LANGUAGE", "xx"),
        ("DATABASE_URL", "mysql://root@localhost/db"),
        ("TELEGRAM_BOT_TOKEN", "no-colon-here"),
        ("WEB_PORT", "99999"),
    ],
)
def test_a_bad_value_names_the_setting(env, monkeypatch, capsys, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=name):
        load_settings()
    assert main(["list"]) == 2
    assert f"Setting {name}" in capsys.readouterr().err


def test_webhook_needs_a_secret(env, monkeypatch):
    monkeypatch.setenv("TELEGRAM_WEBHOOK_URL", "https://bot.example.vn/telegram")
    with pytest.raises(SettingsError, match="TELEGRAM_WEBHOOK_SECRET"):
        load_settings()


def path_of(setting: str) -> str:
    return "/" + setting.split("_")[0].lower()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TELEGRAM_WEBHOOK_URL", "https://bot.example.vn"),
        ("TELEGRAM_WEBHOOK_URL", "https://bot.example.vn/zalo"),
        ("ZALO_WEBHOOK_URL", "https://bot.example.vn/"),
        ("ZALO_WEBHOOK_URL", "http://bot.example.vn/zalo"),
    ],
)
def test_a_webhook_address_without_its_path_stops_the_start_naming_it(
    env, monkeypatch, capsys, name, value
):
    monkeypatch.setenv(name, value)
    monkeypatch.setenv(name.replace("_URL", "_SECRET"), "s3cret-Token")
    assert main(["run"]) == 2
    err = capsys.readouterr().err
    assert err.count("Setting ") == 1 and f"Setting {name}: " in err and path_of(name) in err
    monkeypatch.setenv(name, f"https://bot.example.vn{path_of(name)}")
    assert load_settings()


def test_a_secret_key_is_made_once_and_kept(env, monkeypatch):
    monkeypatch.delenv("SECRET_KEY")
    first = load_settings().resolved_secret_key()
    assert first == load_settings().resolved_secret_key() and len(first) >= 32


def test_every_setting_is_documented_in_env_example():
    from pathlib import Path

    from bot.settings import Settings

    example = (Path(__file__).parent.parent / ".env.example").read_text(encoding="utf-8")
    for name in Settings.model_fields:
        assert f"{name.upper()}=" in example, f"{name.upper()} is missing from .env.example"
