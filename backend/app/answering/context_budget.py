"""Keeps a paid call's context small: every prompt token is billed.

Approved answers and company facts make the paid model right, but each of them is paid for
on every call; sent whole, they made a context call cost over twice a bare one. So the
context is cut to what helps:

* examples carry only their sentences with content: greetings and sign-offs that most
  answers share ("Спасибо за обращение!", "Надеюсь, это поможет.") are left out
  (:func:`essential_text`);
* when the matcher is nearly sure which answer fits, that answer alone is sent (the
  pipeline's ``approved_examples``);
* what remains is taken by who wrote it, best first within each — operators' answers, the
  company's facts, then residents' served answers — until ``CONTEXT_TOKEN_BUDGET``
  estimated tokens are spent. The first item is always kept, so a tight budget never
  leaves the model with nothing.

Tokens are estimated at four characters each (Russian in common tokenizers); the real
count comes back with every paid answer and is logged.
"""

import math
import re
from collections.abc import Iterable
from dataclasses import replace

from app.language.wording import StemFrequencies, content_stems
from app.llm.prompt import ApprovedExample, KnowledgeSnippet, PromptContext

CHARS_PER_TOKEN = 4
#: A word used by at least this share of the answers and facts is boilerplate there.
COMMON_SHARE = 0.2
#: Below this many texts, word frequencies say nothing: no sentence is cut.
MIN_TEXTS_FOR_FREQUENCIES = 20
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")
_DIGIT = re.compile(r"\d")


def estimate_tokens(text: str) -> int:
    return max(1, math.ceil(len(text) / CHARS_PER_TOKEN))


class CommonWords:
    """Stems most answers share: what carries no fact of its own."""

    def __init__(self, texts: Iterable[str] | StemFrequencies) -> None:
        frequency = texts if isinstance(texts, StemFrequencies) else StemFrequencies(texts)
        enough = frequency.texts >= MIN_TEXTS_FOR_FREQUENCIES
        self.stems = frequency.at_least(COMMON_SHARE) if enough else None

    def essential_text(self, text: str) -> str:
        """``text`` without its sentences made only of common words. A sentence with a
        digit is a fact (a day, a price, a count) and always stays; if nothing would be
        left, the text stays whole."""
        if self.stems is None:
            return text
        sentences = [s for s in _SENTENCE_END.split(text.strip()) if s]
        kept = [s for s in sentences if _DIGIT.search(s) or not content_stems(s) <= self.stems]
        return " ".join(kept) if kept else text


def fit_to_budget(context: PromptContext, budget: int) -> PromptContext:
    """The context's examples and facts within ``budget`` estimated tokens (0: no budget):
    what the company wrote first (operators' answers, then facts), residents' answers
    last, each group in the order given (closest first)."""
    if budget <= 0:
        return context
    items: list[ApprovedExample | KnowledgeSnippet] = [
        *(e for e in context.examples if e.corrected),
        *context.knowledge,
        *(e for e in context.examples if not e.corrected),
    ]
    spent = 0
    kept: list[ApprovedExample | KnowledgeSnippet] = []
    for item in items:
        cost = _tokens_of(item)
        if kept and spent + cost > budget:
            continue  # a shorter item further down may still fit
        kept.append(item)
        spent += cost
    return replace(
        context,
        examples=[i for i in kept if isinstance(i, ApprovedExample)],
        knowledge=[i for i in kept if isinstance(i, KnowledgeSnippet)],
    )


def _tokens_of(item: ApprovedExample | KnowledgeSnippet) -> int:
    """What the item adds to the prompt (``PromptContext.messages``): an operator's answer
    comes with its question, a resident's is quoted alone, a fact with its title."""
    if isinstance(item, ApprovedExample):
        asked = estimate_tokens(item.question) if item.corrected else 0
        return asked + estimate_tokens(item.answer)
    return estimate_tokens(item.title) + estimate_tokens(item.content)
