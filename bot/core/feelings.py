"""A feeling the member states ("burnt out", "scared of maths", "40th rejection"), so that the answer
can acknowledge it in one line before giving the guides' advice. Which advice answers a feeling is the
knowledge's job (its entries' phrasings describe those situations); this reader only names the feeling.
Pure: no knowledge, no storage.
"""

from __future__ import annotations

from bot.core.text import BREAK, words

# feeling → (the words that state it, the one line that acknowledges it). Our own words, and only an
# acknowledgement: no advice and no claim about other people, which the guides do not give; the advice
# that follows comes from the knowledge.
FEELINGS: dict[str, tuple[frozenset[str], str]] = {
    "tired": (frozenset("burnt burned burnout exhausted drained tired overwhelmed".split()),
              "That sounds exhausting."),
    "rejected": (frozenset("rejection rejections rejected ghosted ghosting callbacks callback ignored unanswered".split()),
                 "Rejections are discouraging, especially a run of them."),
    "doubt": (frozenset("fraud fake impostor imposter dumb stupid failure hopeless hopelessly useless "
                        "inadequate genius geniuses".split()),
              "That is a hard feeling to carry."),
    "afraid": (frozenset("scared scare scares afraid panic anxiety anxious terrified fear fears nervous intimidated "
                         "intimidating frightens".split()),
               "That worry is understandable."),
    "down": (frozenset("crying cry depressed sad demotivated discouraged frustrated hopeless losing giving doomed".split()),
             "Sorry it feels like that right now."),
    "stuck": (frozenset("plateaued plateauing stagnating stagnant stalled stalling rut".split()),
              "Feeling stuck where you are is hard."),
}
# Ways of stating a feeling without naming it.
PHRASES = (("only one who", "doubt"), ("not good enough", "doubt"), ("not smart enough", "doubt"),
           ("out of my depth", "doubt"), ("in over my head", "doubt"), ("feel like giving up", "down"),
           ("want to give up", "down"), ("am cooked", "down"), ("so cooked", "down"),
           ("cooking me", "down"), ("hate myself", "down"), ("it hurts", "down"), ("confidence is shot", "doubt"),
           ("lost my confidence", "doubt"), ("no confidence", "doubt"), ("confidence is gone", "doubt"), ("even bother", "doubt"), ("feel behind", "doubt"), ("feeling behind", "doubt"),
           ("falling behind", "doubt"), ("fall behind", "doubt"), ("left behind", "doubt"), ("so behind", "doubt"),
           ("way behind", "doubt"), ("am behind", "doubt"), ("behind everyone", "doubt"), ("behind others", "doubt"), ("should i bother", "doubt"), ("laughed at me", "doubt"), ("feeling low", "down"),
           ("feel low", "down"), ("feeling pretty low", "down"), ("ignore me", "rejected"), ("no replies", "rejected"),
           ("never hear back", "rejected"), ("not hearing back", "rejected"), ("no responses", "rejected"),
           ("never reply", "rejected"), ("never replies", "rejected"), ("never respond", "rejected"),
           ("nobody replies", "rejected"), ("no one replies", "rejected"), ("no response", "rejected"), ("at the end of my rope", "tired"), ("no energy", "tired"),
           # stuck where one is (a job, a career), not stuck on an exercise: "stuck on backprop" states no feeling
           ("feel stuck", "stuck"), ("feeling stuck", "stuck"), ("stuck in my career", "stuck"), ("stuck in my job", "stuck"),
           ("stuck in my role", "stuck"), ("stuck in my current", "stuck"), ("career is stuck", "stuck"),
           ("hit a wall", "stuck"), ("hit a ceiling", "stuck"), ("hitting a wall", "stuck"), ("hitting a ceiling", "stuck"),
           ("going nowhere", "stuck"), ("not going anywhere", "stuck"), ("dead end", "stuck"), ("not growing", "stuck"))
_NOT_FEELING = frozenset({"behind the", "losing money"})
_CUES = frozenset().union(*(cues for cues, _ in FEELINGS.values()))


def feeling(message: str) -> str | None:
    """The first feeling `message` states, if any ("tired", "rejected", "doubt", "afraid", "down", "stuck")."""
    tokens = [w for w in words(message) if w != BREAK]
    present = set(tokens)
    if not ({"i", "me", "my", "im", "am", "feel", "feeling"} & present):
        return None  # a feeling is one's own: "how do recruiters handle rejections?" states none
    joined = " ".join(tokens)
    for phrase, name in PHRASES:
        if phrase in joined:
            return name
    if _CUES.isdisjoint(present):
        return None  # no word that states a feeling: the usual message, decided without the loops below
    for name, (cues, _) in FEELINGS.items():
        for i, w in enumerate(tokens):
            if w in cues and " ".join(tokens[i : i + 2]) not in _NOT_FEELING:
                if w in ("losing", "giving") and (tokens[i + 1 : i + 2] not in (["hope"], ["up"])):
                    continue
                return name
    return None


def acknowledgement(name: str) -> str:
    return FEELINGS[name][1] if name in FEELINGS else ""
