"""Follow-up questions: "а сколько это стоит?" means nothing without the session.

Such a question must never be matched to a verified answer on its own words, and its
retrieval should see the question it follows. Detection is deliberately narrow (short
questions that lean on an earlier turn), because a false positive only costs a model call.
"""

import re

_WORD = re.compile(r"[а-яёa-z0-9]+(?:-[а-яёa-z0-9]+)*")
_LEADING = frozenset({"а", "и", "ещё", "еще", "тогда", "так", "но"})
_POINTING = frozenset({
    "это", "этого", "этом", "этому", "эти", "этих", "эта", "эту", "этот", "тот", "та",
    "то", "того", "тогда", "там", "туда", "тут", "он", "она", "оно", "они", "его", "её",
    "ее", "их", "ему", "ей", "им", "него", "неё", "нее", "них", "такой", "такая",
    "такое", "такие", "тоже", "также",
})  # fmt: skip
MAX_LEADING_WORDS = 6
MAX_POINTING_WORDS = 6


def is_follow_up(question: str, *, has_history: bool) -> bool:
    if not has_history:
        return False
    words = _WORD.findall(question.lower())
    if not words:
        return False
    if words[0] in _LEADING and len(words) <= MAX_LEADING_WORDS:
        return True
    return len(words) <= MAX_POINTING_WORDS and any(w in _POINTING for w in words)
