"""What a resident's next message says about the answer before it, when nobody rates.

Most residents never rate; the dialog itself still tells: asking the same thing again in
other words means the answer did not help, asking for a person means the bot could not,
a short "спасибо, понятно" means it probably did. Each detector reads one message (and, for
a re-ask, the question before it) and returns its evidence, so an operator sees why a signal
was recorded. They are deliberately narrow: a missed signal costs a little learning, a false
one counts against a good answer.

Re-asks are judged by meaning (the embedder) *and* words: on the dev set's 50 intents × 10
phrasings, e5-small alone puts 43 % of same-intent pairs at cosine ≥ 0.88 but also 3.9 % of
pairs from *different* intents (deliberately near neighbours); requiring a shared content
word below 0.90 keeps 52 % of same-intent pairs at 7 % of different-intent ones
(``RE_ASK_MIN_SIMILARITY`` / ``RE_ASK_SURE_SIMILARITY``). The cache's matcher, which
knows the phrasings residents approved for each answer, adds what the cosine misses: with
one class per intent fitted on three phrasings, "placed in the same answer and cosine
≥ 0.80, unless both are placed confidently apart" keeps 71 % of same-intent pairs at 4.5 %
of different-intent ones. A follow-up that leans on the answer ("а сколько это стоит?")
is never a re-ask.
"""

from dataclasses import dataclass, field

import numpy as np

from app.db.models import SignalKind
from app.language.courtesy import asks_for_a_person, normal, says_thanks
from app.language.follow_up import is_follow_up
from app.language.wording import content_stems
from app.verified_answers.matcher import Placement


@dataclass(frozen=True)
class Signal:
    kind: SignalKind
    evidence: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ReAskThresholds:
    #: Same meaning when this close and sharing a content word…
    min_similarity: float = 0.86
    #: …or this close whatever the words…
    sure_similarity: float = 0.90
    #: …or this close and placed by the cache's matcher in the same answer.
    placed_together_similarity: float = 0.80
    #: Placed in different classes, each leading its next class by this: not a re-ask.
    confident_lead: float = 0.1


def re_asked(
    previous: str,
    previous_vector: np.ndarray,
    question: str,
    vector: np.ndarray,
    thresholds: ReAskThresholds = ReAskThresholds(),
    placements: tuple[Placement | None, Placement | None] = (None, None),
) -> dict | None:
    """Evidence that ``question`` asks ``previous`` again in other words, else None.

    ``placements``: where the cache's matcher puts each question. It knows the phrasings
    residents approved for each answer, so it tells paraphrases apart better than a
    cosine alone: placed in the same answer, a pair this side of
    ``placed_together_similarity`` is a re-ask; placed confidently apart, it is not."""
    if normal(previous) == normal(question):
        return {
            "similarity": 1.0,
            "shared_words": sorted(content_stems(question)),
            "same_text": True,
        }
    similarity = float(np.dot(previous_vector, vector))
    shared = sorted(content_stems(previous) & content_stems(question))
    first, second = placements
    placed = first is not None and second is not None
    together = (
        placed
        and first.key == second.key
        and first.answer
        and similarity >= thresholds.placed_together_similarity
    )
    apart = (
        placed
        and first.key != second.key
        and min(first.lead, second.lead) > thresholds.confident_lead
    )
    worded_alike = similarity >= thresholds.sure_similarity or (
        similarity >= thresholds.min_similarity and shared
    )
    by_wording = worded_alike and not apart
    if not (by_wording or together):
        return None
    evidence: dict = {
        "similarity": round(similarity, 4),
        "shared_words": shared,
        # Only a re-ask worded alike teaches the earlier phrasing (a re-ask chain): the
        # matcher's placement alone is good enough to count against an answer, not to
        # tie a question to another one.
        "by": "wording" if by_wording else "matcher",
    }
    if together:
        evidence["same_answer"] = first.key
    return evidence


def read_next_message(
    previous: str,
    previous_vector: np.ndarray | None,
    message: str,
    vector: np.ndarray | None,
    thresholds: ReAskThresholds = ReAskThresholds(),
    placements: tuple[Placement | None, Placement | None] = (None, None),
) -> Signal | None:
    """What ``message`` says about the answer to ``previous``: a request for a person
    first (it may repeat the question too), then thanks, then — unless it is a follow-up
    leaning on the answer — a re-ask."""
    phrase = asks_for_a_person(message)
    if phrase:
        return Signal(SignalKind.ESCALATION, {"phrase": phrase})
    phrase = says_thanks(message)
    if phrase:
        return Signal(SignalKind.THANKS, {"phrase": phrase})
    if is_follow_up(message, has_history=True):
        return None
    if previous_vector is None or vector is None:
        return None
    evidence = re_asked(previous, previous_vector, message, vector, thresholds, placements)
    return Signal(SignalKind.RE_ASK, evidence) if evidence else None
