"""A small Discord API emulator on 127.0.0.1, for driving the real discord.py client in tests.

It speaks just enough of Discord for the bot: REST (`/api/v10`: log-in, application info, command
sync, interaction callbacks (messages, deferrals, modals), webhook follow-ups, channel messages, file
uploads as multipart) and the gateway websocket (HELLO, IDENTIFY → READY + one GUILD_CREATE per
server, heartbeat ACKs, plain-text JSON frames). Tests play the members:

    slash()        a slash command, options typed from the synced command (strings, numbers, channels,
                   roles, attachments made with upload())
    autocomplete() a slash command's autocomplete
    click()        a button the bot rendered        choose()   a select menu's choice
    submit()       the modal the bot opened          menu()     a message context menu on a message
    say()          a message (a mention, a DM, a thread, a listed channel)
    forum_post()   a new post in a forum channel

Each returns what the bot sent back. Two servers are served (the second without moderators) so tests
can check that one server's data never shows in the other's. Nothing leaves the machine.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import WSMsgType, web

EPHEMERAL = 1 << 6
MANAGE_GUILD = 1 << 5
EVERYONE_PERMISSIONS = 0x0000_0000_0006_4C41  # view channel, send messages, read history, … (no Manage Server)

# Interaction callback types (Discord's numbers).
MESSAGE, DEFERRED_MESSAGE, DEFERRED_UPDATE, UPDATE_MESSAGE, AUTOCOMPLETE_RESULT, MODAL = 4, 5, 6, 7, 8, 9
# Channel types.
TEXT, THREAD, FORUM = 0, 11, 15
# Application command option types.
STRING, INTEGER, BOOLEAN, USER, CHANNEL, ROLE, NUMBER, ATTACHMENT = 3, 4, 5, 6, 7, 8, 10, 11


def now() -> str:
    return datetime.now(UTC).isoformat()


@dataclass
class Member:
    id: str
    name: str
    roles: list[str] = field(default_factory=list)
    bot: bool = False

    def user(self) -> dict[str, Any]:
        return {"id": self.id, "username": self.name, "discriminator": "0", "global_name": self.name,
                "avatar": None, "bot": self.bot, "public_flags": 0}

    def member(self, permissions: int = EVERYONE_PERMISSIONS) -> dict[str, Any]:
        return {"user": self.user(), "roles": self.roles, "joined_at": now(), "deaf": False, "mute": False,
                "flags": 0, "nick": None, "avatar": None, "pending": False, "permissions": str(permissions)}


@dataclass
class Upload:
    """A file a member attaches to a slash command option."""

    id: str
    filename: str
    content: bytes


@dataclass
class Outcome:
    """What the bot answered to one interaction or message."""

    callback: dict[str, Any] | None = None  # the interaction callback body
    messages: list[dict[str, Any]] = field(default_factory=list)  # messages posted (reply, follow-ups, edits)
    deleted: bool = False  # the bot deleted its first (public) response

    @property
    def type(self) -> int | None:
        return self.callback["type"] if self.callback else None

    @property
    def final(self) -> dict[str, Any]:
        """The message a member ends up seeing."""
        if self.messages:
            return self.messages[-1]
        return (self.callback or {}).get("data") or {}

    @property
    def ephemeral(self) -> bool:
        flags = self.final.get("flags") or 0
        if self.callback and self.callback["type"] == DEFERRED_MESSAGE:
            flags |= (self.callback.get("data") or {}).get("flags") or 0
        return bool(flags & EPHEMERAL)

    @property
    def text(self) -> str:
        """Content and every embed's title, description and footer, as one string."""
        msg = self.final
        parts = [msg.get("content") or ""]
        for embed in msg.get("embeds") or []:
            parts += [embed.get("title", ""), embed.get("description", ""), (embed.get("footer") or {}).get("text", "")]
        return "\n".join(p for p in parts if p)

    @property
    def all_text(self) -> str:
        """Every message of this outcome, joined (a deferral's follow-ups, a reply and its notes)."""
        out = []
        for msg in self.messages or [self.final]:
            out.append(msg.get("content") or "")
            for embed in msg.get("embeds") or []:
                out += [embed.get("title", ""), embed.get("description", "")]
        return "\n".join(p for p in out if p)

    @property
    def custom_ids(self) -> list[str]:
        return [c["custom_id"] for c in self.components if "custom_id" in c]

    @property
    def components(self) -> list[dict[str, Any]]:
        return [c for row in self.final.get("components") or [] for c in row.get("components", [])]

    @property
    def choices(self) -> list[dict[str, Any]]:
        return (self.callback or {}).get("data", {}).get("choices", [])

    @property
    def modal(self) -> dict[str, Any] | None:
        """The form the bot opened in answer (a modal), if it did."""
        return self.callback["data"] if self.callback and self.callback["type"] == MODAL else None

    @property
    def files(self) -> dict[str, bytes]:
        """Files the bot attached to its last message, by name."""
        return {f["filename"]: f["content"] for f in self.final.get("files", [])}


