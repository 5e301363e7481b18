"""Run the real bot (`mle-advisor run`'s code path) against an emulator, in its own process.

    python -m tests.e2e.run_bot_against API_BASE GATEWAY_URL

Settings come from the environment as usual (DISCORD_TOKEN, DATABASE_PATH, DEV_GUILD_ID, …); only
discord.py's two addresses are pointed at the emulator. Used by the benchmark and the process tests.
"""

from __future__ import annotations

import sys

import discord
import yarl
from discord.gateway import DiscordWebSocket

from bot.cli import main

if __name__ == "__main__":
    api, gateway = sys.argv[1], sys.argv[2]
    discord.http.Route.BASE = api
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway)
    sys.exit(main(["run"]))
