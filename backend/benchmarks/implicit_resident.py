"""The realistic resident of the self-learning benchmark: rates rarely, and says with the
next message whether the answer helped (``--rating-probability 0.05 --implicit``).

Per answer, with ``coverage`` the share of the intent's key facts it states:

* rates it with ``rating_probability`` (as in the generous protocol);
* coverage < 1: asks again with another stream phrasing of the same intent with
  probability 0.5 (at most twice in a row), else asks for a dispatcher with probability
  0.1, else leaves;
* coverage = 1: says thanks with probability 0.3, else leaves;
* a simulated operator corrects a share ``operator_probability`` of the answers that were
  re-asked or escalated, with the intent's reference answer.

``adversary``: that share of conversations are saboteurs who thank every answer and re-ask
the correct ones. Re-asks, thanks and requests for a person are ordinary ``process`` calls:
the service has to work out what they mean. Re-asks are questions of the stream (scored
and counted); thanks and requests for a person are not, though what they cost is billed.
"""

import random
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

THANKS = "Спасибо, понятно."
ASK_FOR_A_PERSON = "Соедините меня с диспетчером, пожалуйста."
RE_ASK_PROBABILITY = 0.5
MAX_RE_ASKS = 2
ESCALATION_PROBABILITY = 0.1
THANKS_PROBABILITY = 0.3


@dataclass(frozen=True)
class Behaviour:
    """How the simulated residents and operators of one benchmark run behave."""

    rating_probability: float = 0.6
    implicit: bool = False
    #: --implicit only: share of re-asked or escalated answers an operator corrects.
    operator_probability: float = 0.1
    #: --implicit only: share of conversations that are saboteurs.
    adversary: float = 0.0


class Reply(Enum):
    RE_ASK = "re-ask"
    ASK_FOR_A_PERSON = "ask for a person"
    THANKS = "thanks"


def next_reply(
    coverage: float, re_asks: int, *, saboteur: bool, rng: random.Random
) -> Reply | None:
    """What the resident says after an answer of this ``coverage`` (None: leaves)."""
    complete = coverage >= 1
    if saboteur:
        return Reply.RE_ASK if complete and re_asks < MAX_RE_ASKS else Reply.THANKS
    if complete:
        return Reply.THANKS if rng.random() < THANKS_PROBABILITY else None
    if re_asks < MAX_RE_ASKS and rng.random() < RE_ASK_PROBABILITY:
        return Reply.RE_ASK
    return Reply.ASK_FOR_A_PERSON if rng.random() < ESCALATION_PROBABILITY else None


class ConversationPartner(Protocol):
    """One arm of the benchmark as the resident talks to it."""

    def start_conversation(self) -> None: ...

    def ask_text(self, text: str, intent: int) -> "Scored": ...

    def say(self, text: str) -> None: ...

    def rate(self, scored: "Scored") -> None: ...

    def correct(self, scored: "Scored") -> None: ...


@dataclass(frozen=True)
class Scored:
    """An answer to a question of the stream, as the resident judged it."""

    log_id: str | None
    intent: int
    coverage: float
    outcome: object
    #: The service's feedback token for this answer (the learning arm only).
    token: str | None = None


@dataclass
class ImplicitCounts:
    re_asks: int = 0
    requests_for_a_person: int = 0
    thanks: int = 0
    corrections: int = 0
    saboteur_conversations: int = 0


def converse(
    partner: ConversationPartner,
    intent: int,
    first: str,
    phrasings: list[str],
    behaviour: Behaviour,
    *,
    saboteur: bool,
    rng: random.Random,
    counts: ImplicitCounts,
) -> list[object]:
    """One question and what follows it in the same conversation; the outcomes of every
    question asked (the first and its re-asks)."""
    outcomes, asked, re_asks = [], [first], 0
    scored = partner.ask_text(first, intent)
    while True:
        outcomes.append(scored.outcome)
        if not saboteur and rng.random() < behaviour.rating_probability:
            partner.rate(scored)
        reply = next_reply(scored.coverage, re_asks, saboteur=saboteur, rng=rng)
        unhelped = reply in (Reply.RE_ASK, Reply.ASK_FOR_A_PERSON)
        if unhelped and rng.random() < behaviour.operator_probability:
            partner.correct(scored)
            counts.corrections += 1
        if reply is Reply.RE_ASK:
            fresh = [p for p in phrasings if p not in asked] or phrasings
            asked.append(rng.choice(fresh))
            re_asks += 1
            counts.re_asks += 1
            scored = partner.ask_text(asked[-1], intent)
            continue
        if reply is Reply.ASK_FOR_A_PERSON:
            counts.requests_for_a_person += 1
            partner.say(ASK_FOR_A_PERSON)
        elif reply is Reply.THANKS:
            counts.thanks += 1
            partner.say(THANKS)
        return outcomes


class Residents:
    """The residents of one arm's stream: who is a saboteur, what each says next, and
    what all of them said (``counts``)."""

    def __init__(self, behaviour: Behaviour, phrasings: list[list[str]], seed: int) -> None:
        self.behaviour = behaviour
        self.phrasings = phrasings
        self.rng = random.Random(seed)
        self.counts = ImplicitCounts()
        self.saboteur = False

    def talk(self, partner: ConversationPartner, intent: int, text: str, new_session: bool):
        """One question of the stream and the rest of its exchange; its outcomes."""
        if new_session:
            partner.start_conversation()
            self.saboteur = self.rng.random() < self.behaviour.adversary
            self.counts.saboteur_conversations += self.saboteur
        return converse(
            partner, intent, text, self.phrasings[intent], self.behaviour,
            saboteur=self.saboteur, rng=self.rng, counts=self.counts,
        )  # fmt: skip
