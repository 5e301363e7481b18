"""Small talk the advisor recognises instead of treating as a question it can't answer.

Greetings ("hey everyone 👋", "good evening folks"), thanks ("thanks!! that helped a lot"),
acknowledgements ("ok cool", "lol"), a member asking for luck before something ("fingers crossed for
tomorrow") and questions about the bot itself ("who are you?", "what can you do?", "help") get a short,
friendly reply saying what the bot can do. They are never a refusal and never land in the moderators'
gaps list. A greeting followed by a real question ("hi! how do I learn MLOps?") is a question.
"""

from __future__ import annotations

import re
from functools import lru_cache

from bot.core.text import BREAK, words

GREETING = frozenset(
    """hi hii hiii hello helo hey heya hiya hey yo sup wassup howdy greetings morning evening afternoon gm
    hallo hola bonjour salut ciao namaste salam gday g'day wave""".split()
)
THANKS = frozenset(
    """thanks thank thx ty tysm tyvm cheers appreciate appreciated grateful gracias merci danke legend
    lifesaver""".split()
)
ACK = frozenset(
    """ok okay k kk cool nice great awesome perfect amazing brilliant lol lmao lmfao rofl haha hahaha hehe xd
    gotcha alright aight sure yes yeah yep yup no nope nah hmm hm wow oh ah bye cya goodbye later goodnight
    interesting neat sweet fine good noted understood right true fair word bet wild gg respect night nite nighty
    byee byeee nvm nevermind tmrw tmr tomorrow tonight ttyl soon gn brb afk gtg g2g""".split()
)
# Acknowledgements said as a phrase ("sounds good", "will do", "say less"): the message is one of these,
# give or take other small talk.
ACK_PHRASES = (
    ("sounds", "good"), ("sounds", "great"), ("sounds", "fair"), ("no", "worries"), ("will", "do"), ("will", "try"),
    ("say", "less"), ("makes", "sense"), ("fair", "enough"), ("got", "it"), ("big", "if", "true"), ("all", "good"),
    ("good", "to", "know"), ("on", "it"), ("give", "go"), ("give", "shot"),
    # "nvm, figured it out", "never mind, solved it": the member answered it themselves
    ("never", "mind"), ("figured", "it", "out"), ("figured", "out"), ("solved", "it"), ("fixed", "it"),
    ("got", "it", "working"), ("found", "it"),
    # fondness for the place ("i love this server")
    ("love", "this", "server"), ("love", "this", "community"), ("love", "this", "place"), ("love", "this", "bot"),
    ("love", "it"), ("love", "you"), ("love", "this"),
)
# An apology for how one wrote ("sorry for the wall of text", "my bad, typo"): the message is one of these,
# give or take what it is for.
APOLOGY = (("sorry",), ("my", "bad"), ("apologies",), ("apologise",), ("apologize",), ("oops",), ("whoops",))
_APOLOGY_FILLER = frozenset("""for the a my that this wall of text long message messages earlier before spam spamming
    ramble rambling typo typos caps english grammar late reply question questions dumb silly noob again all
    everyone guys it so very bad lol haha huge big giant massive essay novel post posts ping pinging tag tagging
    double channel chat server thread here spam spamming flood flooding""".split())
FILLER = frozenset(
    """a an the that this it that's all everyone everybody guys folks people yall y'all again very so much lot
    lots really actually for you u ya bot mate man dude bro friend friends there again once more just got it
    helped helpful help useful makes sense was is be good one day all and too as well great info answer reply
    tip tips advice way much lol im i am here i'm super mega totally grabbing grab getting coffee tea lunch snack
    break quick""".split()
) | frozenset(
    # who a message is addressed to, and hedges that only soften it ("morning chat", "tbh", "ngl")
    """chat fam team squad crew gang everyone ngl tbh fr frfr lowkey highkey honestly srsly istg tho though""".split()
)
# Questions about the bot itself: the message is one of these, give or take filler.
ABOUT = (
    ("who", "are", "you"), ("what", "are", "you"), ("who", "is", "this"), ("what", "is", "this"),
    ("are", "you", "a", "bot"), ("are", "you", "human"), ("are", "you", "real"), ("are", "you", "ai"),
    ("are", "you", "an", "ai"), ("what", "can", "you", "do"), ("what", "do", "you", "do"),
    ("what", "can", "i", "ask"), ("what", "can", "you", "help", "with"), ("what", "do", "you", "know"),
    ("how", "does", "this", "work"), ("how", "do", "i", "use", "you"), ("how", "do", "i", "use", "this"),
    ("how", "does", "this", "bot", "work"), ("what", "is", "your", "name"), ("introduce", "yourself"),
    ("help",), ("commands",), ("what", "commands"), ("how", "are", "you"), ("are", "you", "person"),
    ("are", "you", "robot"), ("are", "you", "chatgpt"), ("are", "you", "gpt"), ("is", "this", "bot"),
    ("is", "this", "ai"), ("what", "is", "up"), ("what", "up"), ("talking", "to", "bot"), ("talking", "to", "human"), ("talking", "to", "person"),
    ("what", "are", "you", "for"), ("what", "is", "this", "bot"), ("what", "you", "do"),
    ("joke",), ("tell", "joke"), ("another", "joke"),
    ("who", "made", "you"), ("who", "built", "you"), ("who", "created", "you"), ("who", "wrote", "you"),
    ("who", "runs", "you"), ("are", "you", "awake"), ("are", "you", "there"), ("are", "you", "alive"),
    ("you", "awake"), ("you", "there"), ("you", "alive"), ("anyone", "there"), ("anybody", "here"),
    ("anyone", "here"), ("anybody", "there"), ("anyone", "around"), ("anyone", "online"), ("someone", "here"),
)
# Asking for luck before something (an interview, an exam): the message is one of these, give or take
# filler and what it is for ("fingers crossed for friday", "wish me luck with the onsite").
LUCK = (
    ("wish", "me", "luck"), ("wish", "me", "the", "best"), ("wish", "me", "well"), ("fingers", "crossed"),
    ("here", "goes", "nothing"), ("here", "goes"), ("pray", "for", "me"), ("keep", "fingers", "crossed"),
    ("send", "good", "vibes"), ("rooting", "for", "me"), ("good", "luck", "to", "me"), ("lets", "go"),
    ("let", "us", "go"), ("moment", "of", "truth"), ("wish", "luck"),
)
_LUCK_FILLER = frozenset("""for with on at in my the a an this that it tomorrow today tonight friday monday tuesday
    wednesday thursday saturday sunday week next interview interviews onsite exam exams test round call screen
    offer final last big first second third again once more everyone all guys chat please pls yall lol haha ok okay alright so well
    nervous scared excited hour hours minute minutes mins min soon few couple days weeks morning afternoon
    evening""".split())
