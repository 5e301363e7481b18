"""The advisor: a message (or command), a member and a place in, a Reply out. No Discord here.

The knowledge is held as one immutable object: `reload()` validates the shipped folder with the
moderators' edits from the database and swaps the new knowledge in with one assignment, keeping the old
one on any error.

What a member said is remembered per place (a server, DMs, or the command line): their background,
the steps they ticked off, and the topic of the last answer in each conversation (for follow-ups such
as "is there a book for that?"). If the database fails, the advisor still answers, without memory, and
says that nothing was saved; commands whose whole point is saving something raise StorageError instead.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

from rapidfuzz import fuzz, process

from bot.core import compose, smalltalk
from bot.core import gaps as gap_groups
from bot.core.backgrounds import as_written
from bot.core.format import bold, quote_user_text
from bot.core.knowledge import Knowledge, KnowledgeError, Problem, fingerprint, load_knowledge
from bot.core.matcher import DEFAULT_THRESHOLD
from bot.core.overrides import Shipped, from_rows
from bot.core.overrides import compose as compose_edits
from bot.core.place import LOCAL_PLACE, Place
from bot.core.reply import Match, Reply
from bot.core.schema import Background, Step
from bot.core.storage import DM, LEGACY, LOCAL, Gap, Profile, QuestionRef, StorageError, Store
from bot.core.understand import Reader, Reading

log = logging.getLogger("mle_advisor.advisor")
T = TypeVar("T")

MAX_QUESTION_CHARS = 1000
AUTOCOMPLETE_CHARS, MAX_COMPLETIONS = 100, 4096
MAX_NAME_CHARS, MAX_BACKGROUND_CHARS = 200, 300
"""What /step, /done, /resources and /background read of what was typed: names are short, and matching
a 6,000-character "name" would only cost time."""
READ_HERE_CHARS = 300
"""A question up to this long is read on the event loop; a longer one in a worker thread. Reading 300
characters takes under 1 ms even with 10,000 entries more than the shipped knowledge, less than handing it
to a thread and back costs (issue 17), and a thread spares the loop nothing shorter than the interpreter's
5 ms switch interval: only the longest questions on the largest knowledge come near that."""
CONTEXT_MINUTES = 30.0
FRAME = ">"
"""Joins the conversation's topic to the topic it is a part of, in the one context value stored:
"algorithms>interviews" after "any practice site for the coding part?" (ids never hold it)."""
NOT_SAVED = ("\n\n⚠️ My memory (the database) isn't working right now: this answer doesn't use what you told me "
             "before, and nothing from this message was saved.")
PRIVATELY = ("\n\nYou told me where you start from privately, so I won't use it here: ask me with `/ask` (only you "
             "see that answer) or in a DM for an answer that fits you.")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SURROGATE = re.compile("[\ud800-\udfff]")  # in a str, always a lone one (json.loads joins pairs)


@dataclass(frozen=True)
class ReloadResult:
    ok: bool
    problems: tuple[Problem, ...] = ()
    knowledge: Knowledge | None = None
    fingerprint: tuple = ()  # the files as they were *before* they were read


@dataclass
class Memory:
    """What the advisor remembers about a member in one place, read once per message."""

    profile: Profile
    done: set[str] = field(default_factory=set)
    previous: str | None = None  # topic of the last answer in this conversation
    frame: str | None = None  # the topic that answer was a part of ("the coding part" of interviews)
    ok: bool = True  # False when the database could not be read


def clean(question: str) -> str:
    """One line of plain text: control characters dropped, whitespace collapsed, length capped; a lone
    surrogate (JSON can carry one, UTF-8 cannot) becomes U+FFFD, so the text can always be stored."""
    return " ".join(_CONTROL.sub(" ", _SURROGATE.sub("\ufffd", question)).split())[:MAX_QUESTION_CHARS]


def readable(reader: Reader, question: str) -> str:
    """What the reader reads: the message with its Markdown set aside (parts.py), its lines kept (a line
    ends a sentence), control characters dropped and the length capped."""
    return _lines(reader.prose(question[: MAX_QUESTION_CHARS * 4]))


def _lines(prose: str) -> str:
    lines = (clean(line) for line in prose.split("\n"))
    return "\n".join(line for line in lines if line)[:MAX_QUESTION_CHARS]


class Advisor:
    def __init__(self, knowledge: Knowledge, storage: Store, *, threshold: float = DEFAULT_THRESHOLD,
                 context_minutes: float = CONTEXT_MINUTES) -> None:
        self.storage = storage
        self.threshold = threshold
        self.context_age = timedelta(minutes=context_minutes)
        self.last_reload_error: tuple[Problem, ...] = ()
        self._reload_lock = asyncio.Lock()
        self.knowledge = knowledge

    @property
    def knowledge(self) -> Knowledge:
        return self._knowledge

    @knowledge.setter
    def knowledge(self, knowledge: Knowledge) -> None:
        self._knowledge = knowledge
        self.reader = Reader(knowledge, self.threshold)  # one reader per knowledge: replaced together
        self._completions: dict[tuple[str, str], list[tuple[str, str]]] = {}  # autocomplete answers of this knowledge
        self._topics: Reply | None = None  # /topics lists this knowledge: the same reply until it changes

    # --- knowledge ------------------------------------------------------------------------------

    async def reload(self, directory: Path | None = None) -> ReloadResult:
        """Validate the shipped folder with the moderators' edits (from the database) and swap it in; on
        any problem keep the current knowledge.

        The files' fingerprint is taken before they are read, so a save that lands while they are read
        is seen as a change next time and loaded then."""
        async with self._reload_lock:
            folder = directory or self.knowledge.directory
            before = await asyncio.to_thread(fingerprint, folder)
            try:
                change_id, rows = await self.storage.kb_state()
            except StorageError as exc:
                problems = (Problem(str(self.storage.path), None, "edits", f"the moderators' edits could not be read: {exc}"),)
                self.last_reload_error = problems
                return ReloadResult(False, problems, fingerprint=before)
            overrides = from_rows(rows)

            def load() -> Knowledge:
                composed = compose_edits(Shipped(folder), overrides)
                knowledge = load_knowledge(folder, replace=composed)
                return replace(knowledge, change_id=change_id, overrides=overrides, edited_files=tuple(sorted(composed)))

            try:
                fresh = await asyncio.to_thread(load)
            except KnowledgeError as exc:
                self.last_reload_error = exc.problems
                return ReloadResult(False, exc.problems, fingerprint=before)
            self.knowledge = fresh  # one assignment: every later question sees the new knowledge whole
            self.last_reload_error = ()
            return ReloadResult(True, knowledge=fresh, fingerprint=fresh.fingerprint)

    def fingerprint(self) -> tuple:
        """What changes when a shipped knowledge file is edited, added or removed (no file is read)."""
        return fingerprint(self.knowledge.directory)

    async def outdated(self) -> bool:
        """Whether the shipped files changed, or a change was recorded in the database (by this process
        or another), since the knowledge in use was loaded."""
        files = await asyncio.to_thread(self.fingerprint)
        return files != self.knowledge.fingerprint or await self.storage.kb_last_change() != self.knowledge.change_id

    # --- memory ---------------------------------------------------------------------------------

    async def _memory(self, user: str, place: Place) -> Memory:
        try:
            profile, done, context = await self.storage.memory(place.id, place.channel, user, self.context_age)
            previous, _, frame = (context or "").partition(FRAME)
            return Memory(profile, done, previous or None, frame or None)
        except StorageError as exc:
            log.warning("answering without memory: %s", exc, extra={"alert": "storage"})
            return Memory(Profile(user, None, None), ok=False)

    async def _try(self, work: Awaitable[T]) -> tuple[bool, T | None]:
        """A write that must not stop the answer: (True, its result), or (False, None) when the database failed."""
        try:
            return True, await work
        except StorageError as exc:
            log.warning("could not save: %s", exc, extra={"alert": "storage"})
            return False, None

    # --- questions ------------------------------------------------------------------------------

    def is_small_talk(self, text: str) -> bool:
        """Hello, thanks, "who are you": cheap to tell (no matching), and free of the question allowance."""
        return smalltalk.classify(clean(text)[:300]) is not None

    def match(self, question: str) -> tuple[list[Match], Any]:
        """Topics for one question on its own (no conversation), best first, and its background."""
        return self.reader.match(readable(self.reader, question) or clean(question))

    async def ask(self, user: str, question: str, place: Place = LOCAL_PLACE, *, by_them: bool = True) -> Reply:
        """Answer `user`'s question. by_them=False: someone else asked with the member's message (the
        message menu): for a member who asked to be forgotten, nothing about them is stored."""
        raw, question = question, clean(question)
        if not question:
            return compose.help_reply()
        kb, reader = self.knowledge, self.reader  # one snapshot for the whole answer, even if a reload lands
        memory = await self._memory(user, place)
        layout = reader.layout(raw[: MAX_QUESTION_CHARS * 4])  # code, quotes, links and list markers set aside
        asked = _lines(layout.text) or question
        remembered = memory.profile.background if memory.profile.background in kb.backgrounds else None
        read = functools.partial(reader.read, asked, previous=memory.previous, frame=memory.frame, layout=layout,
                                 known=remembered is not None)
        reading = read() if len(asked) <= READ_HERE_CHARS else await asyncio.to_thread(read)
        if reading.kind == "smalltalk":
            return replace(compose.smalltalk_reply(reading.smalltalk or "ack"), background=remembered)

        saved = memory.ok
        lead = None
        # "I've finished the maths step", or a plan's ✅ items, tick steps off as /done does; only the
        # member's own words do
        ticked = [s for s in dict.fromkeys(filter(None, (reading.finished, *reading.ticked)))
                  if kb.step(s) is not None and s not in memory.done] if by_them else []
        done_now = []
        for step_id in ticked:
            ok, _ = await self._try(self.storage.mark_done(place.id, user, step_id, True))
            saved = saved and ok
            if ok:
                memory.done.add(step_id)
                done_now.append(kb.step(step_id))
        if done_now:
            names = ", ".join(bold(s.title) for s in done_now if s is not None)
            lead = (f"Ticked off ✅ {names}, as with `/done`. `/undo {done_now[-1].id}` takes "
                    + ("it back." if len(done_now) == 1 else "one back."))
        stated_now: tuple[str, bool] | None = None  # saved with the question, in its one transaction
        private = memory.profile.background_private
        found = reading.found
        if found and found.weak and remembered and found.background != remembered:
            found = None  # "I also did some matlab scripting" (a tool) adds to a stated role, never replaces it
        if found and found.about_self and found.background in kb.backgrounds:
            stated = kb.backgrounds[found.background]
            if found.background != remembered or private != (not place.public):
                stated_now = (found.background, not place.public)
                lead = compose.join_leads(lead, f"Noted: you're coming from {bold(stated.name)} (from “"
                                          f"{quote_user_text(as_written(question, found.alias), 60)}”). I'll remember that; `/background set` "
                                          "if I got it wrong, `/background clear` to forget it.")
            remembered, private = found.background, not place.public
        # A background named in the question wins for this question; otherwise the remembered one.
        in_question = kb.backgrounds.get(found.background) if found else None
        background = in_question or kb.backgrounds.get(remembered or "")
        # A personal answer names the background. One the member told privately is never named in public:
        # the answer goes to them alone where that's possible (/ask), else it is the general answer.
        topic = kb.topic(reading.topic) if reading.topic else None
        personal = reading.kind == "topic" and not reading.followup and bool(getattr(topic, "personal", None))
        hidden = personal and background is not None and in_question is None and place.public and private
        if hidden and not place.whisper:
            background = None

        reply, subject = self._compose(reading, question, background, memory.done, lead)
        if reading.kind == "statement" and memory.previous:
            subject = memory.previous  # "how long does it take?" … "I'm a web dev btw" … "so for me then?"
        if hidden:
            if place.whisper:
                reply = replace(reply, private=True)
            else:  # the general answer, without inviting them to say what they already told me
                reply = replace(reply, body=reply.body.replace("\n\n" + compose.INVITE, "") + PRIVATELY)
        top = reading.matches[0] if reading.matches and reply.answered else None
        # A subject the guides don't cover, answered only with what they say nearby, stays a gap for the
        # moderators (`/kb gaps`): an entry of their own would answer it.
        answered = reply.answered and not (reading.uncovered and not reading.matches)
        # The conversation's topic is refreshed even when unchanged: the quiet period starts again.
        ok, ref = await self._try(self.storage.record_turn(
            place.id, user, question, top.id if top else None, top.score if top else None, answered,
            channel=place.channel, off_topic=bool(reading.elsewhere), context_topic=subject, background=stated_now,
            by_them=by_them))
        saved = saved and ok
        if not saved:
            reply = replace(reply, body=reply.body + NOT_SAVED)
        return replace(reply, question_id=ref.id if ref else None, question_token=ref.token if ref else "",
                       background=remembered)

    def _compose(self, reading: Reading, question: str, background: Background | None, done: set[str],
                 lead: str | None) -> tuple[Reply, str | None]:
        """The reply to a reading, and what a follow-up's "that" will refer to afterwards (None: unchanged)."""
        kb, reader = self.knowledge, self.reader
        if reading.feeling:  # acknowledged in one line, before the advice
            lead = compose.join_leads(compose.acknowledge(reading.feeling), lead)
        if reading.kind == "several":
            # A part that asks for a kind of resource ("which book for X, and which one for Y?") is
            # answered with those resources: in a shared message a topic's overview would crowd them out.
            asks_for = [replace(part, followup="resources") if part.kind == "topic" and part.followup is None
                        and (part.wants - {"free"} or part.where) and not part.named else part for part in reading.parts]
            answers = [self._compose(replace(part, feeling=None), question,
                                     (kb.backgrounds.get(part.found.background) if part.found and not part.found.about_self
                                      else None) or background, done, None)
                       for part in asks_for]
            return compose.several(kb, [a for a, _ in answers], lead), answers[-1][1]
        if reading.kind == "resources":
            return compose.field_resources(kb, reading.wants, background, lead), None
        if reading.kind == "about":  # who wrote the guides: the guides, with links
            return compose.about_reply(kb), None
        if reading.kind == "plan":
            return compose.plan_reply(kb, background, reading.covered, reading.unplaced, done, lead), None
        if reading.kind == "statement" and background is not None:
            route_start = next((s for s in background.route if s not in done), None)
            return compose.statement_reply(kb, background, done, lead), route_start
        uncovered = next((o for o in kb.off_topic if o.id == reading.uncovered), None)
        if uncovered is not None and reading.kind != "topic":
            said = compose.credit(uncovered.sources, kb.sources) if uncovered.says else ""
            return compose.uncovered_reply(uncovered.about, reading.near, uncovered.says, said), None
        if uncovered is not None:
            lead = compose.join_leads(compose.not_in_guides(uncovered.about), lead)
        if reading.kind != "topic" or reading.topic is None:
            return compose.unknown_reply(kb, bold(quote_user_text(question, 120)), reading.near, reading.elsewhere), None
        topic = kb.topic(reading.topic)
        assert topic is not None  # the reader only names topics of this knowledge
        matches = reading.matches
        def framed(subject: str) -> str:  # a part's answer keeps the topic it is a part of for the next part
            return f"{subject}{FRAME}{reading.part_of}" if reading.part_of and reading.part_of != subject else subject

        if reading.followup == "resources":
            if not getattr(topic, "resources", ()):
                # "which course do I start with then?" after their route: the first step still to do has them
                route = background.route if background else tuple(s.id for s in kb.steps)
                first = next((kb.step(s) for s in route if s not in done and kb.step(s) is not None), None)
                if getattr(topic, "personal", None) and first is not None:
                    topic, matches = first, (Match(first.id, first.title, 1.0),)
            return compose.resources_for(kb, topic, reading.wants, matches, skip=reading.done_with), framed(topic.id)
        if reading.followup == "practice":
            return compose.practice_reply(kb, topic, matches), framed(topic.id)
        if reading.followup == "next":
            route = background.route if background else tuple(s.id for s in kb.steps)
            step = reader.next_after(topic.id, route, done)
            if step is None:
                body = "That's the last step of the roadmap: time to build your portfolio and apply. `/topics` lists the job-hunting topics."
                return Reply(f"After {topic.title}", body, kind="answer", matches=matches), topic.id
            lead_next = compose.join_leads(lead, f"After {bold(topic.title)} comes {bold(step.title)}.")
            reply = compose.topic_reply(kb, step, background=background, done=done, lead=lead_next,
                                        matches=(Match(step.id, step.title, 1.0),))
            return reply, step.id
        reply = compose.topic_reply(kb, topic, background=background, done=done, lead=lead, matches=matches,
                                    did_you_mean=reading.did_you_mean, wants=reading.wants, named=reading.named)
        return reply, framed(compose.subject(kb, topic, background, done))

    # --- for moderators -------------------------------------------------------------------------

    async def gaps(self, place: str, limit: int = 15) -> list[Gap]:
        """This place's questions still worth a moderator's time, most frequent first. One that was not
        answered but is now (a moderator taught it, or wrote an entry for it) is left out, and comes
        back if that change is undone; one that got a 👎 stays until it is dismissed."""
        gaps = await self.storage.gaps(place, limit=limit * 3 + 10)
        reader = self.reader

        def still_open() -> list[Gap]:  # near-identical wordings are one gap (bot/core/gaps.py)
            return [g for g in gap_groups.group(gaps) if g.unhelpful or reader.read(g.asked_as or g.question).kind == "unknown"]

        return (await asyncio.to_thread(still_open))[:limit]

    async def dismiss_gap(self, place: str, question: str) -> int:
        """Hide a gap from the list: every wording of it (case, punctuation, trivial words aside); how
        many questions that hid."""
        key = gap_groups.gap_key(question)
        texts = {g.question for g in await self.storage.gaps(place, limit=10_000) if gap_groups.gap_key(g.asked_as or g.question) == key}
        texts.add(" ".join(question.lower().split()))
        return sum([await self.storage.dismiss_gap(place, text) for text in sorted(texts)])

    # --- commands -------------------------------------------------------------------------------

    def help_reply(self) -> Reply:
        return compose.help_reply()

    async def _route_of(self, user: str, place: Place) -> tuple[Background | None, set[str]]:
        """The member's background and done steps here, in one read (the same one a question makes)."""
        profile, done, _ = await self.storage.memory(place.id, place.channel, user, self.context_age)
        return self.knowledge.backgrounds.get(profile.background or ""), done

    async def roadmap(self, user: str, place: Place = LOCAL_PLACE, background: str | None = None) -> Reply:
        kb = self.knowledge
        bg = self.find_background(background) if background else None
        if background and bg is None:
            return self._no_such_background(background)
        if bg is None:
            bg, done = await self._route_of(user, place)
        else:
            done = await self.storage.done_steps(place.id, user)
        return compose.roadmap_reply(kb, bg, done)

    async def show_topic(self, user: str, topic_id: str, place: Place = LOCAL_PLACE) -> Reply:
        """One topic by id (a "did you mean" choice), filled in for this user."""
        kb = self.knowledge
        topic = kb.topic(topic_id)
        if topic is None:
            return Reply("Topic gone", "That topic is no longer in my knowledge. Try `/topics`.", kind="unknown")
        background, done = await self._route_of(user, place)
        return compose.topic_reply(kb, topic, background=background, done=done)

    def step_reply(self, name: str) -> Reply:
        step = self.find_step(name)
        if step is None:
            return self._no_such_step(name)
        return compose.topic_reply(self.knowledge, step)

    async def next_step(self, user: str, place: Place = LOCAL_PLACE) -> Reply:
        kb = self.knowledge
        entry = next((e for e in kb.entries.values() if e.personal == "next"), None)
        bg, done = await self._route_of(user, place)
        if entry is None:  # knowledge without a next-step entry: the first undone step of the route
            route = bg.route if bg else tuple(s.id for s in kb.steps)
            step = next((s for s in route if s not in done), None)
            return self.step_reply(step) if step else Reply("You've done every step", "Nothing left on your route.", kind="info")
        return replace(compose.topic_reply(kb, entry, background=bg, done=done), private=True)

    async def mark_done(self, user: str, name: str, done: bool = True, place: Place = LOCAL_PLACE) -> Reply:
        """Tick a step off (or undo that). Raises StorageError when it could not be saved."""
        step = self.find_step(name)
        if step is None:
            return self._no_such_step(name)
        changed = await self.storage.mark_done(place.id, user, step.id, done)
        bg, finished = await self._route_of(user, place)
        kb = self.knowledge
        route = bg.route if bg else tuple(s.id for s in kb.steps)
        left = [s for s in route if s not in finished]
        nxt = kb.step(left[0]) if left else None
        if done:
            verb = "Marked done" if changed else "Already done"
        else:
            verb = "Marked not done" if changed else "Wasn't marked done"
        body = f"{verb}: {bold(step.title)}. {len(route) - len(left)} of {len(route)} steps of your route done."
        body += f"\n\nNext: {bold(nxt.title)} (`/step {nxt.id}`)." if nxt else "\n\nThat was the last step of your route. Go get that job!"
        if done and changed:
            body += f"\nTicked the wrong one? `/undo {step.id}` takes it back."
        return Reply(verb, body, kind="info", next_step=nxt.id if nxt else None, private=True)

    async def set_background(self, user: str, text: str, place: Place = LOCAL_PLACE) -> Reply:
        """Set the background from a command (always private: `/background set` answers ephemerally)."""
        bg = self.find_background(text)
        if bg is None:
            return self._no_such_background(text)
        await self.storage.set_background(place.id, user, bg.id, private=True)
        kb = self.knowledge
        reply = compose.statement_reply(kb, bg, await self.storage.done_steps(place.id, user), f"Saved: you're coming from {bg.name}.")
        return replace(reply, background=bg.id, private=True)

    async def show_background(self, user: str, place: Place = LOCAL_PLACE) -> Reply:
        profile = await self.storage.profile(place.id, user)
        bg = self.knowledge.backgrounds.get(profile.background or "")
        if bg is None:
            return Reply("Your background", "I don't know where you start from yet. " + compose.INVITE, kind="info", private=True)
        when = f" (you told me on {profile.background_stated_at[:10]})" if profile.background_stated_at else ""
        body = f"You're coming from {bold(bg.name)}{when}. Your route: {bg.route_name}."
        return Reply("Your background", body, kind="info", background=bg.id, private=True)

    async def clear_background(self, user: str, place: Place = LOCAL_PLACE) -> Reply:
        await self.storage.set_background(place.id, user, None)
        return Reply("Background cleared", "I no longer assume where you start from. " + compose.INVITE, kind="info", private=True)

    def topics(self) -> Reply:
        if self._topics is None:
            self._topics = compose.topics_reply(self.knowledge)
        return self._topics

    def about(self) -> Reply:
        return compose.about_reply(self.knowledge)

    def resources_reply(self, topic_name: str) -> Reply:
        kb = self.knowledge
        topic_id = self.find_topic(topic_name)
        topic = kb.topic(topic_id) if topic_id else None
        if topic is None or not topic.resources:
            return Reply("No such topic", f"I have no resources filed under {bold(quote_user_text(topic_name, 80))}. Try `/topics`.", kind="unknown")
        lines = compose.resource_lines(topic.resources, kb.resources)
        credit = compose.credit(topic.sources, kb.sources)
        return Reply(f"Resources: {topic.title}", "\n".join(lines), credit, kind="info")

    async def forget(self, user: str, place: str | None = None) -> Reply:
        """Erase the member everywhere, or in one place only (a server id, or "dm"). Raises StorageError
        when that could not be done."""
        if place is None:
            removed = await self.storage.forget(user)
            where = "in every server and in DMs"
        else:
            removed = await self.storage.forget(user, place=place)
            where = ("in our DMs" if place == "dm" else "in this server") + "; other places keep theirs (`/forget-me` there, or everywhere)"
        body = (f"Done: I removed everything I had stored about you ({removed} record(s)) {where}: background, "
                "progress, questions, feedback and conversation context.")
        return Reply("Forgotten", body, kind="info", private=True)

    async def feedback(self, question: QuestionRef, user: str, helpful: bool) -> bool:
        return await self.storage.add_feedback(question, user, helpful)

    async def my_data(self, user: str, server_names: Callable[[list[str]], Awaitable[Mapping[str, str]]] | None = None
                      ) -> tuple[Reply, dict[str, Any]]:
        """What is stored about the member, as a summary and as data (for a JSON file). Places are named:
        `server_names` gives the names of the server ids it is passed (the Discord adapter asks Discord);
        "places" in the data says which name each place id stands for."""
        data = await self.storage.my_data(user)
        kb = self.knowledge
        places = sorted({row["place"] for rows in data.values() for row in rows})
        servers = [p for p in places if p not in (DM, LOCAL, LEGACY)]
        names: Mapping[str, str] | None = None  # None: names unknown here (the command line)
        if server_names is not None:
            names = await server_names(servers) if servers else {}
        data["places"] = {place: (names or {}).get(place) or _place_name(place, names)  # type: ignore[assignment]
                          for place in places}

        def tally(rows: list[dict[str, Any]]) -> str:
            if not rows or len(places) < 2:
                return ""
            counts: dict[str, int] = {}
            for row in rows:
                counts[row["place"]] = counts.get(row["place"], 0) + 1
            return " (" + ", ".join(f"{n} in {_place_name(p, names)}" for p, n in sorted(counts.items())) + ")"

        lines = []
        for row in data["profiles"]:
            bg = kb.backgrounds.get(row["background"] or "")
            lines.append(f"• Background in {_place_name(row['place'], names)}: {bg.name if bg else row['background'] or 'none'}")
        if data["progress"]:
            lines.append(f"• Steps marked done: {len(data['progress'])} (" + ", ".join(sorted({r['step_id'] for r in data['progress']})) + ")")
        lines.append(f"• Questions you asked: {len(data['questions'])}{tally(data['questions'])}")
        lines.append(f"• 👍/👎 you gave: {len(data['feedback'])}")
        lines.append(f"• Conversations I remember the last topic of: {len(data['context'])}")
        if not any(data[table] for table in ("profiles", "progress", "questions", "feedback", "context")):
            lines = ["Nothing: I have no record of you."]
        body = "\n".join(lines) + "\n\nThe attached file has all of it. `/forget-me` erases everything."
        return Reply("What I store about you", body, kind="info", private=True), data

    # --- lookups (also used for autocomplete) ---------------------------------------------------

    def named_step(self, name: str) -> Step | None:
        """The step `name` names exactly (its id, as autocomplete sends it, short name or title, any case),
        found without matching; None otherwise."""
        lowered = clean(name)[:MAX_NAME_CHARS].lower()
        return next((s for s in self.knowledge.steps if lowered in (s.id, s.short.lower(), s.title.lower())), None)

    def find_step(self, name: str) -> Step | None:
        """A step by id, short name, title, or words that point to it ("python", "maths", "nlp")."""
        kb = self.knowledge
        name = clean(name)[:MAX_NAME_CHARS]  # a name, not an essay: matching stays cheap whatever is typed
        if not name:
            return None
        named = self.named_step(name)
        if named is not None:
            return named
        step_ids = {s.id for s in kb.steps}
        hits = self.reader.kb.index.search(kb.normalizer.stems(name), threshold=0.15, only=step_ids, limit=1)
        if hits:
            return kb.step(hits[0].id)
        choices = {s.id: f"{s.id} {s.short} {s.title}" for s in kb.steps}
        found = process.extractOne(name, choices, scorer=fuzz.WRatio, score_cutoff=70)
        return kb.step(found[2]) if found else None

    def find_topic(self, name: str) -> str | None:
        """A topic with resources by id, title, or words that point to it."""
        kb = self.knowledge
        name = clean(name)[:MAX_NAME_CHARS]
        if not name:
            return None
        if name in kb.topics:
            return name
        with_resources = {t.id for t in kb.topics.values() if t.resources}
        for topic_id in with_resources:
            if name.lower() == kb.topics[topic_id].title.lower():
                return topic_id
        hits = kb.index.search(kb.normalizer.stems(name), threshold=0.15, only=with_resources, limit=1)
        if hits:
            return hits[0].id
        choices = {t: f"{t} {kb.topics[t].title}" for t in with_resources}
        found = process.extractOne(name, choices, scorer=fuzz.WRatio, score_cutoff=70)
        return found[2] if found else None

    def find_background(self, text: str) -> Background | None:
        kb = self.knowledge
        text = clean(text)[:MAX_BACKGROUND_CHARS]
        if not text:
            return None
        if text.lower() in kb.backgrounds:
            return kb.backgrounds[text.lower()]
        found = kb.detector.detect(kb.detector.words(text))
        if found and found.background in kb.backgrounds:
            return kb.backgrounds[found.background]
        choices = {b.id: f"{b.id} {b.name}" for b in kb.backgrounds.values()}
        best = process.extractOne(text, choices, scorer=fuzz.WRatio, score_cutoff=80)
        return kb.backgrounds[best[2]] if best else None

    def step_choices(self, prefix: str, limit: int = 25) -> list[tuple[str, str]]:
        """(label, step id) pairs for autocomplete, best first."""
        kb = self.knowledge
        if not prefix.strip():
            return [(s.title, s.id) for s in kb.steps][:limit]
        choices = {s.id: f"{s.id} {s.short} {s.title}" for s in kb.steps}
        found = process.extract(prefix[:100], choices, scorer=fuzz.WRatio, limit=limit, score_cutoff=40)
        ordered = [key for _, _, key in found]
        typed = self.find_step(prefix)
        if typed is not None and typed.id not in ordered[:1]:
            ordered = [typed.id, *(k for k in ordered if k != typed.id)]
        return [(kb.step(key).title, key) for key in ordered[:limit]]  # type: ignore[union-attr]

    def topic_choices(self, prefix: str, limit: int = 25) -> list[tuple[str, str]]:
        kb = self.knowledge
        topics = [t for t in kb.topics.values() if t.resources]
        if not prefix.strip():
            return [(t.title, t.id) for t in topics][:limit]
        choices = {t.id: f"{t.id} {t.title}" for t in topics}
        found = process.extract(prefix[:100], choices, scorer=fuzz.WRatio, limit=limit, score_cutoff=40)
        ordered = [key for _, _, key in found]
        typed = self.find_topic(prefix)
        if typed is not None and typed not in ordered[:1]:
            ordered = [typed, *(k for k in ordered if k != typed)]
        return [(kb.topics[key].title, key) for key in ordered[:limit]]

    def all_topic_choices(self, prefix: str, limit: int = 25) -> list[tuple[str, str]]:
        """Every step and entry, for moderators choosing where a question belongs."""
        kb = self.knowledge
        if not prefix.strip():
            return [(t.title, t.id) for t in kb.topics.values()][:limit]
        choices = {t.id: f"{t.id} {t.title}" for t in kb.topics.values()}
        found = process.extract(prefix[:100], choices, scorer=fuzz.WRatio, limit=limit, score_cutoff=40)
        return [(kb.topics[key].title, key) for _, _, key in found]

    async def complete(self, kind: str, typed: str) -> list[tuple[str, str]]:
        """Autocomplete for "step", "topic" (with resources) or "any" topic: matched in a worker thread, so
        the event loop never waits on it, on at most AUTOCOMPLETE_CHARS characters, and remembered per
        knowledge (the same prefix typed again costs nothing)."""
        prefix = clean(typed)[:AUTOCOMPLETE_CHARS]
        key = (kind, prefix.lower())
        cache = self._completions
        if key in cache:
            return cache[key]
        find = {"step": self.step_choices, "topic": self.topic_choices, "any": self.all_topic_choices}[kind]
        found = await asyncio.to_thread(find, prefix)
        if len(cache) >= MAX_COMPLETIONS:
            cache.clear()
        cache[key] = found
        return found

    def background_choices(self) -> list[tuple[str, str]]:
        return [(b.name, b.id) for b in self.knowledge.backgrounds.values()]

    def _no_such_step(self, name: str) -> Reply:
        ids = ", ".join(f"`{s.id}`" for s in self.knowledge.steps)
        return Reply("No such step", f"I don't know the step {bold(quote_user_text(name, 80))}. The steps are: {ids}.", kind="unknown")

    def _no_such_background(self, text: str) -> Reply:
        names = ", ".join(f"`{b.id}`" for b in self.knowledge.backgrounds.values())
        return Reply(
            "Unknown background",
            f"I couldn't tell a background from {bold(quote_user_text(text, 80))}. Pick one of: {names}.",
            kind="unknown",
            private=True,
        )


def _place_name(place: str, server_names: Mapping[str, str] | None = None) -> str:
    """How a member reads a place: a server by its name, DMs and the command line by what they are.
    `server_names` None: names can't be known here (the command line), so a server is named by its id;
    otherwise a server missing from it is one the bot is no longer in."""
    fixed = {"dm": "direct messages (DMs)", "local": "the command line", "legacy": "an earlier version (every place)"}
    if place in fixed:
        return fixed[place]
    if server_names is None:
        return f"server {place}"
    name = server_names.get(place)
    return f"the server “{quote_user_text(name, 60)}”" if name else f"a server I'm not in any more (id {place})"

