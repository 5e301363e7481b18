"""Writing answers from the knowledge: every reply fits one Discord message (2,000 characters).

The knowledge loader calls topic_text / background_text too, so `kb check` proves each shipped answer
fits with room to spare (RESERVE) for the lines the advisor may add: a remembered background, a
"did you mean", an invitation to say where you start from.

A personal answer names the member's background ("How long it will take you (software development)"),
so the advisor sends it only where that is fine (see Advisor.ask for backgrounds told privately).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from bot.core.format import MESSAGE_LIMIT, bold, credit_line, fit_lines, quote_user_text, resource_line
from bot.core.reply import Match, Reply
from bot.core.schema import Background, Entry, Resource, Source, Step, Topic

if TYPE_CHECKING:
    from bot.core.knowledge import Knowledge

RESERVE = 300
"""Characters every knowledge answer leaves free for the advisor's own added lines."""

INVITE = (
    "Tell me where you start from (for example \"I studied physics\", \"I'm a backend developer\" or "
    "\"no coding background\") and I'll tailor this to you."
)
COMMANDS = (
    "`/roadmap` the route, with your progress · `/step NAME` how to learn a step · `/next` your next step · "
    "`/done STEP` tick a step off · `/background set|show|clear` where you start from · `/topics` what I know · "
    "`/resources TOPIC` books and courses · `/my-data` what I store about you · `/forget-me` erase it · `/about` credits"
)
KIND_NAMES = {"book": "books", "course": "courses", "paper": "papers", "video": "videos", "blog": "blogs",
              "podcast": "podcasts", "site": "sites", "free": "free resources"}


def credit(source_ids: Iterable[str], sources: Mapping[str, Source]) -> str:
    labels = [sources[s].cite for s in dict.fromkeys(source_ids) if s in sources]
    return credit_line(labels) if labels else ""


def whose(source_id: str, sources: Mapping[str, Source]) -> str:
    """How a sentence names a guide: its `short` name, else its credit line."""
    source = sources.get(source_id)
    if source is None:
        return source_id
    return source.short or source.cite


def views_text(topic: Topic, sources: Mapping[str, Source]) -> str:
    """Where the guides disagree on this topic: each view on its own line, naming whose it is."""
    if not topic.views:
        return ""
    lines = [f"• {bold(_capital(whose(v.source, sources)) + ':')} {v.says}" for v in topic.views]
    return bold("Where the guides differ") + "\n" + "\n".join(lines)


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _lower(text: str) -> str:
    return text[:1].lower() + text[1:]


def _head(topic: Topic, sources: Mapping[str, Source] | None) -> str:
    """The answer, the guides' differing views (when it has any) and, for a step, the best way to learn."""
    head = topic.answer
    views = views_text(topic, sources or {})
    if views:
        head += "\n\n" + views
    if isinstance(topic, Step):
        head += f"\n\n{bold('Best way to learn:')} {topic.best_way}"
    return head


def _figure(own: str | None, near_own: str | None, bg: Background, near: Background | None,
            none: str, nearest: str) -> str | None:
    """A background's own figure, or, for a background the guides don't name, the nearest one's figure
    labelled as the nearest's (`none` and `nearest` say so). None when there is nothing to say."""
    if own:
        return own
    if near is None:
        return None
    if near_own:
        return f"{none} for {bg.name} in the guides; {nearest} {near.name}: {_lower(near_own)}"
    return f"{none} in the guides for {bg.name}, nor for the nearest start they name ({near.name})"


def time_text(bg: Background, near: Background | None = None) -> str | None:
    """How long the move takes from `bg` (its own figure or the nearest's, labelled)."""
    return _figure(bg.time, near.time if near else None, bg, near, "no figure", "the nearest is for")


def difficulty_text(bg: Background, near: Background | None = None) -> str | None:
    """How hard the move is from `bg` (its own rating or the nearest's, labelled)."""
    return _figure(bg.difficulty, near.difficulty if near else None, bg, near, "not rated", "the nearest is")


