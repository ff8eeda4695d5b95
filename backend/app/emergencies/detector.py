"""Is this question an emergency: gas, fire or smoke, flooding, a person stuck in a lift,
sparking wiring, someone hurt or unconscious?

Decided before anything else, from the words themselves: an emergency must never wait for
the cache, a model or a queue, and must never get another topic's answer because it reads
like one («пахнет газом» sits next to «пахнет средством»). Each kind is a few lemma patterns
(every group of a pattern must be present: «газ» *and* a smell, «застрять» *and* a lift),
with vetoes for the phrasings that share the words and not the danger («после пожара»,
«дым от сигарет»). The embedding adds a second opinion for wordings the patterns miss: a
question closer to an emergency example than to every everyday one by a clear margin.

Measured on ``benchmarks/data/emergencies.tsv`` (``python -m benchmarks.emergencies``).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from types import MappingProxyType

import numpy as np

from app.language.lemmas import all_lemmas

GAS, FIRE, FLOOD, LIFT, ELECTRICITY, PERSON = (
    "gas",
    "fire",
    "flood",
    "lift",
    "electricity",
    "person",
)
KINDS = (GAS, FIRE, FLOOD, LIFT, ELECTRICITY, PERSON)

_PEOPLE = "человек мужчина женщина бабушка дедушка подросток ребенок сосед соседка старик"
_WATER_WAYS = "сверху потолок подвал кипяток квартира подъезд мы лестница площадка"

#: kind → patterns; a pattern is a tuple of alternatives (space-separated lemmas), each of
#: which must be present.
PATTERNS = MappingProxyType(
    {
        GAS: (
            ("газ", "пахнуть запах вонять утечка чувствоваться чувствовать тянуть шипеть"),
            ("газовый", "шипеть утечка пахнуть запах"),
        ),
        FIRE: (
            ("пожар",),
            ("задымление",),
            ("огонь",),
            ("дымиться",),
            ("дымить",),
            ("гарь",),
            ("горелый",),
            ("поджечь",),
            ("дым", "лестница подъезд подвал площадка этаж идти валить видно"),
            ("гореть", "квартира мусоропровод подвал коляска щиток проводка мусорокамера что-то"),
        ),
        FLOOD: (
            ("прорвать прорыв лопнуть", "труба батарея стояк отопление кипяток вода"),
            ("хлестать хлынуть",),
            ("потоп",),
            ("затопить заливать топить", _WATER_WAYS),
            ("течь литься", "потолок кипяток"),
        ),
        LIFT: (
            ("застрять застревать запереть заперт", "лифт кабина"),
            ("лифт", "остановиться", "внутри между"),
        ),
        ELECTRICITY: (
            ("искрить искра",),
            ("замыкание",),
            ("оголить оголенный", "провод проводка"),
            ("бить ударить удар", "ток"),
            ("трещать", "щиток электрощиток"),
        ),
        PERSON: (
            ("сознание", "без потерять"),
            ("дышать", "не"),
            ("упасть", "кровь удариться плохо встать вставать сознание"),
            ("плохо", "сердце"),
            ("лежать", _PEOPLE, "не без"),
        ),
    }
)
#: Lemma pairs (next to each other) that take an alarming word out of danger.
VETO_BIGRAMS = frozenset(
    {("после", "пожар"), ("от", "сигарета"), ("для", "розжиг"), ("пожарный", "выход")}
)
#: Words whose presence makes a pattern's match an everyday question.
VETO_WORDS = frozenset({"курить", "сигарета", "розжиг", "гриль", "дымоход"})


@dataclass(frozen=True)
class EmergencyExample:
    kind: str | None
    text: str


@dataclass(frozen=True)
class Detection:
    kind: str
    #: "words" (a lemma pattern) or "embedding" (the nearest-example check).
    by: str


def kind_by_words(text: str) -> str | None:
    """The first kind one of whose patterns the text's lemmas satisfy, unless vetoed."""
    lemmas = all_lemmas(text)
    present = frozenset(lemmas)
    if present & VETO_WORDS or VETO_BIGRAMS & set(pairwise(lemmas)):
        return None
    for kind, patterns in PATTERNS.items():
        for pattern in patterns:
            if all(present & frozenset(group.split()) for group in pattern):
                return kind
    return None


class EmbeddingOpinion:
    """Nearest examples: a question at least ``min_similarity`` from an emergency example
    and ``min_lead`` closer to it than to any everyday example."""

    def __init__(
        self,
        examples: Sequence[EmergencyExample],
        vectors: np.ndarray,
        min_similarity: float,
        min_lead: float,
    ) -> None:
        self.kinds = [e.kind for e in examples]
        self.vectors = np.asarray(vectors, np.float32)
        self.emergency = np.array([k is not None for k in self.kinds])
        self.min_similarity = min_similarity
        self.min_lead = min_lead

    def kind(self, vector: np.ndarray) -> str | None:
        if not self.emergency.any() or self.emergency.all():
            return None
        similarities = self.vectors @ np.asarray(vector, np.float32)
        danger = np.where(self.emergency, similarities, -np.inf)
        best = int(np.argmax(danger))
        everyday = float(np.max(similarities[~self.emergency]))
        if danger[best] >= self.min_similarity and danger[best] - everyday >= self.min_lead:
            return self.kinds[best]
        return None


class EmergencyDetector:
    def __init__(self, opinion: EmbeddingOpinion | None = None) -> None:
        self.opinion = opinion

    def detect(self, text: str, vector: np.ndarray | None = None) -> Detection | None:
        kind = kind_by_words(text)
        if kind is not None:
            return Detection(kind, "words")
        if self.opinion is not None and vector is not None:
            kind = self.opinion.kind(vector)
            if kind is not None:
                return Detection(kind, "embedding")
        return None