class DiscordEmulator:
    REJECTED_TOKEN = "rejected-token"

    def __init__(self, *, servers: int = 2, shard_count: int = 1) -> None:
        self.servers = servers  # 1: the bot is in the first server only
        self.shard_count = shard_count
        self._ids = itertools.count(1_100_000_000_000_000_000)
        self.app_id = self.snowflake()
        self.bot = Member(self.app_id, "MLE Advisor", bot=True)  # its role is added below
        self.owner = Member(self.snowflake(), "owner")
        self.guild_id = self.snowflake()
        self.channel_id = self.snowflake()
        self.answers_channel_id = self.snowflake()
        self.forum_id = self.snowflake()
        self.solved_tag_id = self.snowflake()  # the forum's "Solved" tag
        self.thread_id = self.snowflake()  # a thread under the answers channel
        self.log_channel_id = self.snowflake()
        self.moderator_role = self.snowflake()
        self.manager_role = self.snowflake()
        self.bot_role = self.snowflake()  # the role Discord gives a bot when it joins
        self.bot.roles.append(self.bot_role)
        self.member = Member(self.snowflake(), "member")
        self.moderator = Member(self.snowflake(), "moderator", roles=[self.moderator_role])
        self.manager = Member(self.snowflake(), "manager", roles=[self.manager_role])
        # Anyone who may create roles can make one with the moderators' role name: it must not count.
        self.impostor_role = self.snowflake()
        self.impostor = Member(self.snowflake(), "impostor", roles=[self.impostor_role])
        # A second server: the same member, its own admin, no moderator role.
        self.other_guild_id = self.snowflake()
        if shard_count > 1:  # the second server on the next shard: (id >> 22) % shard_count differs by one
            self.other_guild_id = str(int(self.guild_id) + (1 << 22))
        self.other_channel_id = self.snowflake()
        self.other_bot_role = self.snowflake()
        self.other_admin_role = self.snowflake()
        self.other_admin = Member(self.snowflake(), "other-admin")
        self.requests: list[tuple[str, str, Any]] = []  # (method, path, json body): everything the bot asked
        self.commands: dict[str, list[dict[str, Any]]] = {}  # "global" or a guild id -> registered commands
        self.messages: dict[str, dict[str, Any]] = {}  # every message the bot posted, by id
        self.uploads: dict[str, Upload] = {}
        self._outcomes: dict[str, Outcome] = {}  # interaction id or message id -> outcome
        self._tokens: dict[str, str] = {}  # interaction token -> interaction id
        self._changed = asyncio.Condition()
        self._sockets: list[web.WebSocketResponse] = []
        self._shard_sockets: dict[int, web.WebSocketResponse] = {}  # the live connection of each shard
        self._seq = 0
        self.identified = asyncio.Event()
        self.identifies: list[tuple[float, int]] = []  # (time.monotonic(), shard) of each IDENTIFY, in order
        self.refused_identifies: list[list[int]] = []
        self.app = web.Application()
        self.app.router.add_get("/gateway", self._gateway)
        self.app.router.add_get("/attachments/{id}/{name}", self._attachment)
        self.app.router.add_route("*", "/api/v10/{tail:.*}", self._rest)
        self._runner: web.AppRunner | None = None
        self.port = 0

    def snowflake(self) -> str:
        return str(next(self._ids))

    # --- serving ------------------------------------------------------------------------------

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        for ws in list(self._sockets):
            await ws.close()
        if self._runner:
            await self._runner.cleanup()

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    # --- gateway ------------------------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": 41250}, "s": None, "t": None}))
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            data = json.loads(msg.data)
            if data["op"] == 1:  # heartbeat
                await ws.send_str(json.dumps({"op": 11, "d": None, "s": None, "t": None}))
            elif data["op"] == 2:  # identify
                self.identify = data["d"]
                shard, count = (data["d"].get("shard") or [0, 1])
                if count != self.shard_count or not 0 <= shard < count:
                    self.refused_identifies.append([shard, count])
                    await ws.close(code=4010, message=b"Invalid shard")  # as Discord does
                    break
                self.identifies.append((time.monotonic(), shard))
                self._shard_sockets[shard] = ws
                await self.dispatch("READY", self._ready(shard), ws)
                if self.shard_of(self.guild_id) == shard:
                    await self.dispatch("GUILD_CREATE", self._guild(), ws)
                if self.servers > 1 and self.shard_of(self.other_guild_id) == shard:
                    await self.dispatch("GUILD_CREATE", self._other_guild(), ws)
                self.identified.set()
        if ws in self._sockets:
            self._sockets.remove(ws)
        for shard, live in list(self._shard_sockets.items()):
            if live is ws:
                del self._shard_sockets[shard]
        return ws

    def shard_of(self, guild_id: str | None) -> int:
        """Discord's routing: a server's events go to shard (id >> 22) % shard_count; DMs to shard 0."""
        return (int(guild_id) >> 22) % self.shard_count if guild_id else 0

    async def dispatch(self, event: str, data: dict[str, Any], ws: web.WebSocketResponse | None = None) -> None:
        self._seq += 1
        frame = json.dumps({"op": 0, "t": event, "s": self._seq, "d": data})
        if ws is None and self.shard_count > 1:
            ws = self._shard_sockets.get(self.shard_of(data.get("guild_id")))
        target = ws or (self._sockets[-1] if self._sockets else None)
        if target is None:
            raise RuntimeError("the bot is not connected to the gateway")
        await target.send_str(frame)

    def _ready(self, shard: int = 0) -> dict[str, Any]:
        guilds = [g for g in [self.guild_id, self.other_guild_id][: self.servers] if self.shard_of(g) == shard]
        return {"v": 10, "user": self.bot.user(), "guilds": [{"id": g, "unavailable": True} for g in guilds],
                "session_id": "emulated-session", "resume_gateway_url": self.gateway_url,
                "application": {"id": self.app_id, "flags": 0}, "private_channels": [], "relationships": [],
                "user_settings": {}, "shard": [shard, self.shard_count]}

    def channel(self, channel_id: str, name: str, kind: int = TEXT, parent: str | None = None,
                guild: str | None = None) -> dict[str, Any]:
        data = {"id": channel_id, "type": kind, "name": name, "position": 0, "permission_overwrites": [], "nsfw": False,
                "parent_id": parent, "guild_id": guild or self.guild_id, "topic": None, "rate_limit_per_user": 0,
                "last_message_id": None}
        if kind == THREAD:
            data |= {"owner_id": self.member.id, "thread_metadata": {"archived": False, "auto_archive_duration": 1440,
                                                                   "archive_timestamp": now(), "locked": False},
                     "member_count": 1, "message_count": 0}
        if kind == FORUM:
            data |= {"available_tags": [{"id": self.solved_tag_id, "name": "Solved", "moderated": False,
                                         "emoji_id": None, "emoji_name": "✅"}], "default_reaction_emoji": None, "flags": 0}
        return data

    def _role(self, role_id: str, name: str, permissions: int, position: int) -> dict[str, Any]:
        return {"id": role_id, "name": name, "permissions": str(permissions), "position": position, "color": 0,
                "hoist": False, "managed": False, "mentionable": False, "flags": 0}

    def _guild_shell(self, guild_id: str, name: str) -> dict[str, Any]:
        return {
            "id": guild_id, "name": name, "icon": None, "owner_id": self.owner.id, "presences": [], "voice_states": [],
            "emojis": [], "stickers": [], "features": [], "stage_instances": [], "guild_scheduled_events": [],
            "soundboard_sounds": [], "large": False, "unavailable": False, "joined_at": now(), "verification_level": 0,
            "default_message_notifications": 0, "explicit_content_filter": 0, "mfa_level": 0, "premium_tier": 0,
            "system_channel_flags": 0, "preferred_locale": "en-US", "nsfw_level": 0, "afk_timeout": 300,
        }

    def _guild(self) -> dict[str, Any]:
        members = (self.bot, self.owner, self.member, self.moderator, self.manager, self.impostor)
        return self._guild_shell(self.guild_id, "ML Careers") | {
            "roles": [self._role(self.guild_id, "@everyone", EVERYONE_PERMISSIONS, 0),
                      self._role(self.moderator_role, "Advisor Moderator", EVERYONE_PERMISSIONS, 1),
                      self._role(self.manager_role, "Admins", EVERYONE_PERMISSIONS | MANAGE_GUILD, 2),
                      self._role(self.bot_role, "MLE Advisor", EVERYONE_PERMISSIONS, 3)
                      | {"managed": True, "tags": {"bot_id": self.app_id}},
                      self._role(self.impostor_role, "Advisor Moderator", EVERYONE_PERMISSIONS, 4)],
            "members": [m.member() for m in members], "member_count": len(members),
            "channels": [self.channel(self.channel_id, "general"), self.channel(self.answers_channel_id, "ask-ml"),
                         self.channel(self.forum_id, "help-forum", FORUM), self.channel(self.log_channel_id, "mod-log")],
            "threads": [self.channel(self.thread_id, "a thread", THREAD, parent=self.answers_channel_id)],
        }

    def _other_guild(self) -> dict[str, Any]:
        bot = Member(self.bot.id, self.bot.name, roles=[self.other_bot_role], bot=True)
        member = Member(self.member.id, self.member.name)
        admin = Member(self.other_admin.id, self.other_admin.name, roles=[self.other_admin_role])
        return self._guild_shell(self.other_guild_id, "Another Server") | {
            "roles": [self._role(self.other_guild_id, "@everyone", EVERYONE_PERMISSIONS, 0),
                      self._role(self.other_admin_role, "Admins", EVERYONE_PERMISSIONS | MANAGE_GUILD, 1),
                      self._role(self.other_bot_role, "MLE Advisor", EVERYONE_PERMISSIONS, 2)
                      | {"managed": True, "tags": {"bot_id": self.app_id}}],
            "members": [m.member() for m in (bot, member, admin)], "member_count": 3,
            "channels": [self.channel(self.other_channel_id, "lobby", guild=self.other_guild_id)], "threads": [],
        }

    # --- REST ---------------------------------------------------------------------------------

    @staticmethod
    def _json(data: Any, status: int = 200) -> web.Response:
        # discord.py reads JSON only when Content-Type is exactly application/json (no charset). A stored
        # message keeps its uploaded bytes under "files" for tests; Discord answers with "attachments" only.
        return web.Response(body=json.dumps(_as_discord_sends(data)).encode(), status=status,
                            headers={"Content-Type": "application/json"})

    async def _attachment(self, request: web.Request) -> web.Response:
        upload = self.uploads.get(request.match_info["id"])
        if upload is None:
            return web.Response(status=404)
        return web.Response(body=upload.content, headers={"Content-Type": "application/octet-stream"})

    async def _body(self, request: web.Request) -> tuple[Any, list[dict[str, Any]]]:
        """The JSON body, and any files (multipart uploads: payload_json + files[n])."""
        if not request.can_read_body:
            return None, []
        if request.content_type.startswith("multipart/"):
            payload, files = None, []
            reader = await request.multipart()
            async for part in reader:
                if part.name == "payload_json":
                    payload = json.loads(await part.text())
                else:
                    files.append({"filename": part.filename, "content": bytes(await part.read())})
            return payload, files
        return await request.json(), []

    async def _rest(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["tail"]
        body, files = await self._body(request)
        self.requests.append((request.method, path, body))
        if request.headers.get("Authorization") == f"Bot {self.REJECTED_TOKEN}":
            return self._json({"message": "401: Unauthorized", "code": 0}, 401)
        parts = path.strip("/").split("/")
        try:
            return await self._route(request.method, parts, body, files)
        finally:
            async with self._changed:
                self._changed.notify_all()

    async def _route(self, method: str, parts: list[str], body: Any, files: list[dict[str, Any]]) -> web.Response:
        if parts == ["users", "@me"]:
            return self._json(self.bot.user())
        if parts == ["oauth2", "applications", "@me"]:
            return self._json({"id": self.app_id, "name": "MLE Advisor", "icon": None, "description": "",
                               "bot_public": True, "bot_require_code_grant": False, "owner": self.owner.user(),
                               "verify_key": "0" * 64, "flags": 0, "team": None, "summary": "", "rpc_origins": []})
        if parts[:1] == ["gateway"]:
            return self._json({"url": self.gateway_url, "shards": self.shard_count,
                               "session_start_limit": {"total": 1000, "remaining": 1000, "reset_after": 0, "max_concurrency": 1}})
        if parts[:2] == ["applications", self.app_id] and parts[-1] == "commands":
            scope = parts[3] if len(parts) == 5 else "global"
            if method == "PUT":
                self.commands[scope] = [{"description": "", **c, "id": self.snowflake(), "application_id": self.app_id,
                                         "version": "1"} for c in body]
            return self._json(self.commands.get(scope, []))
        if parts[0] == "interactions" and parts[-1] == "callback":
            interaction_id = parts[1]
            self._outcomes.setdefault(interaction_id, Outcome()).callback = body
            message = None
            if body["type"] in (MESSAGE, UPDATE_MESSAGE):
                message = self._store_message(body.get("data") or {}, self.channel_id, files)
                self._outcomes[interaction_id].messages.append(message)
            resource = {"type": body["type"]} | ({"message": message} if message else {})
            return self._json({"interaction": {"id": interaction_id, "type": 2, "response_message_loading": body["type"] == DEFERRED_MESSAGE,
                                               "response_message_ephemeral": bool(((body.get("data") or {}).get("flags") or 0) & EPHEMERAL)},
                               "resource": resource})
        if parts[0] == "webhooks" and parts[1] == self.app_id:
            interaction_id = self._tokens.get(parts[2], parts[2])
            outcome = self._outcomes.setdefault(interaction_id, Outcome())
            if method == "DELETE":
                outcome.deleted = True
                return web.Response(status=204)
            message = self._store_message(body or {}, self.channel_id, files)
            if method in ("POST", "PATCH"):
                outcome.messages.append(message)
            return self._json(message)
        if parts[0] == "channels" and parts[-1] == "messages" and method == "POST":
            message = self._store_message(body, parts[1], files)
            reference = (body.get("message_reference") or {}).get("message_id")
            if reference:
                self._outcomes.setdefault(str(reference), Outcome()).messages.append(message)
            self._outcomes.setdefault(f"channel:{parts[1]}", Outcome()).messages.append(message)
            return self._json(message)
        if parts[0] == "guilds" and len(parts) == 2 and method == "GET":  # a server by id (one the bot is in)
            known = {self.guild_id: self._guild, self.other_guild_id: self._other_guild}
            if parts[1] not in known:
                return self._json({"message": "Unknown Guild", "code": 10004}, 404)
            return self._json(known[parts[1]]())
        if parts[0] == "channels" and len(parts) == 2 and method == "PATCH":  # edit a channel (close a forum post)
            thread = self.channel(parts[1], "post", THREAD, parent=self.forum_id)
            thread["thread_metadata"] |= {k: body[k] for k in ("archived", "locked") if k in body}
            thread["applied_tags"] = body.get("applied_tags", [])
            return self._json(thread)
        if parts[0] == "channels" and parts[-1] == "typing":
            return web.Response(status=204)
        if parts[0] == "channels" and parts[2:3] == ["messages"] and method == "DELETE":
            return web.Response(status=204)
        return self._json({"message": f"the emulator has no route for {method} {'/'.join(parts)}", "code": 0}, 404)

    def _store_message(self, body: dict[str, Any], channel_id: str, files: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        message = {"id": self.snowflake(), "channel_id": channel_id, "author": self.bot.user(),
                   "content": body.get("content") or "", "embeds": body.get("embeds") or [],
                   "components": body.get("components") or [], "flags": body.get("flags") or 0,
                   "allowed_mentions": body.get("allowed_mentions"),  # not in Discord's message: kept for tests
                   "timestamp": now(), "edited_timestamp": None, "tts": False, "mention_everyone": False,
                   "mentions": [], "mention_roles": [], "attachments": [], "pinned": False, "type": 0,
                   "files": files or []}  # not in Discord's message either: what was uploaded, for tests
        for file in files or []:  # as Discord does: each upload becomes an attachment with a URL to fetch it
            upload = self.upload(file["filename"] or "file", file["content"])
            message["attachments"].append({
                "id": upload.id, "filename": upload.filename, "size": len(upload.content),
                "url": f"http://127.0.0.1:{self.port}/attachments/{upload.id}/{upload.filename}",
                "proxy_url": f"http://127.0.0.1:{self.port}/attachments/{upload.id}/{upload.filename}"})
        if body.get("message_reference"):
            message["message_reference"] = body["message_reference"]
        self.messages[message["id"]] = message
        return message

    # --- playing the members --------------------------------------------------------------------

    async def _wait(self, key: str, done: Any, within: float) -> Outcome:
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: key in self._outcomes and done(self._outcomes[key])), within)
        return self._outcomes[key]

    def _interaction(self, kind: int, data: dict[str, Any], user: Member, *, dm: bool = False,
                     message: dict[str, Any] | None = None, guild: str | None = None,
                     channel: str | None = None) -> dict[str, Any]:
        interaction_id, token = self.snowflake(), f"token-{self.snowflake()}"
        self._tokens[token] = interaction_id
        payload: dict[str, Any] = {
            "id": interaction_id, "application_id": self.app_id, "type": kind, "token": token, "version": 1,
            "data": data, "locale": "en-US", "entitlements": [], "app_permissions": str(EVERYONE_PERMISSIONS),
            "attachment_size_limit": 8_388_608,
        }
        if dm:
            dm_channel = {"id": self.snowflake(), "type": 1, "recipients": [user.user()]}
            payload |= {"user": user.user(), "channel_id": dm_channel["id"], "channel": dm_channel, "context": 1,
                        "authorizing_integration_owners": {"1": user.id}}
        else:
            guild = guild or self.guild_id
            channel = channel or (self.channel_id if guild == self.guild_id else self.other_channel_id)
            member = user if guild == self.guild_id else Member(user.id, user.name, [self.other_admin_role]
                                                               if user is self.other_admin else [])
            payload |= {"guild_id": guild, "channel_id": channel, "guild_locale": "en-US", "context": 0,
                        "channel": self.channel(channel, "general", guild=guild), "member": member.member(),
                        "authorizing_integration_owners": {"0": guild}}
        if message is not None:
            payload["message"] = message
        return payload

    def _registered(self, name: str) -> dict[str, Any] | None:
        return next((c for cmds in self.commands.values() for c in cmds if c["name"] == name), None)

    def _option_spec(self, words: list[str], option: str) -> dict[str, Any]:
        spec: dict[str, Any] = self._registered(words[0]) or {}
        for sub in words[1:]:
            spec = next((o for o in spec.get("options", []) if o["name"] == sub), {})
        return next((o for o in spec.get("options", []) if o["name"] == option), {"type": STRING})

    def _command_data(self, name: str, options: dict[str, Any], focused: str | None = None,
                      guild: str | None = None) -> dict[str, Any]:
        """`name` may be "kb reload" or "config answer-channels add": subcommands become nested options.
        Option values are typed from the synced command: channels, roles and uploads go in `resolved`."""
        words = name.split()
        resolved: dict[str, dict[str, Any]] = {}
        leaf = []
        for key, value in options.items():
            kind = self._option_spec(words, key).get("type", STRING)
            if kind == ATTACHMENT and isinstance(value, Upload):
                resolved.setdefault("attachments", {})[value.id] = {
                    "id": value.id, "filename": value.filename, "size": len(value.content),
                    "url": f"http://127.0.0.1:{self.port}/attachments/{value.id}/{value.filename}",
                    "proxy_url": f"http://127.0.0.1:{self.port}/attachments/{value.id}/{value.filename}",
                    "content_type": "application/x-yaml"}
                value = value.id
            elif kind == CHANNEL:
                kind_of = FORUM if str(value) == self.forum_id else TEXT
                resolved.setdefault("channels", {})[str(value)] = self.channel(str(value), "channel", kind_of, guild=guild) \
                    | {"permissions": str(EVERYONE_PERMISSIONS)}
                value = str(value)
            elif kind == ROLE:
                resolved.setdefault("roles", {})[str(value)] = self._role(str(value), "role", EVERYONE_PERMISSIONS, 1)
                value = str(value)
            leaf.append({"name": key, "type": kind, "value": value, **({"focused": True} if key == focused else {})})
        for sub in reversed(words[1:]):
            is_group = any(o["name"] == sub and o["type"] == 2 for o in (self._registered(words[0]) or {}).get("options", []))
            leaf = [{"name": sub, "type": 2 if is_group else 1, "options": leaf}]
        registered = self._registered(words[0]) or {"id": self.snowflake()}
        data = {"id": registered["id"], "name": words[0], "type": 1, "options": leaf}
        if resolved:
            data["resolved"] = resolved
        return data

    def upload(self, filename: str, content: bytes) -> Upload:
        upload = Upload(self.snowflake(), filename, content)
        self.uploads[upload.id] = upload
        return upload

    async def slash(self, name: str, /, user: Member | None = None, *, dm: bool = False, guild: str | None = None,
                    within: float = 10, ack_only: bool = False, **options: Any) -> Outcome:
        """ack_only: return as soon as the bot acknowledges (answers or defers); `finished` waits for the rest."""
        data = self._command_data(name, options, guild=guild)
        payload = self._interaction(2, data, user or self.member, dm=dm, guild=guild)
        await self.dispatch("INTERACTION_CREATE", payload)
        return await self._wait(payload["id"], _acknowledged if ack_only else _answered, within)

    async def finished(self, outcome: Outcome, within: float = 10) -> Outcome:
        """Wait until a member sees the answer to an interaction that was only acknowledged so far."""
        key = next(k for k, o in self._outcomes.items() if o is outcome)
        return await self._wait(key, _answered, within)

    async def autocomplete(self, name: str, focused: str, /, user: Member | None = None, **options: Any) -> Outcome:
        payload = self._interaction(4, self._command_data(name, options, focused), user or self.member)
        await self.dispatch("INTERACTION_CREATE", payload)
        return await self._wait(payload["id"], lambda o: o.type == AUTOCOMPLETE_RESULT, 10)

    async def click(self, message: dict[str, Any], custom_id: str, user: Member | None = None, within: float = 10,
                    guild: str | None = None, channel: str | None = None, ack_only: bool = False) -> Outcome:
        """Press a button the bot rendered in `message` (in `channel`, e.g. a forum post, if not the usual one)."""
        payload = self._interaction(3, {"custom_id": custom_id, "component_type": 2}, user or self.member,
                                    message=message, guild=guild, channel=channel)
        await self.dispatch("INTERACTION_CREATE", payload)
        return await self._wait(payload["id"], _acknowledged if ack_only else _answered, within)

    async def choose(self, message: dict[str, Any], custom_id: str, values: list[str], user: Member | None = None,
                     within: float = 10) -> Outcome:
        """Pick `values` in a select menu the bot rendered in `message`."""
        payload = self._interaction(3, {"custom_id": custom_id, "component_type": 3, "values": values},
                                    user or self.member, message=message)
        await self.dispatch("INTERACTION_CREATE", payload)
        return await self._wait(payload["id"], _answered, within)

    async def submit(self, opened: Outcome, values: dict[str, str] | None = None, user: Member | None = None,
                     within: float = 10, guild: str | None = None) -> Outcome:
        """Submit the modal the bot opened in `opened`, changing the fields whose label starts with a key
        of `values` and leaving the others as the bot filled them."""
        modal = opened.modal
        assert modal is not None, "the bot opened no form"
        rows = []
        for row in modal["components"]:
            field_ = row["components"][0]
            value = field_.get("value") or ""
            for label, new in (values or {}).items():
                if field_.get("label", "").lower().startswith(label.lower()):
                    value = new
            rows.append({"type": 1, "components": [{"type": 4, "custom_id": field_["custom_id"], "value": value}]})
        payload = self._interaction(5, {"custom_id": modal["custom_id"], "components": rows}, user or self.member,
                                    guild=guild)
        await self.dispatch("INTERACTION_CREATE", payload)
        return await self._wait(payload["id"], _answered, within)

    def member_message(self, content: str, author: Member | None = None, channel: str | None = None) -> dict[str, Any]:
        """A message a member posted (for the message menu)."""
        author = author or self.member
        return {"id": self.snowflake(), "channel_id": channel or self.channel_id, "author": author.user(),
                "content": content, "timestamp": now(), "edited_timestamp": None, "tts": False,
                "mention_everyone": False, "mentions": [], "mention_roles": [], "attachments": [], "embeds": [],
                "pinned": False, "type": 0, "flags": 0, "components": []}

    async def menu(self, name: str, target: dict[str, Any], user: Member | None = None, within: float = 10,
                   ack_only: bool = False) -> Outcome:
        """Use the message context menu `name` on `target` (a message from member_message())."""
        registered = self._registered(name) or {"id": self.snowflake()}
        data = {"id": registered["id"], "name": name, "type": 3, "target_id": target["id"],
                "resolved": {"messages": {target["id"]: target}}}
        payload = self._interaction(2, data, user or self.member, channel=target["channel_id"])
        await self.dispatch("INTERACTION_CREATE", payload)
        return await self._wait(payload["id"], _acknowledged if ack_only else _answered, within)

    async def say(self, content: str, user: Member | None = None, *, channel: str | None = None, mention_bot: bool = False,
                  mention_bot_role: bool = False, dm: bool = False, within: float = 10, guild: str | None = None,
                  message_id: str | None = None, expect_reply: bool = True) -> Outcome | None:
        """A member posts a message; returns the bot's reply to it (None when expect_reply is False)."""
        user = user or self.member
        guild = guild or self.guild_id
        message_id = message_id or self.snowflake()
        bot_role = self.bot_role if guild == self.guild_id else self.other_bot_role
        data: dict[str, Any] = {
            "id": message_id, "channel_id": channel or (self.channel_id if guild == self.guild_id else self.other_channel_id),
            "author": user.user(),
            "content": (f"<@{self.bot.id}> " if mention_bot else "") + (f"<@&{bot_role}> " if mention_bot_role else "")
            + content, "timestamp": now(), "edited_timestamp": None,
            "tts": False, "mention_everyone": False, "mentions": [self.bot.user()] if mention_bot else [],
            "mention_roles": [bot_role] if mention_bot_role else [], "attachments": [], "embeds": [], "pinned": False,
            "type": 0, "flags": 0, "components": [],
        }
        if dm:
            data["channel_id"] = self.snowflake()  # discord.py makes the DM channel from the message itself
        else:
            member = user.member()
            member.pop("user")
            if guild != self.guild_id:
                member["roles"] = []
            data |= {"guild_id": guild, "member": member}
        await self.dispatch("MESSAGE_CREATE", data)
        if not expect_reply:
            await asyncio.sleep(0.3)
            return self._outcomes.get(message_id)
        return await self._wait(message_id, lambda o: bool(o.messages), within)

    async def forum_post(self, title: str, content: str, user: Member | None = None, *, expect_reply: bool = True,
                         within: float = 10) -> Outcome | None:
        """A member opens a post in the forum channel: the post (a thread) and its first message share an id."""
        post = self.snowflake()
        await self.dispatch("THREAD_CREATE", self.channel(post, title, THREAD, parent=self.forum_id) | {"newly_created": True})
        return await self.say(content, user, channel=post, message_id=post, expect_reply=expect_reply, within=within)

    def requests_to(self, method: str, fragment: str) -> list[Any]:
        return [body for m, path, body in self.requests if m == method and fragment in path]


def _as_discord_sends(data: Any) -> Any:
    """A response body without the emulator's own "files" (raw uploaded bytes, kept for tests only)."""
    if isinstance(data, dict):
        return {k: _as_discord_sends(v) for k, v in data.items() if k != "files"}
    if isinstance(data, list):
        return [_as_discord_sends(v) for v in data]
    return data


def _answered(outcome: Outcome) -> bool:
    """A member sees something: a direct message or update, a form, or a follow-up after a deferral."""
    if outcome.type in (MESSAGE, UPDATE_MESSAGE, MODAL):
        return True
    if outcome.type == DEFERRED_UPDATE and outcome.deleted:  # a button that deleted the message it was on
        return True
    return outcome.type in (DEFERRED_MESSAGE, DEFERRED_UPDATE) and bool(outcome.messages)


def _acknowledged(outcome: Outcome) -> bool:
    """Discord has heard back (an answer, a form, or a deferral): what must happen within 3 s."""
    return outcome.callback is not None