def nearest(kb: Knowledge, bg: Background | None) -> Background | None:
    """The background whose advice stands in for `bg`, when the guides don't name `bg` itself."""
    if bg is None or bg.nearest is None:
        return None
    return kb.backgrounds.get(bg.nearest)


def resource_text(r: Resource, *, full: bool = True) -> str:
    """One resource as a line: with its note, author and year (full), or just name, link and kind."""
    if full:
        return resource_line(r.name, r.url, r.type, r.note, r.by, r.year, r.free)
    return resource_line(r.name, r.url, r.type, None, None, None, r.free)


def kind_of(r: Resource) -> str:
    return {"article": "paper", "tool": "site", "community": "site"}.get(r.type, r.type)


def resource_lines(ids: Iterable[str], resources: Mapping[str, Resource], first: Collection[str] = (),
                   *, full: bool = True) -> list[str]:
    """One line per resource; kinds in `first` ("book", "free") come first."""
    chosen = [resources[i] for i in ids if i in resources]
    if first:
        chosen.sort(key=lambda r: not (kind_of(r) in first or ("free" in first and r.free)))
    return [resource_text(r, full=full) for r in chosen]


def topic_body(topic: Topic, resources: Mapping[str, Resource], budget: int = MESSAGE_LIMIT,
               wants: Collection[str] = (), named: Sequence[str] = (),
               sources: Mapping[str, Source] | None = None) -> str:
    """The answer, where the guides differ, its best way to learn (steps), and its resources: with their
    notes when they fit, else by name. Resources the question named come first, always with their notes."""
    head = _head(topic, sources)
    cards = [resources[r] for r in named if r in resources]
    if cards:  # the resources the question named, first and in full
        head = "\n".join(resource_text(r) for r in cards) + "\n\n" + head
    rest = [r for r in topic.resources if r not in named]
    if not rest:
        return head[:budget]
    head += "\n\n" + bold("Resources")
    full = resource_lines(rest, resources, wants)
    if len(head) + sum(len(line) + 1 for line in full) <= budget:
        return fit_lines(head, full, "", budget)
    return fit_lines(head, resource_lines(rest, resources, wants, full=False), "", budget, more="…and {n} more resources")


def needed_size(topic: Topic, resources: Mapping[str, Resource], sources: Mapping[str, Source]) -> int:
    """Characters the answer needs with every resource listed by name: what `kb check` measures, since
    the answer must fit with room left for the advisor's own lines (RESERVE)."""
    head = _head(topic, sources)
    lines = resource_lines(topic.resources, resources, full=False)
    body = head + ("\n\n" + bold("Resources") + "".join("\n" + line for line in lines) if lines else "")
    return len(Reply(topic.title, body, credit(topic.sources, sources)).text)


def topic_text(topic: Topic, resources: Mapping[str, Resource], sources: Mapping[str, Source]) -> str:
    """The answer as posted when the advisor adds nothing."""
    credit_text = credit(topic.sources, sources)
    return Reply(topic.title, topic_body(topic, resources, _budget(topic.title, credit_text) - RESERVE, sources=sources),
                 credit_text).text


def route_lines(route: Sequence[str], steps: Mapping[str, Step], done: Collection[str] = ()) -> list[str]:
    lines = []
    for number, step_id in enumerate(route, 1):
        step = steps.get(step_id)
        if step is not None:
            mark = "✅" if step_id in done else f"{number}."
            lines.append(f"{mark} {step.title}")
    return lines


def background_body(bg: Background, steps: Mapping[str, Step], done: Collection[str] = (),
                    near: Background | None = None) -> str:
    parts = [bg.summary]
    facts = []
    time, difficulty = time_text(bg, near), difficulty_text(bg, near)
    if time:
        facts.append(f"{bold('Time:')} {time}")
    if difficulty:
        facts.append(f"{bold('How hard:')} {difficulty}")
    if facts:
        parts.append("\n".join(facts))
    parts.append(f"{bold('Leverage:')} {bg.leverage}")
    parts.append(f"{bold('Learn first:')} {bg.learn_first}")
    parts.append(f"{bold('Your route — ' + bg.route_name + ':')}\n" + "\n".join(route_lines(bg.route, steps, done)))
    return "\n\n".join(parts)


