"""The grounding guard: a generated answer may state no figure it was not given.

A small model asked about a price it does not know writes one anyway; so does a large
one now and then. Residents act on numbers — a price, a day, an hour, a phone — so every
figure and contact detail a model states must appear in what it was shown (its prompt) or
in the company's knowledge base. A local answer that states one that does not is not shown:
the next provider answers instead. Paid answers are checked the same way and the finding
is logged (``voice_logs.ungrounded_facts``), for the dashboard and the benchmarks.

Figures are compared as numbers, not strings: "8:00" states 8, "два раза" states 2, a
phone is its ten digits however it is grouped.
"""

import re
from collections.abc import Iterable
from types import MappingProxyType

from app.llm.prompt import PromptContext
from app.verified_answers.grounding import contact_details, without_contact_details

_FIGURE = re.compile(r"\d+(?:[.,:]\d+)*")
_WORD = re.compile(r"[а-яё]+")
#: Numbers residents and models write as words; only whole word forms (not "пятница").
_NUMBER_WORDS = (
    (1, "один одна одно одного одной одну одним"),
    (2, "два две двух двум двумя дважды"),
    (3, "три трёх трех трём трем тремя трижды"),
    (4, "четыре четырёх четырех четырём четырем"),
    (5, "пять пяти"),
    (6, "шесть шести"),
    (7, "семь семи"),
    (8, "восемь восьми"),
    (9, "девять девяти"),
    (10, "десять десяти"),
)
_WORD_VALUES = MappingProxyType(
    {word: str(value) for value, words in _NUMBER_WORDS for word in words.split()}
)
#: Figures too small to carry a fact a resident could be misled by ("1 подъезд").
TRIVIAL = frozenset({"0", "1"})


def _figure_key(figure: str) -> str:
    """'08:00' → '8', '2,5' → '2:5', '12.05' → '12:5': parts as integers, zero tails cut."""
    parts = [str(int(p)) for p in re.split(r"[.,:]", figure)]
    while len(parts) > 1 and parts[-1] == "0":
        parts.pop()
    return ":".join(parts)


def stated_facts(text: str) -> frozenset[str]:
    """The figures and contact details ``text`` states, normalised for comparison."""
    found = set(contact_details(text))
    plain = without_contact_details(text)
    found.update(f"figure:{_figure_key(f)}" for f in _FIGURE.findall(plain))
    words = _WORD.findall(plain.lower())
    found.update(f"figure:{_WORD_VALUES[w]}" for w in words if w in _WORD_VALUES)
    return frozenset(found)


def _significant(facts: Iterable[str]) -> frozenset[str]:
    return frozenset(f for f in facts if f.removeprefix("figure:") not in TRIVIAL)


class GroundingGuard:
    """Checks answers against their prompt and the knowledge base."""

    def __init__(self, knowledge_texts: Iterable[str]) -> None:
        self.known = frozenset().union(*(stated_facts(t) for t in knowledge_texts))

    def ungrounded(self, answer: str, context: PromptContext) -> frozenset[str]:
        """What ``answer`` states that neither its prompt nor the knowledge base does."""
        shown = frozenset().union(*(stated_facts(m["content"]) for m in context.messages()))
        return _significant(stated_facts(answer) - shown - self.known)
