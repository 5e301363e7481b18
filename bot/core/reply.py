"""What the advisor answers: one Reply, rendered as text (CLI, console) or as an embed (Discord)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.format import MESSAGE_LIMIT


@dataclass(frozen=True)
class Match:
    id: str
    title: str
    score: float


@dataclass(frozen=True)
class Reply:
    title: str
    body: str
    credit: str = ""
    kind: str = "answer"  # answer | statement | smalltalk | unknown | info | error
    matches: tuple[Match, ...] = ()  # best first; empty when nothing matched confidently
    did_you_mean: tuple[Match, ...] = ()  # close runners-up, offered as choices
    next_step: str | None = None  # a step id: the bot offers a "Next step" button
    question_id: int | None = None  # stored question: the bot offers 👍/👎 on it
    question_token: str = ""  # checks that a 👍/👎 button names this question and no other
    background: str | None = None  # the asker's remembered background after this reply
    private: bool = False  # about the asker's own data: ephemeral on Discord

    @property
    def answered(self) -> bool:
        """False exactly when the advisor declines ("I don't know that one")."""
        return self.kind != "unknown"

    @property
    def text(self) -> str:
        """Exactly what is posted: title, body, credit, within one Discord message."""
        parts = [f"**{self.title}**", self.body]
        if self.credit:
            parts.append(f"*{self.credit}*")
        text = "\n".join(p for p in parts if p)
        return text if len(text) <= MESSAGE_LIMIT else text[: MESSAGE_LIMIT - 1] + "…"