def background_text(bg: Background, steps: Mapping[str, Step], sources: Mapping[str, Source],
                    near: Background | None = None) -> str:
    source_ids = [*bg.sources, *(near.sources if near else ())]
    return Reply(f"From {bg.name} to ML engineer", background_body(bg, steps, near=near), credit(source_ids, sources)).text


def following(kb: Knowledge, step_id: str) -> str | None:
    """The roadmap step after `step_id`, for a "Next step" button."""
    ids = [s.id for s in kb.steps]
    at = ids.index(step_id)
    return ids[at + 1] if at + 1 < len(ids) else None


def _with_lead(lead: str | None, body: str, budget: int) -> str:
    body = f"{lead}\n\n{body}" if lead else body
    return body if len(body) <= budget else body[: budget - 1] + "…"


def _budget(title: str, credit_text: str) -> int:
    return MESSAGE_LIMIT - len(title) - len(credit_text) - 10


def topic_reply(
    kb: Knowledge,
    topic: Topic,
    *,
    background: Background | None = None,
    done: Collection[str] = (),
    lead: str | None = None,
    matches: Sequence[Match] = (),
    did_you_mean: Sequence[Match] = (),
    wants: Collection[str] = (),
    named: Sequence[str] = (),
) -> Reply:
    """The answer for one topic; personal entries are filled in from the background when known."""
    title = topic.title
    sources: list[str] = list(topic.sources)
    next_step = following(kb, topic.id) if isinstance(topic, Step) else None
    if isinstance(topic, Entry) and topic.personal:
        title, body, extra_sources, next_step = _personal(kb, topic, background, done)
        sources += extra_sources
    else:
        body = None
    sources += [s for r in named if r in kb.resources for s in kb.resources[r].sources]
    credit_text = credit(sources, kb.sources)
    budget = _budget(title, credit_text)
    tail = ""
    if did_you_mean:
        tail = "\n\nDid you mean: " + " · ".join(bold(m.title) for m in did_you_mean) + "?"
    if body is None:
        body = topic_body(topic, kb.resources, budget - len(tail) - (len(lead) + 2 if lead else 0), wants, named,
                          kb.sources)
    elif named:
        body = "\n".join(resource_text(kb.resources[r]) for r in named if r in kb.resources) + "\n\n" + body
    body = _with_lead(lead, body, budget - len(tail)) + tail
    return Reply(title, body, credit_text, matches=tuple(matches), did_you_mean=tuple(did_you_mean), next_step=next_step)


def resources_for(kb: Knowledge, topic: Topic, wants: Collection[str], matches: Sequence[Match] = (),
                  skip: Collection[str] = ()) -> Reply:
    """A follow-up asking for some kind of resource ("is there a book for that?", "a free one?") on a
    topic: those of its resources, or, when it has none of that kind, the others it has. `skip`: ones the
    member says they finished ("done with cs50, what's the next course?")."""
    kinds = [k for k in wants if k != "free"]
    pool = [kb.resources[r] for r in topic.resources if r in kb.resources and r not in skip]
    chosen = [r for r in pool if (not kinds or kind_of(r) in kinds) and ("free" not in wants or r.free)]
    what = " and ".join(KIND_NAMES[k] for k in (kinds or ["free"]) if k in KIND_NAMES) if wants else "resources"
    if "free" in wants and kinds:
        what = "free " + what
    title = f"{what[:1].upper()}{what[1:]} for {topic.title}"
    if chosen:
        head = f"For {bold(topic.title)}:"
    elif pool:
        head = f"I have no {what} filed under {bold(topic.title)}; here is what I do have:"
        chosen = pool
    else:
        head = f"I have no resources filed under {bold(topic.title)}. `/topics` lists what I know."
    credit_text = credit([s for r in chosen for s in r.sources] or topic.sources, kb.sources)
    body = fit_lines(head, [resource_text(r) for r in chosen], "", _budget(title, credit_text), more="…and {n} more")
    return Reply(title, body, credit_text, matches=tuple(matches))


