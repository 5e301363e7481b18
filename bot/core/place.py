"""Where a message was written, which decides whose rows it touches and who will see the answer."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.storage import DM, LOCAL


@dataclass(frozen=True)
class Place:
    """`id` is a server id, "dm" (a direct message) or "local" (the command line); `channel` the channel
    or thread (conversation context is kept per channel); `public` whether others see the answer;
    `whisper` whether an answer can be shown to the asker alone instead (a slash command can, a reply to
    a message can't)."""

    id: str = LOCAL
    channel: str = ""
    public: bool = False
    whisper: bool = False

    @classmethod
    def server(cls, guild_id: int | str, channel_id: int | str, *, public: bool = True, whisper: bool = False) -> Place:
        return cls(str(guild_id), str(channel_id), public, whisper)

    @classmethod
    def dm(cls, channel_id: int | str = "") -> Place:
        return cls(DM, str(channel_id), False)


LOCAL_PLACE = Place()
