"""Matching quality on questions in our own words (not the development eval's): regressions show here.

Each question lists the topics a member would accept as an answer; off-topic questions must get none.
"""

from __future__ import annotations

import pytest

from bot.core.advisor import Advisor

ON_TOPIC = [
    ("what exactly is a machine learning engineer?", "what-is-ml-engineering"),
    ("how is an ML engineer different from a data scientist", "mle-vs-data-scientist"),
    ("what's the diff between MLE and data scientist", "mle-vs-data-scientist"),
    ("recommend a textbook on neural networks", "deep-learning"),
    ("is fast.ai worth it?", "deep-learning"),
    ("recs for learning pytorch?", "deep-learning"),
    ("where should I study NLP", "nlp-transformers"),
    ("best resources for transformers", "nlp-transformers"),
    ("who wrote the original transformer paper", "nlp-transformers"),
    ("good place to learn derivatives and integrals", "maths-foundations"),
    ("where to learn stats for ML", "maths-foundations"),
    ("which language should I code in for ML", "learn-to-code"),
    ("beginner course for programming", "learn-to-code"),
    ("how can I get good at leetcode style problems", "algorithms"),
    ("what's the best way to learn ML ops", "mlops-production"),
    ("who is chip huyen", "mlops-production"),
    ("how do I deploy a model with an API", "web-development|mlops-production"),
    ("ideas for a standout portfolio", "portfolio"),
    ("what's a good first ML project", "portfolio|domain-projects"),
    ("what should I put on my resume for ML roles", "portfolio"),
    ("where can I practice on real datasets", "get-experience"),
    ("how do companies interview ml engineers", "interviews"),
    ("how should I prepare for a machine learning interview", "interviews"),
    ("how to get an ml internship", "getting-the-job"),
    ("job boards for ML roles", "job-search"),
    ("is networking important", "networking"),
    ("where can I find a mentor", "ask-for-help"),
    ("what podcasts should I listen to about ML", "podcasts"),
    ("any good ML blogs", "blogs"),
    ("how do I train models on rented GPUs", "ml-in-the-cloud"),
    ("should I start with classic algorithms or neural nets", "shallow-before-deep|classical-ml"),
    ("what are cnns good for", "models-by-data"),
    ("what architecture for image classification", "models-by-data"),
    ("what are the two paths into the field", "routes"),
    ("show me all the steps", "full-roadmap"),
    ("how many months will this take", "time-to-learn"),
    ("whats the hardest part of becoming an mle", "how-hard"),
    ("do I need a PhD", "university-route"),
    ("can I learn ML without a CS degree", "university-route"),
    ("what does a data engineer do", "data-team-roles"),
    ("what skills do ML engineers need", "skills-needed"),
    ("how do i learn data cleaning", "data-prep"),
    ("what's Karpathy's advice", "become-an-expert"),
    ("do I have to learn JavaScript", "web-development"),
    ("what's the next thing I should study", "next-step"),
    ("any tips for breaking into ML?", "your-route"),
    ("why does software engineering matter so much for ML", "why-software-engineering"),
    ("ML researcher or ML engineer?", "mle-vs-researcher"),
    ("how do I pick a specialization", "domain-projects"),
    ("numpy or pandas?", "python-packages"),
    ("i keep hearing about transformers, where do i even start", "nlp-transformers"),
    ("what do hiring managers look for in ml portfolios", "portfolio"),
    ("how long to become job ready if I study part time", "time-to-learn"),
    ("what's the one book everyone recommends for ML fundamentals?", "deep-learning|maths-foundations|classical-ml"),
]

OFF_TOPIC = [
    "how do I bake bread?", "who won the football game", "best pizza in town", "tell me a joke",
    "what is the weather tomorrow", "how do I fix my car engine", "recommend a good novel",
    "what's the capital of France", "asdfgh jkl", "how tall is mount everest", "I like turtles",
    "can you help me with my taxes", "how do I learn to play guitar", "best book about cooking",
    "how long to boil an egg", "how much do ML engineers earn",
]


@pytest.mark.parametrize(("question", "accepted"), ON_TOPIC)
def test_questions_in_our_own_words_reach_an_acceptable_topic(advisor: Advisor, question: str, accepted: str) -> None:
    matches, _ = advisor.match(question)
    assert matches, f"{question!r} matched nothing"
    assert matches[0].id in accepted.split("|"), [(m.id, m.score) for m in matches[:3]]


@pytest.mark.parametrize("question", OFF_TOPIC)
def test_off_topic_questions_match_nothing(advisor: Advisor, question: str) -> None:
    matches, _ = advisor.match(question)
    assert matches == [], [(m.id, m.score) for m in matches[:3]]