def practice_reply(kb: Knowledge, topic: Topic, matches: Sequence[Match] = ()) -> Reply:
    """A follow-up asking how to practise the previous topic: its best way to learn first."""
    best = topic.best_way if isinstance(topic, Step) else None
    if best is None:
        step = next((kb.step(r) for r in topic.related if kb.step(r)), None)
        best = step.best_way if step else None
    title = f"Practising: {topic.title}"
    credit_text = credit(topic.sources, kb.sources)
    views = views_text(topic, kb.sources)
    parts = ([f"{bold('Best way to learn:')} {best}"] if best else []) + [topic.answer] + ([views] if views else [])
    lines = resource_lines(topic.resources, kb.resources)
    body = fit_lines("\n\n".join(parts) + ("\n\n" + bold("Resources") if lines else ""), lines, "",
                     _budget(title, credit_text), more="…and {n} more resources")
    return Reply(title, body, credit_text, matches=tuple(matches), next_step=following(kb, topic.id) if isinstance(topic, Step) else None)


def _personal(
    kb: Knowledge, entry: Entry, bg: Background | None, done: Collection[str]
) -> tuple[str, str, list[str], str | None]:
    """(title, body, extra sources, next step id) of a personal entry."""
    steps = kb.steps_by_id
    label = f" ({bg.name})" if bg else ""
    near = nearest(kb, bg)
    near_sources = list(near.sources) if near else []
    if entry.personal == "next":
        route = bg.route if bg else tuple(s.id for s in kb.steps)
        step = next((steps[s] for s in route if s in steps and s not in done), None)
        if step is None:
            return "You've done every step", (
                "Every step of your route is marked done. Time to show your work and apply: see the job-hunting topics "
                "with /topics." + ("" if bg else "\n\n" + INVITE)
            ), [], None
        where = f"on the route from {bg.name}" if bg else "on the general roadmap"
        body = (
            f"{bold(step.title)} is your next step {where}.\n\n{step.answer}\n\n{bold('Best way to learn:')} {step.best_way}"
            f"\n\nWhen you've done it, mark it with `/done {step.id}`."
        )
        if not bg:
            body += "\n\n" + INVITE
        return f"Your next step: {step.short}", body, list(step.sources), following(kb, step.id)
    views = views_text(entry, kb.sources)
    if bg is None:
        return entry.title, "\n\n".join([entry.answer, *([views] if views else []), INVITE]), [], None
    if entry.personal == "route":
        return f"From {bg.name} to ML engineer", background_body(bg, steps, done, near), [*bg.sources, *near_sources], None
    start = bold(f"Starting from {bg.name}:")
    if entry.personal == "time":
        lines = [f"{start} {time_text(bg, near) or 'the guides give no figure for this starting point.'}"]
        difficulty = difficulty_text(bg, near)
        if difficulty:
            lines.append(f"{bold('How hard:')} {difficulty}")
        lines.append(f"{bold('What speeds it up:')} {bg.leverage}")
        lines.append(f"\n{bold('For comparison:')} {entry.answer}")
        return f"How long it will take you{label}", "\n".join(lines), [*bg.sources, *near_sources], None
    if entry.personal == "difficulty":
        lines = [f"{start} {difficulty_text(bg, near) or 'the guides give no rating for this starting point.'}"]
        time = time_text(bg, near)
        if time:
            lines.append(f"{bold('Time:')} {time}")
        lines.append(f"{bold('What you bring:')} {bg.leverage}")
        lines.append(f"{bold('Learn first:')} {bg.learn_first}")
        lines.append(f"\n{entry.answer}")
        return f"How hard it is for you{label}", "\n".join(lines), [*bg.sources, *near_sources], None
    # focus
    body = f"{bold('Learn first:')} {bg.learn_first}\n\n{bold('Leverage:')} {bg.leverage}\n\n{bold('Your route — ' + bg.route_name + ':')}\n"
    body += "\n".join(route_lines(bg.route, steps, done))
    if views:
        body += "\n\n" + views
    return f"What to focus on{label}", body, [*bg.sources, *near_sources], None


