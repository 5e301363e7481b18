"""/my-data's attachment: everything stored about a member, as JSON, within an upload limit.

A member who asked thousands of questions has more than one attachment can hold as plain JSON, so the
file is packed in the first way that fits: plain JSON; gzip-compressed JSON (`.json.gz`, which every
archive tool opens); and, if even that is too big, the same with only the most recent questions,
feedback and contexts that fit, saying so in the file and in the note. Never an error for the member.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from typing import Any

NAME = "mle-advisor-my-data"
DEFAULT_LIMIT = 8 * 2**20
"""Discord's smallest upload limit (a server without boosts); the interaction says when it is larger."""
TRIMMED = ("questions", "feedback", "context")
"""Tables that can grow without bound; trimmed to the most recent rows when nothing else fits."""


@dataclass(frozen=True)
class Packed:
    filename: str
    content: bytes
    note: str  # one sentence for the member when the file is not plain and complete; "" otherwise


def pack(data: dict[str, Any], limit: int = DEFAULT_LIMIT) -> Packed:
    """The member's data as one file of at most `limit` bytes."""
    plain = _dump(data)
    if len(plain) <= limit:
        return Packed(f"{NAME}.json", plain, "")
    packed = gzip.compress(plain, compresslevel=6, mtime=0)
    if len(packed) <= limit:
        return Packed(f"{NAME}.json.gz", packed,
                      f"It is {len(plain) / 2**20:.1f} MiB as JSON, so it is compressed (.json.gz: any archive tool opens it).")
    # Too much even compressed: keep the most recent rows that fit (halving the share kept until it does).
    total = {table: len(data.get(table) or []) for table in TRIMMED}
    share = min(1.0, limit / max(len(packed), 1))
    while share > 0:
        kept = {table: int(total[table] * share) for table in TRIMMED}
        trimmed = _trim(data, kept, total)
        packed = gzip.compress(_dump(trimmed), compresslevel=6, mtime=0)
        if len(packed) <= limit:
            shown = kept["questions"]
            return Packed(f"{NAME}.json.gz", packed,
                          f"It is too big for one attachment even compressed, so the file has your {shown:,} most recent "
                          f"questions of {total['questions']:,} (and the most recent feedback and contexts); "
                          "the counts above are complete, and `/forget-me` erases all of it.")
        share = share * 0.5 if share > 0.001 else 0.0
    raise ValueError("the member's data does not fit the upload limit even without questions")  # limit < a few KiB


def _dump(data: dict[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=2).encode()


def _trim(data: dict[str, Any], kept: dict[str, int], total: dict[str, int]) -> dict[str, Any]:
    out = dict(data)
    for table in TRIMMED:
        rows = data.get(table) or []  # stored oldest first
        out[table] = rows[len(rows) - kept[table]:] if kept[table] else []
    out["trimmed"] = {table: {"kept": kept[table], "stored": total[table]} for table in TRIMMED}
    return out
