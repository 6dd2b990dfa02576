"""Settings, read from the environment with the ``APP_`` prefix (see README)."""

from __future__ import annotations

import ipaddress
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent


class ConfigError(RuntimeError):
    """Raised when the settings cannot run the application; the message says what to do."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="APP_", extra="ignore")

    env: Literal["development", "production", "test"] = "development"
    database_url: str = "sqlite:///var/integritas.db"
    secret_key: SecretStr | None = None
    timezone: str = "Asia/Jakarta"
    default_locale: Literal["id", "en"] = "id"
    min_cell_size: int = Field(default=5, ge=1)
    # personal data are kept this many years after a cohort's post_closes, then pseudonymized
    retention_years: int = Field(default=5, ge=1, le=50)
    data_dir: Path = ROOT / "var"
    content_dir: Path = ROOT / "modules"
    session_days: int = Field(default=14, ge=1)
    # login throttling: failures allowed within the window, per account and per client address
    login_window_minutes: int = 15
    login_max_per_account: int = 5
    login_max_per_address: int = 30
    # failed activations allowed per hour across all addresses (the code space cannot be walked)
    activation_max_failures_per_hour: int = Field(default=200, ge=1)
    # request bodies: a form at most this many bytes; an upload (the roster) at most
    # APP_MAX_UPLOAD_BYTES; a roster at most this many rows
    max_form_bytes: int = Field(default=64 * 1024, ge=1024)
    max_upload_bytes: int = Field(default=5 * 1024 * 1024, ge=1024)
    max_roster_rows: int = Field(default=5000, ge=1)
    # whose X-Forwarded-For / X-Forwarded-Proto are believed: addresses or networks,
    # comma-separated (e.g. "127.0.0.1" behind nginx on the same machine); none by default
    trusted_proxies: str = ""
    # /metrics in Prometheus' text format (counts and latencies per route); off by default
    metrics: bool = False
    # learning policy (DESIGN §3): the defaults a content sync gives module quizzes, and how
    # long a printed activation code stays valid
    pass_mark: int = Field(default=70, ge=1, le=100)
    module_quiz_attempts: int = Field(default=3, ge=1, le=20)
    activation_days: int = Field(default=30, ge=1, le=365)
    # "behind schedule" after the workshop: module 3 or the post-test not done this many days
    # before the cohort's post_closes
    behind_days_before_close: int = Field(default=7, ge=0, le=90)

    @field_validator("secret_key")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError("APP_SECRET_KEY must be at least 32 characters")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_addresses(cls, value: str) -> str:
        """Each entry an IP address or network, kept as "a,b" (uvicorn would take anything
        else for a host name and silently trust no one, or "*" for everyone)."""
        entries = [entry.strip() for entry in value.split(",") if entry.strip()]
        for entry in entries:
            try:
                ipaddress.ip_network(entry) if "/" in entry else ipaddress.ip_address(entry)
            except ValueError as exc:
                why = f" ({exc})" if "/" in entry else ""  # e.g. "has host bits set"
                raise ValueError(
                    f"APP_TRUSTED_PROXIES {entry!r} is not an IP address or network{why}: "
                    "write addresses or networks, comma-separated, e.g. 127.0.0.1,10.0.0.0/24"
                ) from exc
        return ",".join(entries)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"APP_TIMEZONE {value!r} is not a known time zone") from exc
        return value

    @property
    def tz(self) -> ZoneInfo:
        """The time zone every cohort's dates are read in (one definition: APP_TIMEZONE)."""
        return ZoneInfo(self.timezone)

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def resolved_database_url(self) -> str:
        """Relative SQLite paths are taken from the project root, whatever the working folder."""
        prefix = "sqlite:///"
        if self.database_url.startswith(prefix):
            path = self.database_url[len(prefix) :]
            if path and path != ":memory:" and not path.startswith("/"):
                return prefix + str(ROOT / path)
        return self.database_url

    def secret(self) -> str:
        """The signing secret. Production must set one; elsewhere one is made once in var/."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        if self.production:
            raise ConfigError(
                "APP_SECRET_KEY is not set. In production the application refuses to start "
                "without it: set APP_SECRET_KEY to a random string of at least 32 characters "
                '(for example: python -c "import secrets; print(secrets.token_urlsafe(48))").'
            )
        path = self.data_dir / "secret_key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()


@lru_cache
def get_settings() -> Settings:
    return Settings()