def subject(kb: Knowledge, topic: Topic, bg: Background | None, done: Collection[str]) -> str:
    """What "that" refers to after this answer: for "what to focus on" or "your next step", the step
    it pointed to; otherwise the topic itself."""
    if isinstance(topic, Entry) and topic.personal in ("focus", "next"):
        route = bg.route if bg else tuple(s.id for s in kb.steps)
        step = next((s for s in route if s not in done and kb.step(s)), None)
        return step or topic.id
    return topic.id


def statement_reply(kb: Knowledge, bg: Background, done: Collection[str], lead: str | None) -> Reply:
    """The answer to "I'm a physicist": what that start means, and the route from it."""
    title = f"From {bg.name} to ML engineer"
    near = nearest(kb, bg)
    credit_text = credit([*bg.sources, *(near.sources if near else ())], kb.sources)
    head = lead or f"You're coming from {bg.name}: I have that already."
    body = (f"{head}\n\n{background_body(bg, kb.steps_by_id, done, near)}\n\n"
            "Ask me anything next, for example \"how long will it take me?\" or `/next`.")
    return Reply(title, _with_lead(None, body, _budget(title, credit_text)), credit_text, kind="statement")


def roadmap_reply(kb: Knowledge, background: Background | None, done: Collection[str]) -> Reply:
    steps = kb.steps_by_id
    if background:
        route = background.route
        title = f"Your roadmap from {background.name}"
        time = time_text(background, nearest(kb, background))
        head = f"{bold(background.route_name)}" + (f" · {time}" if time else "")
    else:
        route = tuple(steps)
        title = "The roadmap to ML engineer"
        head = "The whole roadmap, in order. Each background takes its own route through it."
    lines = []
    for number, step_id in enumerate(route, 1):
        step = steps[step_id]
        mark = "✅" if step_id in done else f"{number}."
        lines.append(f"{mark} {bold(step.title)} (`{step.id}`)")
    finished = sum(1 for s in route if s in done)
    tail = f"\n\n{finished} of {len(route)} done. `/step NAME` shows how to learn one, `/done NAME` ticks it off, `/next` gives the next."
    if not background:
        tail += "\n" + INVITE
    credit_text = credit([s for step in route for s in steps[step].sources] + (list(background.sources) if background else []), kb.sources)
    body = fit_lines(head, lines, tail, _budget(title, credit_text), more="…and {n} more steps")
    nxt = next((s for s in route if s not in done), None)
    return Reply(title, body, credit_text, kind="info", next_step=nxt, private=bool(done))


def plan_reply(kb: Knowledge, background: Background | None, covered: Collection[str], unplaced: Sequence[str],
               done: Collection[str] = (), lead: str | None = None) -> Reply:
    """A list the member wrote, checked against the roadmap: the steps it covers, the ones it leaves out,
    and, when their background is known, how long the guides say the route takes."""
    steps = kb.steps_by_id
    route = tuple(background.route) if background else tuple(steps)
    name = background.route_name if background else "the general roadmap"
    left_out = [s for s in route if s not in covered]
    title = "Your plan against the roadmap"
    head = (f"Your list covers {len(route) - len(left_out)} of the {len(route)} steps on {name}"
            + (f"; it leaves out {len(left_out)}, marked ➕:" if left_out else ": nothing is left out."))
    lines = [f"{'✓' if s in covered else '➕'} {bold(steps[s].title) if s not in covered else steps[s].title} (`{s}`)"
             + (" ✅" if s in done else "") for s in route if s in steps]
    tail_parts = []
    if unplaced:
        tail_parts.append("Not a step of the guides' roadmap, as I read it: " + ", ".join(quote_user_text(u, 40) for u in unplaced[:4]) + ".")
    time = time_text(background, nearest(kb, background)) if background else None
    tail_parts.append(f"{bold('Time:')} {time}" if time else
                      "How long it takes depends on where you start: tell me your background (`/background set`).")
    tail_parts.append("`/step NAME` shows how to learn a step; `/roadmap` shows the route with your progress.")
    tail = "\n\n" + "\n".join(tail_parts)
    credit_text = credit([src for s in route if s in steps for src in steps[s].sources]
                         + (list(background.sources) if background else []), kb.sources)
    body = fit_lines(head, lines, tail, _budget(title, credit_text) - (len(lead) + 2 if lead else 0), more="…and {n} more steps")
    return Reply(title, _with_lead(lead, body, _budget(title, credit_text)), credit_text,
                 next_step=next((s for s in left_out if s not in done), None))


