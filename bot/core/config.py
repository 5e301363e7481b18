"""Per-server settings, changed by a server's admins from Discord (/config) and stored in the database.

A server that has set nothing gets the defaults from the settings object (.env); a value it sets
overrides that default for that server only, at once, with no restart. Values are validated here, so
the Discord command and any other caller share the same rules and messages.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from bot.core.storage import Store

MIN_RETENTION_DAYS, MAX_RETENTION_DAYS = 1, 3650


@dataclass(frozen=True)
class ServerConfig:
    answer_channel_ids: frozenset[int] = frozenset()
    moderator_role_id: int | None = None
    question_rate: int = 10
    question_per: float = 60.0
    log_channel_id: int | None = None
    retention_days: float = 180.0
    forum_idle_days: float = 7.0  # 0: posts in forum answer channels are never closed for being idle


KEYS = ("answer_channel_ids", "moderator_role_id", "question_rate", "question_per", "log_channel_id", "retention_days",
        "forum_idle_days")
MAX_FORUM_IDLE_DAYS = 365


class ConfigError(ValueError):
    """A value an admin tried to set that can't be used; the message says why."""


def validate(key: str, value: Any) -> Any:
    """The value to store for `key`, or ConfigError. None means "back to the default"."""
    try:
        return _validate(key, value)
    except (TypeError, ValueError, OverflowError) as exc:
        if isinstance(exc, ConfigError):
            raise
        raise ConfigError(f"{key.replace('_', ' ')} must be a number, not {str(value)[:40]!r}") from None


def _validate(key: str, value: Any) -> Any:
    if key not in KEYS:
        raise ConfigError(f"there is no setting called {key!r}")
    if value is None:
        return None
    if key == "answer_channel_ids":
        ids = sorted({int(v) for v in value})
        if len(ids) > 50:
            raise ConfigError("at most 50 answer channels")
        return ids
    if key in ("moderator_role_id", "log_channel_id"):
        return int(value)
    if key == "question_rate":
        if not 1 <= int(value) <= 100:
            raise ConfigError("questions per member must be between 1 and 100")
        return int(value)
    if key == "question_per":
        if not 1 <= float(value) <= 86400:
            raise ConfigError("the period must be between 1 second and a day")
        return float(value)
    if key == "forum_idle_days":
        idle = float(value)
        if not 0 <= idle <= MAX_FORUM_IDLE_DAYS:
            raise ConfigError(f"idle forum posts are closed after 0 (never) to {MAX_FORUM_IDLE_DAYS} days")
        return idle
    days = float(value)
    if not MIN_RETENTION_DAYS <= days <= MAX_RETENTION_DAYS:
        raise ConfigError(f"keep questions between {MIN_RETENTION_DAYS} and {MAX_RETENTION_DAYS} days")
    return days


class ServerSettings:
    """Every server's settings, read once from the database and kept in memory (checks read them on
    every interaction); each change is written to the database before it takes effect. The ServerConfig
    of a server is built once and kept until its settings change (`get` runs for every interaction and
    every message the bot sees)."""

    def __init__(self, defaults: ServerConfig, storage: Store) -> None:
        self.defaults = defaults
        self.storage = storage
        self._stored: dict[str, dict[str, Any]] = {}
        self._built: dict[str, ServerConfig] = {}

    async def load(self) -> None:
        self._stored = {place: values for place, values in (await self.storage.all_settings()).items()}
        self._built.clear()

    def get(self, guild_id: int | str | None) -> ServerConfig:
        if guild_id is None:
            return self.defaults
        key = str(guild_id)
        built = self._built.get(key)
        if built is None:
            built = self._built[key] = self._build(key)
        return built

    def _build(self, place: str) -> ServerConfig:
        stored = self._stored.get(place, {})
        changes: dict[str, Any] = {}
        for key, value in stored.items():
            if key not in KEYS:
                continue
            changes[key] = frozenset(value) if key == "answer_channel_ids" else value
        return replace(self.defaults, **changes)

    def overridden(self, guild_id: int | str) -> set[str]:
        """Which settings this server has set itself."""
        return set(self._stored.get(str(guild_id), {})) & set(KEYS)

    async def set(self, guild_id: int | str, key: str, value: Any, *, by: str = "") -> ServerConfig:
        """Validate, store (raises StorageError if it could not be saved), then apply."""
        return await self.set_many(guild_id, {key: value}, by=by)

    async def set_many(self, guild_id: int | str, changes: dict[str, Any], *, by: str = "") -> ServerConfig:
        """Several settings at once, all or nothing: every value is validated before anything is written
        (ConfigError names the first bad one), then all are stored in one transaction (StorageError if
        that failed, and then none changed), then applied."""
        clean = {key: validate(key, value) for key, value in changes.items()}
        await self.storage.set_settings(str(guild_id), clean, by)
        values = self._stored.setdefault(str(guild_id), {})
        for key, value in clean.items():
            if value is None:
                values.pop(key, None)
            else:
                values[key] = value
        self._built.pop(str(guild_id), None)
        return self.get(guild_id)
