"""The one settings object: read from the environment and from `.env` (see `.env.example`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# The shipped knowledge sits beside the package, so the bot finds it wherever it is started from.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_KNOWLEDGE_DIR = PROJECT_ROOT / "knowledge"
DEFAULT_DATABASE = PROJECT_ROOT / "data" / "advisor.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    discord_token: SecretStr | None = Field(default=None, description="The bot's token from the Developer Portal.")
    database_path: Path = Field(default=DEFAULT_DATABASE, description="SQLite file for profiles and progress.")
    knowledge_dir: Path = Field(default=DEFAULT_KNOWLEDGE_DIR, description="Folder of knowledge YAML files.")
    dev_guild_id: int | None = Field(default=None, description="Sync slash commands to this server at start.")
    answer_channel_ids: Annotated[list[int], NoDecode] = Field(
        default_factory=list, description="Channels where every message is answered (needs the message-content intent)."
    )
    moderator_role: str | None = Field(default=None, description="Role name or id whose members may manage the knowledge.")
    question_rate: int = Field(default=5, ge=1, description="Questions a member may ask per QUESTION_PER seconds.")
    question_per: float = Field(default=60.0, gt=0)
    kb_watch_seconds: float = Field(default=2.0, ge=0, description="How often to look for edited knowledge files; 0 = never.")
    log_level: str = Field(default="INFO")

    @field_validator("answer_channel_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        # ANSWER_CHANNEL_IDS=123,456 in .env is friendlier than a JSON list.
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("discord_token", mode="before")
    @classmethod
    def _blank_token_is_none(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @property
    def token(self) -> str | None:
        return self.discord_token.get_secret_value() if self.discord_token else None


def load_settings(**overrides: object) -> Settings:
    return Settings(**overrides)
