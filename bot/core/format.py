"""Small text helpers shared by the knowledge checks and the answer composer.

The knowledge loader uses them to prove every entry's answer fits one Discord message, and the
composer uses the same ones to write it, so the check and the real answer cannot disagree.
"""

from __future__ import annotations

import re

MESSAGE_LIMIT = 2000
"""Discord's limit for one message; every answer the advisor gives fits in it."""

_MENTION = re.compile(r"@(everyone|here)|<@[!&]?\d+>|<#\d+>")
_MARKDOWN = re.compile(r"([\\*_`~|>\[\]])")


def bold(text: str) -> str:
    return f"**{text}**"


def link(name: str, url: str | None) -> str:
    # <url> inside a masked link keeps Discord from unfurling a preview for every resource.
    return f"[{name}](<{url}>)" if url else name


def resource_line(name: str, url: str | None, kind: str, note: str | None, by: str | None = None,
                  year: int | None = None, free: bool | None = None) -> str:
    facts = [kind] + ([str(year)] if year and str(year) not in name else []) + (["free"] if free else [])
    author = f" by {by}" if by and by not in name else ""
    line = f"• {link(name, url)}{author} ({', '.join(facts)})"
    return f"{line}: {note}" if note else line


def credit_line(labels: list[str]) -> str:
    return "Source: " + "; ".join(labels) if len(labels) == 1 else "Sources: " + "; ".join(labels)


def quote_user_text(text: str, limit: int = 200) -> str:
    """User text echoed back: shortened, markdown escaped, mentions defused (also done by allowed_mentions)."""
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    text = _MARKDOWN.sub(r"\\\1", text)
    return _MENTION.sub(lambda m: m.group(0).replace("@", "@\u200b").replace("<", "<\u200b"), text)


def fit_lines(head: str, lines: list[str], tail: str, limit: int, more: str = "…and {n} more") -> str:
    """head + as many of `lines` as fit + tail, within `limit` characters; says how many were left out."""
    body = head
    for i, line in enumerate(lines):
        rest = len(lines) - i - 1
        note = "\n" + more.format(n=rest) if rest else ""
        if len(body) + 1 + len(line) + len(note) + len(tail) > limit:
            body += "\n" + more.format(n=len(lines) - i)
            break
        body += "\n" + line
    return (body + tail)[:limit]


def code_lines(lines: list[str], limit: int = 1800) -> str:
    """Lines shown verbatim in a code block: nothing in them (a key like "[x](http://…)", a stray
    backtick, a mention) can format, link or ping. Cut to `limit` characters."""
    safe = [line.replace("`", "ˋ").replace("@", "@\u200b") for line in lines]
    body = "\n".join(safe)
    if len(body) > limit:
        body = body[: limit - 1] + "…"
    return f"```\n{body}\n```"