def topics_reply(kb: Knowledge) -> Reply:
    step_line = ", ".join(f"`{s.id}`" for s in kb.steps)
    entries = sorted(kb.entries.values(), key=lambda e: e.title.lower())
    lines = [f"• {e.title}" for e in entries]
    head = f"{bold('Roadmap steps')} (`/step NAME`): {step_line}\n\n{bold('Questions I can answer')}"
    tail = "\n\nAsk in your own words, or use `/roadmap`, `/next`, `/resources TOPIC`."
    return Reply("What I can help with", fit_lines(head, lines, tail, _budget("What I can help with", "")), kind="info")


def unknown_reply(kb: Knowledge, question: str, near: Sequence[Match] = (), elsewhere: Sequence[str] = ()) -> Reply:
    if elsewhere:
        body = (f"That sounds like a question about {' and '.join(elsewhere[:2])}, which is outside what I know: I only "
                "help with becoming a machine learning engineer.\n\n"
                "Try `/topics` for what I know, or `/roadmap` for the whole route from where you start.")
        return Reply("Not something I can help with", body, kind="unknown")
    body = (
        f"I don't have an answer for {question!s} in my knowledge, and I'd rather not guess.\n\n"
        "Try `/topics` for what I know, or `/roadmap` for the whole route from where you start."
    )
    if near:
        body += "\n\nClosest topics (not confident): " + " · ".join(bold(m.title) for m in near)
    return Reply("I don't know that one", body, kind="unknown", did_you_mean=tuple(near))


def help_reply() -> Reply:
    body = (
        "Ask me anything about becoming an ML engineer, in your own words: \"which book for deep learning?\", "
        "\"how long will it take me?\", \"I studied physics, where do I start?\". Follow-ups work too: "
        "\"is there a free course for that?\", \"and after that?\".\n\n" + COMMANDS
    )
    return Reply("How to use MLE Advisor", body, kind="info")


_SMALLTALK = {
    "greeting": ("Hi there! 👋", "I'm MLE Advisor. I help people find their way into ML engineering, whatever they "
                 "do today. Tell me where you start from, or ask a question like \"how long will it take me?\" or "
                 "\"which book for deep learning?\"."),
    "thanks": ("Glad it helped!", "Any time. When you finish a step, tick it off with `/done`, and `/next` shows "
               "what comes after it."),
    "ack": ("👍", "Ask me anything about becoming an ML engineer whenever you like: `/topics` lists what I know."),
    "luck": ("Good luck! 🤞", "Come back and tell me how it went. Whatever comes next, I'm here for the next question."),
}


def smalltalk_reply(kind: str) -> Reply:
    """A short, friendly answer to small talk; "about" (who are you, what can you do, help) is the help text."""
    if kind not in _SMALLTALK:
        reply = help_reply()
        return Reply("I'm MLE Advisor", "I answer questions about becoming a machine learning engineer, from five "
                     "career guides, and remember where you start from so my answers fit you.\n\n" + reply.body,
                     kind="smalltalk")
    title, body = _SMALLTALK[kind]
    return Reply(title, body, kind="smalltalk")