_ABOUT_FILLER = FILLER | GREETING | {"exactly", "even", "here", "for", "me", "please", "pls", "plz", "with", "bot",
                                     "mle", "advisor", "the", "anyway", "doing", "today", "list", "real", "actual",
                                     "actually", "really", "am", "i", "an", "ai", "someone", "like",
                                     "r", "u", "ur", "can", "could", "what", "do", "does", "or", "wait", "so", "hmm", "btw",
                                     "lol", "tho", "though", "yo", "hey", "still", "around", "online", "need",
                                     "it", "a"} | {
    # "are you a robot or a real person haha": the other identities asked about, and a laugh
    "person", "human", "robot", "bot", "chatgpt", "gpt", "haha", "hehe", "lmao", "xd", "just", "some", "kind", "of"}


_ABOUT_WORDS = frozenset(w for pattern in ABOUT for w in pattern) | _ABOUT_FILLER
_SMALL_WORDS = GREETING | THANKS | ACK | FILLER
_LUCK_WORDS = frozenset(w for pattern in LUCK for w in pattern) | _LUCK_FILLER
_ACK_FILLER = (GREETING | THANKS | ACK | FILLER | frozenset(w for p in ACK_PHRASES for w in p)  # "never mind, solved it"
               | frozenset("that it this then so just definitely sure for thx all at a really totally will i".split()))
_APOLOGY_WORDS = frozenset(w for pattern in APOLOGY for w in pattern) | _APOLOGY_FILLER
_ANY_WORD = (_ABOUT_WORDS | _SMALL_WORDS | _LUCK_WORDS | _APOLOGY_WORDS | {w for p in ACK_PHRASES for w in p}
             | {"r", "u", "ya"})
_WARM_SIGNS = ("🙏", "❤", "♥", "<3", "💙", "💜", "💚", "🧡", "💛", "🤍", "🫶", "🥰", "😍")


_LAUGH = re.compile(r"^(?:[bmw]?a?(?:h+a+){2,}h*|(?:h+e+){2,}|l+o+l+|l+m+f?a+o+|x+d+)$")
_RUN = re.compile(r"(\w)\1{2,}")


def _squeeze(word: str, known: frozenset[str]) -> str:
    """A word said with feeling as its plain self: "hahahaha" → "haha", "lmaooo" → "lmao", "sooo" → "so",
    "cooool" → "cool" (a run of one letter shortened to one, or to two where only that is a word we know)."""
    if _LAUGH.match(word):
        return "lol" if word.startswith("l") and "m" not in word else (
            "lmao" if word.startswith("l") else "xd" if word.startswith("x") else
            "hehe" if word.startswith("he") else "haha")
    if not _RUN.search(word):
        return word
    one = _RUN.sub(r"\1", word)
    two = _RUN.sub(r"\1\1", word)
    return one if one in known or two not in known else two


def _tokens(text: str) -> list[str]:
    return list(_squeezed(text))


@lru_cache(maxsize=256)  # each message is tokenised twice: as small talk, then as a reaction
def _squeezed(text: str) -> tuple[str, ...]:
    return tuple(_squeeze(w, _KNOWN) for w in words(text) if w != BREAK)


