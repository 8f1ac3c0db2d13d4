"""Settings from the environment and .env; a bad value stops the start naming the setting."""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from locales import available_languages
from storage.keyring import BadKey, Keyring

_SECRET_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    data_dir: Path = Field(default=Path("data"))
    database_url: str = ""
    secret_key: str = ""
    # The tip keys (storage.way_back): URL-safe base64 of 32 bytes each, comma-separated, the
    # first sealing; unset, they are kept in data/tip_keys.txt.
    tip_key: str = ""
    timezone: str = "Asia/Ho_Chi_Minh"
    default_language: str = "vi"
    log_level: str = "INFO"

    telegram_bot_token: str = ""
    telegram_api_base_url: str = "https://api.telegram.org"
    telegram_bot_username: str = ""
    telegram_webhook_url: str = ""
    telegram_webhook_secret: str = ""
    # The web server: the webhooks (/telegram, /zalo), the desk, /healthz and /metrics.
    web_listen: str = "127.0.0.1"
    web_port: int = Field(default=8080, ge=0, le=65535)  # 0: no web server
    public_url: str = ""  # how browsers and platforms reach it; unset: http://127.0.0.1:PORT
    web_idle_minutes: int = Field(default=30, ge=1, le=24 * 60)
    map_tile_url: str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"

    zalo_bot_token: str = ""
    zalo_api_base_url: str = "https://bot-api.zaloplatforms.com"
    zalo_webhook_url: str = ""
    zalo_webhook_secret: str = ""
    zalo_messages_per_second: float = Field(default=5.0, gt=0)
    zalo_chat_interval_seconds: float = Field(default=1.0, ge=0)

    conversation_timeout_minutes: int = Field(default=30, ge=1)
    invite_ttl_days: int = Field(default=14, ge=1, le=365)
    max_text_length: int = Field(default=4000, ge=100)
    max_attachments: int = Field(default=10, ge=0, le=50)
    max_media_bytes: int = Field(default=20 * 1024 * 1024, ge=1)
    seed_demo_on_first_run: bool = True
    tip_retention_days: int = Field(default=365, ge=1)
    outbox_stuck_seconds: int = Field(default=120, ge=1)
    inbox_lease_seconds: int = Field(default=15, ge=2)
    sent_message_retention_days: int = Field(default=7, ge=1)
    draft_retention_days: int = Field(default=30, ge=1)
    update_id_retention_days: int = Field(default=2, ge=1)
    incident_name_retention_days: int = Field(default=3 * 365, ge=30)
    digest_image_retention_days: int = Field(default=90, ge=1)
    tips_per_hour: int = Field(default=5, ge=1)
    tips_per_day: int = Field(default=20, ge=1)
    alert_repeat_minutes: int = Field(default=10, ge=1, le=24 * 60)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}, e.g. Asia/Ho_Chi_Minh") from exc
        return value

    @field_validator("default_language")
    @classmethod
    def _language(cls, value: str) -> str:
        if value not in available_languages():
            known = ", ".join(available_languages())
            raise ValueError(f"no catalogue for {value!r}; available: {known}")
        return value

    @field_validator("tip_key")
    @classmethod
    def _tip_key(cls, value: str) -> str:
        if value:
            try:
                Keyring.parse(value)
            except BadKey as exc:
                raise ValueError(
                    f"{exc}: 32 random bytes in URL-safe base64 (binhyen key new prints one)"
                ) from exc
        return value

    @field_validator("database_url")
    @classmethod
    def _database(cls, value: str) -> str:
        if value and not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("use sqlite+aiosqlite:///path.db or postgresql+asyncpg://user@host/db")
        return value

    @field_validator("telegram_webhook_secret")
    @classmethod
    def _secret_token(cls, value: str) -> str:
        if value and not _SECRET_TOKEN.match(value):
            raise ValueError("1 to 256 characters of A-Z, a-z, 0-9, _ and -")
        return value

    @field_validator("telegram_bot_token", "zalo_bot_token")
    @classmethod
    def _token(cls, value: str) -> str:
        if value and ":" not in value:
            raise ValueError("a bot token looks like <bot id>:<secret>")
        return value

    @field_validator("telegram_webhook_url", "zalo_webhook_url")
    @classmethod
    def _webhook_url(cls, value: str, info: ValidationInfo) -> str:
        """The address the platform calls must end with the path the bot serves, or every
        call would be a 404 that nobody sees."""
        if not value:
            return value
        path = "/" + str(info.field_name).split("_")[0]
        parts = urlsplit(value)
        if parts.scheme != "https" or not parts.hostname:
            raise ValueError(f"a public HTTPS address, e.g. https://bot.example.vn{path}")
        if not parts.path.rstrip("/").endswith(path):
            raise ValueError(
                f"must end with {path}, the path the bot serves (e.g. https://{parts.netloc}{path})"
            )
        return value

    @field_validator("zalo_webhook_secret")
    @classmethod
    def _zalo_secret(cls, value: str) -> str:
        if value and not 8 <= len(value) <= 256:
            raise ValueError("8 to 256 characters")
        return value

    @model_validator(mode="after")
    def _webhook_needs_secret(self) -> Settings:
        if self.telegram_webhook_url and not self.telegram_webhook_secret:
            raise ValueError("TELEGRAM_WEBHOOK_SECRET is required when TELEGRAM_WEBHOOK_URL is set")
        if self.zalo_webhook_url and not self.zalo_webhook_secret:
            raise ValueError("ZALO_WEBHOOK_SECRET is required when ZALO_WEBHOOK_URL is set")
        if (self.telegram_webhook_url or self.zalo_webhook_url) and not self.web_port:
            raise ValueError("a webhook is served by the web server: set WEB_PORT")
        return self

    @property
    def resolved_public_url(self) -> str:
        return (self.public_url or f"http://127.0.0.1:{self.web_port}").rstrip("/")

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'binhyen.db').resolve()}"

    def resolved_secret_key(self) -> bytes:
        """SECRET_KEY, or a key generated once and kept in the data folder."""
        if self.secret_key:
            return self.secret_key.encode()
        path = self.data_dir / "secret.key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(32))
            path.chmod(0o600)
        return path.read_text().strip().encode()

    @property
    def tip_key_file(self) -> Path:
        return self.data_dir / "tip_keys.txt"

    def resolved_tip_keys(self) -> Keyring:
        """TIP_KEY, or the keys generated once and kept in data/tip_keys.txt (one a line)."""
        if self.tip_key:
            return Keyring.parse(self.tip_key)
        if not self.tip_key_file.exists():
            write_key_file(self.tip_key_file, Keyring.generate().dump())
        return Keyring.parse(self.tip_key_file.read_text())


def write_key_file(path: Path, content: str) -> None:
    """Write a key file readable by its owner only, whole or not at all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".new")
    partial.touch(mode=0o600)
    partial.chmod(0o600)
    partial.write_text(content)
    partial.replace(path)


class SettingsError(Exception):
    """A setting has a bad value; the message names it."""


def load_settings(**overrides: Any) -> Settings:
    """overrides: raw values by setting name, validated like the environment's."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            name = "_".join(str(p) for p in err["loc"]).upper() or "settings"
            lines.append(f"Setting {name}: {err['msg']}")
        raise SettingsError("\n".join(lines)) from None