def about_reply(kb: Knowledge) -> Reply:
    lines = []
    for source in kb.sources.values():
        if not source.guide:
            continue
        by = f" by {source.author}" if source.author else ""
        when = f" ({source.published})" if source.published else ""
        link = f" <{source.url}>" if source.url else ""
        title = f"“{source.title}”" if source.titled else source.title
        lines.append(f"• {title}{by}{when}{link}")
    head = (
        "I answer questions about becoming a machine learning engineer, from a knowledge base that this "
        "server's moderators keep, written in our own words from these guides:"
    )
    tail = (
        "\n\nI remember the background you tell me and the steps you mark done, and the questions asked "
        "(so moderators can see what's missing). `/my-data` shows all of it, `/forget-me` erases it."
    )
    return Reply("About MLE Advisor", fit_lines(head, lines, tail, _budget("About MLE Advisor", "")), kind="info")


SPARKS = "▁▂▃▄▅▆▇█"


def sparkline(counts: Sequence[int]) -> str:
    """Counts as a row of bars, one per day: `▁▁▃█▂`."""
    top = max(counts, default=0)
    if top == 0:
        return SPARKS[0] * len(counts)
    return "".join(SPARKS[min(len(SPARKS) - 1, round(c / top * (len(SPARKS) - 1)))] for c in counts)


def usage_lines(kb: Knowledge, usages: Sequence[Any]) -> list[str]:
    """This server's questions over the given periods, for /kb stats: asked, share answered, 👍/👎, the
    most asked topics and the most frequent gaps, with a bar per day of the longest period."""
    lines = []
    for usage in usages:
        share = f"{usage.answered / usage.asked:.0%}" if usage.asked else "–"
        lines.append(f"**Last {usage.days} days**: {usage.asked} questions, {share} answered, "
                     f"{usage.helpful} 👍 / {usage.unhelpful} 👎")
    longest = max(usages, key=lambda u: u.days, default=None)
    if longest is not None and longest.asked:
        lines.append(f"Per day: `{sparkline(longest.per_day)}` (oldest first)")
        if longest.top_topics:
            titles = [f"{getattr(kb.topic(t), 'title', t)} ({n})" for t, n in longest.top_topics]
            lines.append("Most asked: " + " · ".join(titles))
        if longest.top_gaps:
            lines.append("Most frequent gaps: " + " · ".join(f"“{quote_user_text(q, 60)}” ({n})" for q, n in longest.top_gaps))
    return lines


# --- answers for the reading structure: several questions at once, a feeling acknowledged ------------

def acknowledge(feeling: str) -> str:
    """The one line that acknowledges a feeling the member stated, before the advice."""
    from bot.core.feelings import acknowledgement

    return acknowledgement(feeling)


def join_leads(*leads: str | None) -> str | None:
    joined = "\n\n".join(lead for lead in leads if lead)
    return joined or None


def _brief(body: str, budget: int) -> str:
    """A shorter body for one part of a combined answer: resources by name only, the long paragraphs cut
    at a sentence, invitations and "did you mean" left out, whole lines kept within `budget`."""
    out: list[str] = []
    size = 0
    for line in body.split("\n"):
        if line.startswith("Did you mean") or line == INVITE:
            continue
        if line.startswith("• ") and "): " in line:
            line = line.split("): ", 1)[0] + ")"  # a resource: its name, link and kind
        elif len(line) > budget * 0.55:
            cut = line[: int(budget * 0.55)]
            end = max(cut.rfind(". "), cut.rfind("! "), cut.rfind("? "))
            line = cut[: end + 1] if end > 40 else cut.rstrip() + "…"
        if size + len(line) + 1 > budget:
            break
        out.append(line)
        size += len(line) + 1
    while out and not out[-1].strip():
        out.pop()
    return "\n".join(out)


