"""The one settings object: read from the environment and from `.env` files (see `.env.example`).

The .env files, lowest priority first: the project folder's, the one beside the database, the current
folder's; or only the file given with `--env PATH`. Environment variables win over all of them. A
byte-order mark at the start of a file (Windows editors write one) is ignored.

Per-server settings that admins change from Discord (/config) are stored in the database and override
the matching values here for that server only (see bot/core/config.py); these are the defaults.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.core.yamlfile import Limits

# The shipped knowledge sits beside the package, so the bot finds it wherever it is started from.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_KNOWLEDGE_DIR = PROJECT_ROOT / "knowledge"
DEFAULT_DATABASE = PROJECT_ROOT / "data" / "advisor.db"
EDITS_FOLDER = "knowledge-edits"
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{16,}$")
MAX_TOKEN_CHARS = 200  # Discord's bot tokens are about 70 characters
ENV_ENCODING = "utf-8-sig"  # UTF-8, with or without a byte-order mark


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding=ENV_ENCODING, extra="ignore")

    discord_token: SecretStr | None = Field(default=None, description="The bot's token from the Developer Portal.")
    database_path: Path = Field(default=DEFAULT_DATABASE, description="SQLite file for what the bot remembers.")
    database_url: SecretStr | None = Field(
        default=None, description="postgresql://user:password@host/db: use PostgreSQL instead of the SQLite file "
                                  "(needed when several processes serve the bot).")
    shard_count: int | None = Field(default=None, ge=1, description="Total shards across every process (sharded runs).")
    shard_ids: Annotated[list[int], NoDecode] = Field(
        default_factory=list, description="The shards this process serves, e.g. 0,1 (default: all of SHARD_COUNT).")
    knowledge_dir: Path = Field(default=DEFAULT_KNOWLEDGE_DIR, description="Folder of the shipped knowledge YAML files.")
    knowledge_edits_dir: Path | None = Field(
        default=None, description="An older version's folder of moderators' edits, moved into the database once at start "
                                 "(default: knowledge-edits/ beside the database).")
    dev_guild_id: int | None = Field(default=None, description="Sync slash commands to this server at start.")
    answer_channel_ids: Annotated[list[int], NoDecode] = Field(
        default_factory=list, description="Channels where every message is answered (needs the message-content intent).")
    moderator_role_id: int | None = Field(default=None, description="Id of the role whose members may manage the knowledge.")
    kb_edit_guild_ids: Annotated[list[int], NoDecode] = Field(
        default_factory=list, description="Servers whose moderators may change the knowledge from Discord.")
    question_rate: int = Field(default=10, ge=1, description="Question allowance per member: a burst of this many, refilled over QUESTION_PER seconds.")
    question_per: float = Field(default=60.0, gt=0)
    kb_watch_seconds: float = Field(default=2.0, ge=0, description="How often to look for edited knowledge files; 0 = never.")
    context_minutes: float = Field(default=30.0, gt=0, description="How long a conversation's last topic is kept for follow-ups.")
    retention_days: float = Field(default=180.0, gt=0, description="Questions, feedback and context older than this are deleted.")
    connect_retry_seconds: float = Field(default=5.0, gt=0, description="First wait before trying Discord again at start.")
    knowledge_max_file_kib: int = Field(default=Limits.file_bytes // 1024, ge=1,
                                        description="A knowledge file larger than this is refused.")
    knowledge_max_mib: int = Field(default=Limits.total_bytes // 2**20, ge=1,
                                   description="All knowledge files together may hold at most this much.")
    knowledge_max_files: int = Field(default=Limits.files, ge=1, description="At most this many knowledge files.")
    alert_channel_id: int | None = Field(default=None, description="Channel for the owner's alerts (the owner can "
                                         "change it with /owner alerts).")
    alert_disconnect_seconds: float = Field(default=300.0, gt=0, description="Alert the owner when Discord was "
                                            "unreachable for longer than this.")
    forum_idle_days: float = Field(default=7.0, ge=0, description="Default: close forum posts idle this many days; 0 = never.")
    discord_api_base: str | None = Field(
        default=None, description="Send Discord REST calls here instead, e.g. a REST proxy: http://proxy:8080/api/v10.")
    log_level: str = Field(default="INFO")
    log_file: Path | None = Field(default=None, description="Also log to this file, rotated by size.")

    @field_validator("answer_channel_ids", "kb_edit_guild_ids", "shard_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        # ANSWER_CHANNEL_IDS=123,456 in .env is friendlier than a JSON list.
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("database_url", mode="before")
    @classmethod
    def _postgres_url(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        if isinstance(value, str) and not value.strip().startswith(("postgresql://", "postgres://")):
            raise ValueError("it must start with postgresql:// (for SQLite, leave it empty and set DATABASE_PATH)")
        return value.strip() if isinstance(value, str) else value

    @field_validator("shard_ids", mode="after")
    @classmethod
    def _shards_fit(cls, value: list[int], info: ValidationInfo) -> list[int]:
        count = info.data.get("shard_count")
        if value and count is None:
            raise ValueError("it needs SHARD_COUNT (the total number of shards across every process)")
        bad = [i for i in value if not 0 <= i < (count or 0)]
        if bad:
            raise ValueError(f"{bad} are outside 0..{(count or 1) - 1} (SHARD_COUNT {count})")
        if len(set(value)) != len(value):
            raise ValueError("it lists a shard twice")
        return value

    @field_validator("discord_token", mode="before")
    @classmethod
    def _blank_token_is_none(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        if isinstance(value, str) and len(value.strip()) > MAX_TOKEN_CHARS:
            raise ValueError(f"it is {len(value.strip()):,} characters long, and a bot token is about 70: copy the "
                             "token again from the Developer Portal (Bot → Reset Token)")
        if isinstance(value, str) and not all(c.isascii() and c.isprintable() and not c.isspace() for c in value.strip()):
            raise ValueError("it has spaces, line breaks, control or non-ASCII characters in it: copy the token again "
                             "from the Developer Portal (Bot → Reset Token)")
        return value.strip() if isinstance(value, str) else value

    @field_validator("log_level", mode="before")
    @classmethod
    def _known_level(cls, value: object) -> object:
        if isinstance(value, str) and value.strip().upper() not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise ValueError("use DEBUG, INFO, WARNING or ERROR")
        return value.strip().upper() if isinstance(value, str) else value

    @property
    def knowledge_limits(self) -> Limits:
        return Limits(self.knowledge_max_file_kib * 1024, self.knowledge_max_mib * 2**20, self.knowledge_max_files)

    @property
    def token(self) -> str | None:
        return self.discord_token.get_secret_value() if self.discord_token else None

    @property
    def database(self) -> str:
        """Where the data lives: DATABASE_URL when set, else the SQLite file DATABASE_PATH."""
        return self.database_url.get_secret_value() if self.database_url else str(self.database_path)

    @property
    def sharded(self) -> bool:
        return self.shard_count is not None

    @property
    def my_shards(self) -> list[int]:
        """The shards this process serves."""
        return list(self.shard_ids) or list(range(self.shard_count or 1))

    @property
    def token_looks_right(self) -> bool:
        """Three dot-separated parts of URL-safe base64, as Discord issues them."""
        return bool(self.token and _TOKEN_SHAPE.match(self.token))

    def edits_dir(self, database: Path | None = None) -> Path:
        """Where an older version kept moderators' edits as files (moved into the database at start):
        KNOWLEDGE_EDITS_DIR, else a folder beside the database."""
        if self.knowledge_edits_dir is not None:
            return self.knowledge_edits_dir
        return (database or self.database_path).parent / EDITS_FOLDER


def _database_hint(files: list[Path]) -> Path:
    """DATABASE_PATH as the environment or the usual .env files give it, before the settings are read."""
    if os.environ.get("DATABASE_PATH"):
        return Path(os.environ["DATABASE_PATH"])
    from dotenv import dotenv_values  # pydantic-settings' own dependency

    for file in reversed(files):  # the highest priority first
        if file.is_file():
            try:
                value = dotenv_values(file, encoding=ENV_ENCODING).get("DATABASE_PATH")
            except (OSError, UnicodeDecodeError):
                continue
            if value:
                return Path(value)
    return DEFAULT_DATABASE


def env_files(explicit: Path | None = None, database: Path | None = None) -> tuple[Path, ...]:
    """The .env files to read, lowest priority first (see the module's docstring)."""
    if explicit is not None:
        return (explicit,)
    usual = [PROJECT_ROOT / ".env", Path(".env")]
    beside = (database or _database_hint(usual)).parent / ".env"
    found: list[Path] = []
    for file in (usual[0], beside, usual[1]):
        if file.is_file() and all(not file.samefile(other) for other in found):
            found.append(file)
    return tuple(found)


def load(explicit: Path | None = None, database: Path | None = None) -> Settings:
    """The settings from the environment and the .env files (raises pydantic's ValidationError)."""
    return Settings(_env_file=env_files(explicit, database))  # type: ignore[call-arg]
