"""The advisor: a question (or command) and a user in, a Reply out. No Discord here.

The knowledge is held as one immutable object: `reload()` validates a folder and swaps the new
knowledge in with one assignment, keeping the old one on any error.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, replace
from pathlib import Path

from rapidfuzz import fuzz, process

from bot.core import compose
from bot.core.backgrounds import Found
from bot.core.format import bold, quote_user_text
from bot.core.knowledge import Knowledge, KnowledgeError, Problem, load_knowledge
from bot.core.matcher import CLOSE, DEFAULT_THRESHOLD
from bot.core.reply import Match, Reply
from bot.core.schema import Background, Step
from bot.core.storage import Storage
from bot.core.text import content

MAX_QUESTION_CHARS = 1000
GENERIC_SHARE = 0.3
"""A word that this share of topics use ("ml", "learn") says nothing specific on its own."""
MENTION_MARGIN = 0.2
"""How much better a question must match with a mentioned background set aside to be read that way."""
_SENTENCE = re.compile(r"[.!?;:]+\s*|\n")
_WORD = re.compile(r"[^\W\d_]+")


@dataclass(frozen=True)
class ReloadResult:
    ok: bool
    problems: tuple[Problem, ...] = ()
    knowledge: Knowledge | None = None


class Advisor:
    def __init__(self, knowledge: Knowledge, storage: Storage, *, threshold: float = DEFAULT_THRESHOLD) -> None:
        self.knowledge = knowledge
        self.storage = storage
        self.threshold = threshold
        self.last_reload_error: tuple[Problem, ...] = ()
        self._reload_lock = asyncio.Lock()

    # --- knowledge ------------------------------------------------------------------------------

    async def reload(self, directory: Path | None = None) -> ReloadResult:
        """Validate the knowledge folder and swap it in; on any problem keep the current knowledge."""
        async with self._reload_lock:
            folder = directory or self.knowledge.directory
            try:
                fresh = await asyncio.to_thread(load_knowledge, folder)
            except KnowledgeError as exc:
                self.last_reload_error = exc.problems
                return ReloadResult(False, exc.problems)
            self.knowledge = fresh  # one assignment: every later question sees the new knowledge whole
            self.last_reload_error = ()
            return ReloadResult(True, knowledge=fresh)

    # --- questions ------------------------------------------------------------------------------

    def names(self, question: str) -> set[str]:
        """Stems of capitalised words inside sentences ("Tokyo", "Paris"): likely names of things.
        Sentence-initial words and acronyms ("ML", "NLP") are not counted."""
        found = set()
        for sentence in _SENTENCE.split(question):
            for word in _WORD.findall(sentence)[1:]:
                if word[0].isupper() and word[1:].islower():
                    found.update(self.knowledge.normalizer.stems(word, correct=False))
        return found

    def analyse(self, question: str) -> tuple[list[list[str]], Found | None]:
        """The ways to read the question's stems, and the background it states or mentions.

        A statement about the asker ("I'm a physicist, …") is taken out whole. A mere mention ("what
        should a physicist learn?") is read both with and without its words, since they may be the topic
        ("which statistics book…") or only the asker's situation ("the roadmap for a data scientist").
        """
        kb = self.knowledge
        folded = kb.detector.words(question)
        found = kb.detector.detect(folded)
        whole = kb.normalizer.stems_of(folded, correct=False)
        if found is None:
            return [whole], None
        rest = kb.normalizer.stems_of([w for i, w in enumerate(folded) if i not in found.consumed], correct=False)
        return ([rest] if found.about_self else [whole, rest]), found

    def match(self, question: str) -> tuple[list[Match], Found | None]:
        kb = self.knowledge
        readings, found = self.analyse(question)
        names = self.names(question)
        chosen = readings[0]
        hits = kb.index.search(chosen, threshold=self.threshold, names=names)
        if len(readings) > 1:  # the whole question first; without the mention only if clearly better
            rest = kb.index.search(readings[1], threshold=self.threshold, names=names)
            specific = any(kb.index.share(w) < GENERIC_SHARE for w in content(readings[1]))
            if rest and specific and (not hits or rest[0].score - hits[0].score > MENTION_MARGIN):
                chosen, hits = readings[1], rest
            elif not hits:
                chosen = readings[1]
        matches = list(hits)
        if found is not None:
            matches = self._prefer_personal(matches)
            matches = self._route_if_only_generic(chosen, found, matches, names)
        return matches, found

    def _prefer_personal(self, matches: list[Match]) -> list[Match]:
        """With a background at hand, a personal answer within "did you mean" distance of the best wins."""
        kb = self.knowledge
        if not matches or getattr(kb.topic(matches[0].id), "personal", None):
            return matches
        best = matches[0].score
        personal = next((m for m in matches[1:] if best - m.score <= CLOSE and getattr(kb.topic(m.id), "personal", None)), None)
        return [personal, *(m for m in matches if m is not personal)] if personal else matches

    def _route_if_only_generic(self, stems: list[str], found: Found, matches: list[Match], names: set[str]) -> list[Match]:
        """"I teach physics. How do I get into ML?": with the background set aside, nothing specific is
        left (only words most topics use), so the question is about this member's route."""
        kb = self.knowledge
        words = content(stems)
        if (not words and found.about_self) or any(kb.index.share(w) < GENERIC_SHARE for w in words):
            return matches
        if matches and getattr(kb.topic(matches[0].id), "personal", None):
            return matches  # already a personal answer (time, focus, next, route)
        route = next((e for e in kb.entries.values() if e.personal == "route"), None)
        if route is None:
            return matches
        scored = {h.id: h.score for h in kb.index.search(stems, limit=len(kb.index.documents), threshold=0.0, names=names)}
        first = Match(route.id, route.title, max(scored.get(route.id, 0.0), self.threshold))
        return [first, *(m for m in matches if m.id != route.id)]

    async def ask(self, user_id: str, question: str) -> Reply:
        question = " ".join(question.split())[:MAX_QUESTION_CHARS]
        kb = self.knowledge  # one snapshot for the whole answer, even if a reload lands meanwhile
        if not question:
            return self.help_reply()
        matches, found = self.match(question)
        profile = await self.storage.profile(user_id)
        remembered = profile.background
        lead = None
        if found and found.about_self and found.background in kb.backgrounds:
            if found.background != remembered:
                await self.storage.set_background(user_id, found.background)
                lead = f"Noted: you're coming from {kb.backgrounds[found.background].name}. I'll remember that (`/background clear` to undo)."
            remembered = found.background
        # A background named in the question wins for this question; otherwise the remembered one.
        in_question = kb.backgrounds.get(found.background) if found else None
        background = in_question or kb.backgrounds.get(remembered or "")
        remembered_out = remembered if remembered in kb.backgrounds else None

        if not matches and found and found.about_self and background:
            reply = compose.statement_reply(kb, background, await self.storage.done_steps(user_id), lead)
            qid = await self.storage.log_question(user_id, question, None, None, True)
            return _with(reply, question_id=qid, background=remembered_out)
        if not matches:
            stems = self.analyse(question)[0][-1]
            near = kb.index.search(stems, limit=2, threshold=self.threshold * 0.7, names=self.names(question))
            reply = compose.unknown_reply(kb, bold(quote_user_text(question, 120)), near)
            qid = await self.storage.log_question(user_id, question, None, None, False)
            return _with(reply, question_id=qid, background=remembered_out)

        top = matches[0]
        close = [m for m in matches[1:3] if top.score - m.score <= CLOSE]
        topic = kb.topic(top.id)
        assert topic is not None  # the index is built from these topics
        done = await self.storage.done_steps(user_id)
        reply = compose.topic_reply(kb, topic, background=background, done=done, lead=lead, matches=matches, did_you_mean=close)
        qid = await self.storage.log_question(user_id, question, top.id, top.score, True)
        return _with(reply, question_id=qid, background=remembered_out)

    # --- commands -------------------------------------------------------------------------------

    def help_reply(self) -> Reply:
        body = (
            "Ask me anything about becoming an ML engineer, in your own words: \"which book for deep learning?\", "
            "\"how long will it take me?\", \"I studied physics, where do I start?\".\n\n"
            "`/roadmap` the route, with your progress · `/step NAME` how to learn a step · `/next` your next step · "
            "`/done STEP` tick a step off · `/background set|show|clear` where you start from · `/topics` what I know · "
            "`/resources TOPIC` books and courses · `/forget-me` erase what I remember about you · `/about` credits"
        )
        return Reply("How to use MLE Advisor", body, kind="info")

    async def roadmap(self, user_id: str, background: str | None = None) -> Reply:
        kb = self.knowledge
        bg = self.find_background(background) if background else None
        if background and bg is None:
            return self._no_such_background(background)
        if bg is None:
            bg = kb.backgrounds.get((await self.storage.profile(user_id)).background or "")
        return compose.roadmap_reply(kb, bg, await self.storage.done_steps(user_id))

    async def show_topic(self, user_id: str, topic_id: str) -> Reply:
        """One topic by id (a "did you mean" choice), filled in for this user."""
        kb = self.knowledge
        topic = kb.topic(topic_id)
        if topic is None:
            return Reply("Topic gone", "That topic is no longer in my knowledge. Try `/topics`.", kind="unknown")
        profile = await self.storage.profile(user_id)
        background = kb.backgrounds.get(profile.background or "")
        return compose.topic_reply(kb, topic, background=background, done=await self.storage.done_steps(user_id))

    def step_reply(self, name: str) -> Reply:
        kb = self.knowledge
        step = self.find_step(name)
        if step is None:
            return self._no_such_step(name)
        return compose.topic_reply(kb, step)

    async def next_step(self, user_id: str) -> Reply:
        kb = self.knowledge
        entry = next((e for e in kb.entries.values() if e.personal == "next"), None)
        profile = await self.storage.profile(user_id)
        bg = kb.backgrounds.get(profile.background or "")
        done = await self.storage.done_steps(user_id)
        if entry is None:  # knowledge without a next-step entry: the first undone step of the route
            route = bg.route if bg else tuple(s.id for s in kb.steps)
            step = next((s for s in route if s not in done), None)
            return self.step_reply(step) if step else Reply("You've done every step", "Nothing left on your route.", kind="info")
        return _with(compose.topic_reply(kb, entry, background=bg, done=done), private=True)

    async def mark_done(self, user_id: str, name: str, done: bool = True) -> Reply:
        step = self.find_step(name)
        if step is None:
            return self._no_such_step(name)
        await self.storage.mark_done(user_id, step.id, done)
        finished = await self.storage.done_steps(user_id)
        profile = await self.storage.profile(user_id)
        kb = self.knowledge
        bg = kb.backgrounds.get(profile.background or "")
        route = bg.route if bg else tuple(s.id for s in kb.steps)
        left = [s for s in route if s not in finished]
        nxt = kb.step(left[0]) if left else None
        verb = "Marked done" if done else "Marked not done"
        body = f"{verb}: {bold(step.title)}. {len(route) - len(left)} of {len(route)} steps of your route done."
        body += f"\n\nNext: {bold(nxt.title)} (`/step {nxt.id}`)." if nxt else "\n\nThat was the last step of your route. Go get that job!"
        return Reply(verb, body, kind="info", next_step=nxt.id if nxt else None, private=True)

    async def set_background(self, user_id: str, text: str) -> Reply:
        bg = self.find_background(text)
        if bg is None:
            return self._no_such_background(text)
        await self.storage.set_background(user_id, bg.id)
        kb = self.knowledge
        reply = compose.statement_reply(kb, bg, await self.storage.done_steps(user_id), f"Saved: you're coming from {bg.name}.")
        return _with(reply, background=bg.id, private=True)

    async def show_background(self, user_id: str) -> Reply:
        profile = await self.storage.profile(user_id)
        bg = self.knowledge.backgrounds.get(profile.background or "")
        if bg is None:
            return Reply("Your background", "I don't know where you start from yet. " + compose.INVITE, kind="info", private=True)
        when = f" (you told me on {profile.background_stated_at[:10]})" if profile.background_stated_at else ""
        body = f"You're coming from {bold(bg.name)}{when}. Your route: {bg.route_name}."
        return Reply("Your background", body, kind="info", background=bg.id, private=True)

    async def clear_background(self, user_id: str) -> Reply:
        await self.storage.set_background(user_id, None)
        return Reply("Background cleared", "I no longer assume where you start from. " + compose.INVITE, kind="info", private=True)

    def topics(self) -> Reply:
        return compose.topics_reply(self.knowledge)

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
        body = "\n".join(lines)
        return Reply(f"Resources: {topic.title}", body, credit, kind="info")

    async def forget(self, user_id: str) -> Reply:
        removed = await self.storage.forget(user_id)
        body = f"Done: I removed everything I had stored about you ({removed} record(s)): background, progress, questions and feedback."
        return Reply("Forgotten", body, kind="info", private=True)

    async def feedback(self, question_id: int, user_id: str, helpful: bool) -> bool:
        return await self.storage.add_feedback(question_id, user_id, helpful)

    # --- lookups (also used for autocomplete) ---------------------------------------------------

    def find_step(self, name: str) -> Step | None:
        kb = self.knowledge
        name = name.strip()
        if not name:
            return None
        by_id = kb.step(name.lower())
        if by_id:
            return by_id
        choices = {s.id: f"{s.id} {s.short} {s.title}" for s in kb.steps}
        found = process.extractOne(name, choices, scorer=fuzz.WRatio, score_cutoff=70)
        return kb.step(found[2]) if found else None

    def find_topic(self, name: str) -> str | None:
        kb = self.knowledge
        if name in kb.topics:
            return name
        choices = {t.id: f"{t.id} {t.title}" for t in kb.topics.values() if t.resources}
        found = process.extractOne(name, choices, scorer=fuzz.WRatio, score_cutoff=70)
        if found:
            return found[2]
        matches, _ = self.match(name)
        return matches[0].id if matches else None

    def find_background(self, text: str) -> Background | None:
        kb = self.knowledge
        text = text.strip()
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
        found = process.extract(prefix, choices, scorer=fuzz.WRatio, limit=limit, score_cutoff=40)
        return [(kb.step(key).title, key) for _, _, key in found]  # type: ignore[union-attr]

    def topic_choices(self, prefix: str, limit: int = 25) -> list[tuple[str, str]]:
        kb = self.knowledge
        topics = [t for t in kb.topics.values() if t.resources]
        if not prefix.strip():
            return [(t.title, t.id) for t in topics][:limit]
        choices = {t.id: f"{t.id} {t.title}" for t in topics}
        found = process.extract(prefix, choices, scorer=fuzz.WRatio, limit=limit, score_cutoff=40)
        return [(kb.topics[key].title, key) for _, _, key in found]

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


def _with(reply: Reply, **changes: object) -> Reply:
    return replace(reply, **changes)  # type: ignore[arg-type]