def several(kb: Knowledge, replies: Sequence[Reply], lead: str | None = None) -> Reply:
    """One reply to a message that asked several things: each answer under its own heading, all within
    one Discord message, with every source credited once."""
    labels: list[str] = []
    for reply in replies:
        text = reply.credit.split(": ", 1)[1] if ": " in reply.credit else reply.credit
        labels += [label for label in text.split("; ") if label and label not in labels]
    credit_text = credit_line(labels) if labels else ""
    title = "Your questions, one by one"
    budget = _budget(title, credit_text) - (len(lead) + 2 if lead else 0)
    share = budget // max(len(replies), 1) - 10
    sections = [f"{bold(r.title)}\n{_brief(r.body, share - len(r.title) - 6)}" for r in replies]
    body = _with_lead(lead, "\n\n".join(sections), _budget(title, credit_text))
    matches = tuple(m for r in replies for m in r.matches[:1])
    next_step = next((r.next_step for r in reversed(replies) if r.next_step), None)
    return Reply(title, body, credit_text, matches=matches, next_step=next_step)


def not_in_guides(about: str) -> str:
    """The line that says plainly what the guides do not cover, before what they do say."""
    return f"The guides I'm written from don't cover {about}, so I won't guess; here is the closest advice they give."


def uncovered_reply(about: str, nearby: Sequence[Match] = (), says: str | None = None, credit_text: str = "") -> Reply:
    """A question inside the field that the guides don't answer (pay, negotiating, which framework):
    said plainly, with what they do say that comes closest (`says`, the knowledge's words) and the topics
    that come closest; never an unrelated answer passed off as this one. With `says` it is a partial
    answer, not a decline."""
    if says:
        body = f"The guides I'm written from don't cover {about}, so I won't guess.\n\n{says}"
        if nearby:
            body += "\n\nMore in: " + " · ".join(bold(m.title) for m in nearby)
    else:
        body = (f"The guides I'm written from don't cover {about}, so I'd rather not guess or pass off another "
                "answer as this one.")
        if nearby:
            body += "\n\nWhat they do say nearby: " + " · ".join(bold(m.title) for m in nearby)
    body += "\n\nTry `/topics` for everything I know."
    if says:
        title = "Not in the guides, but what they say nearby"
        return Reply(title, _with_lead(None, body, _budget(title, credit_text)), credit_text, did_you_mean=tuple(nearby))
    return Reply("Not covered by the guides", body, kind="unknown", did_you_mean=tuple(nearby))


def field_resources(kb: Knowledge, wants: Collection[str], background: Background | None = None,
                    lead: str | None = None) -> Reply:
    """"The best books for machine learning": every resource of the kinds asked for, step by step along
    the member's route (or the roadmap), each under the step it belongs to."""
    kinds = [k for k in wants if k != "free"]
    route = [kb.steps_by_id[s] for s in (background.route if background else kb.steps_by_id) if s in kb.steps_by_id]
    lines: list[str] = []
    seen: set[str] = set()
    sources: list[str] = []
    for step in route:
        for rid in step.resources:
            r = kb.resources.get(rid)
            if r is None or rid in seen or kind_of(r) not in kinds or ("free" in wants and not r.free):
                continue
            seen.add(rid)
            sources += r.sources
            lines.append(f"{resource_text(r, full=False)}: {step.short}")
    what = " and ".join(KIND_NAMES.get(k, k) for k in kinds) or "resources"
    title = f"{what[:1].upper()}{what[1:]} along the roadmap"
    credit_text = credit(sources, kb.sources)
    if not lines:
        body = f"The guides name no {what} for the roadmap's steps. `/resources TOPIC` lists what each topic has."
        return Reply(title, _with_lead(lead, body, _budget(title, credit_text)), credit_text)
    head = (f"{lead}\n\n" if lead else "") + f"The {what} the guides recommend, in the order of "
    head += "your route:" if background else "the roadmap:"
    body = fit_lines(head, lines, "\n\n`/resources TOPIC` shows one topic's with notes.", _budget(title, credit_text),
                     more="…and {n} more")
    return Reply(title, body, credit_text)
