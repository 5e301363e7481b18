"""MLE Advisor: answers 'how do I become an ML engineer?' from a curated knowledge base.

`bot.core` is the advisor without Discord (knowledge, matching, memory, answers, storage);
`bot.discord` puts it on Discord; `bot.cli` is the command line (`mle-advisor`).
"""

__version__ = "0.1.0"