def _fits(tokens: list[str], pattern: tuple[str, ...], filler: frozenset[str]) -> bool:
    """The pattern's words in order, anything between or around them filler."""
    rest, at = [], 0
    for w in tokens:
        if at < len(pattern) and w == pattern[at]:
            at += 1
        else:
            rest.append(w)
    return at == len(pattern) and all(w in filler or w.isdigit() for w in rest)


def classify(text: str) -> str | None:
    """"greeting", "thanks", "ack", "luck" or "about" for small talk; None for anything else."""
    tokens = _tokens(text)
    if not tokens:
        if not text.strip() or text.strip().strip("?") == "":
            return None  # nothing, or only "?": the caller decides (an empty question gets the help text)
        # emoji or an emoticon alone ("👍", "🙏", ":)"): a reaction
        return "thanks" if any(sign in text for sign in _WARM_SIGNS) else "ack"
    if not _ANY_WORD.issuperset(w for w in tokens if not w.isdigit()):
        return None  # a word no small talk uses: a question (most messages stop here)
    tokens = [{"r": "are", "u": "you", "ya": "you"}.get(w, w) for w in tokens]
    if any(_fits(tokens, pattern, _ABOUT_FILLER) for pattern in ABOUT):
        return "about"
    if any(_fits(tokens, pattern, _LUCK_FILLER | _SMALL_WORDS) for pattern in LUCK):
        return "luck"
    if any(_fits(tokens, pattern, _ACK_FILLER) for pattern in ACK_PHRASES):
        return "thanks" if THANKS.intersection(tokens) else "ack"
    if any(_fits(tokens, pattern, _APOLOGY_WORDS | _SMALL_WORDS) for pattern in APOLOGY):
        return "ack"
    if not all(w in GREETING or w in THANKS or w in ACK or w in FILLER or w.isdigit() for w in tokens):
        return None
    if any(w in THANKS for w in tokens):
        return "thanks"
    if any(w in GREETING for w in tokens):
        return "greeting"
    return "ack"


# Reactions to an answer: a laugh, a sigh, relief, a compliment, a joke. They may say anything after the
# opening ("welp, that's a longer road than I pictured", "haha my students will have graduated by then"),
# so they are recognised by how they open or by praising the bot, and only when nothing in them asks.
REACTION_OPENERS = frozenset(
    """haha hahaha hah heh hehe lol lmao lmfao rofl xd welp oof ouch yikes wow whoa woah damn dang ugh phew
    oh ah aha ahh nice cool great awesome sweet neat wild omg fine fair ok okay alright well""".split()
)
_KNOWN = _ANY_WORD | REACTION_OPENERS  # the words a stretched word may be squeezed back into
PRAISE = frozenset(
    """helpful useful smart clever great awesome amazing better best cool nice legend goat brilliant impressive
    genius good slaps rock rocks goated goat gold dope elite banger underrated w funny hilarious cute wholesome
    fire""".split()
)
PRAISE_PHRASES = (("goes", "hard"), ("go", "hard"), ("hits", "different"), ("the", "goat"), ("a", "w"),
                  ("ate",), ("carried", "me"), ("saved", "me"))
"""Praise said as an idiom ("this bot goes hard"): the words together, right after what is praised."""
_BETWEEN = frozenset("bot thing advisor is are re s was be kinda so really just lowkey honestly actually".split())
BOT_WORDS = frozenset("you you're ur u bot this thing advisor".split())
_ANSWER_WORDS = frozenset("advice answer answers tip tips info reply replies explanation breakdown".split())
"""What a compliment may praise besides the bot itself: its answer ("goated advice")."""
_ASKS = frozenset("how what which where when why who should could would can do does is are any".split())
_REQUESTS = frozenset("""give show tell list explain recommend suggest send share need want wanna teach help
    finished done completed learned learnt started""".split())


def reaction(text: str) -> str | None:
    """"thanks" or "ack" for a reaction, compliment or joke rather than a question; None otherwise. The
    caller checks that the message states nothing about the member (a background, a finished step)."""
    tokens = _tokens(text)
    if not tokens or "?" in text or _REQUESTS.intersection(tokens):
        return None
    opener = tokens[0] in REACTION_OPENERS or tokens[0] in THANKS
    asks = any(w in _ASKS and tokens[i + 2 : i + 3] != ["not"] for i, w in enumerate(tokens[1:3]))  # "can't you just…"
    if (opener and not asks) or ((BOT_WORDS | _ANSWER_WORDS) & set(tokens[:4]) and _praises(tokens)):
        return "thanks" if THANKS.intersection(tokens) else "ack"
    return None


def _praises(tokens: list[str]) -> bool:
    """A word of praise anywhere, or an idiom of praise right after the bot is named ("this thing slaps",
    "you ate")."""
    if PRAISE.intersection(tokens):
        return True
    start = next(i for i, w in enumerate(tokens) if w in BOT_WORDS or w in _ANSWER_WORDS) + 1
    while start < len(tokens) and tokens[start] in _BETWEEN:
        start += 1
    return any(tuple(tokens[start : start + len(p)]) == p for p in PRAISE_PHRASES)
