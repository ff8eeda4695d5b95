"""The golden set: a frozen, held-out sample of questions with approved answers.

Items come from operator corrections (the correction is the approved answer) and from 5-star
dialogs. The set is drawn once and then frozen, so accuracy figures from different weeks and
different model versions are comparable; it is only redrawn on an explicit rebuild. Its logs
are never exported for training (``training.export_logs`` skips them and any log asking the
very same question), so a model cannot have memorised the answers it is graded on.

Scoring (``agreement``): an answer agrees with the approved one by the share of the approved
answer's *key facts* it repeats — numbers (prices, phone numbers, times, counts, compared
digit by digit), weekdays and months, e-mails and web addresses. An approved answer with no
such facts is judged by meaning instead: 1 when the two answers' embeddings have cosine
similarity of at least ``GOLDEN_MIN_SIMILARITY``, else 0. ``accuracy_score`` is the mean
agreement over the set.
"""

import random
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.db.models import (
    AnswerSource,
    GoldenSetItem,
    VoiceLog,
    approved_dialog,
    client_of_log,
    heard_surely,
)
from app.embeddings.service import Embedder

#: Digit runs with the separators people write inside numbers: 8-800-555-01-23, 9:00, 4 800.
NUMBER = re.compile(r"\d(?:[\d\s\-:.,()]*\d)?")
ADDRESS = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+|(?:https?://|www\.)\S+", re.IGNORECASE)
#: Weekday and month names in any case form ("среда", not "средство"; "мая", not "маяк").
CALENDAR_WORDS = (
    r"понедельник\w*", r"вторник\w*", r"сред(?:а|у|ы|е|ам|ами|ах)", r"четверг\w*",
    r"пятниц\w*", r"суббот\w*", r"воскресень\w*", r"январ[ьяюе]\w*", r"феврал[ьяюе]\w*",
    r"март\w*", r"апрел[ьяюе]\w*", r"ма[йяюе]", r"июн[ьяюе]\w*", r"июл[ьяюе]\w*",
    r"август\w*", r"сентябр[ьяюе]\w*", r"октябр[ьяюе]\w*", r"ноябр[ьяюе]\w*",
    r"декабр[ьяюе]\w*",
)  # fmt: skip
CALENDAR = re.compile(r"\b(" + "|".join(CALENDAR_WORDS) + r")\b", re.IGNORECASE)


def normalise_question(text: str) -> str:
    """Case, punctuation and spacing do not make a question different."""
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def key_facts(text: str) -> set[str]:
    """What an answer must repeat to agree with ``text``: see the module docstring."""
    facts = set()
    for match in NUMBER.finditer(text):
        # "по 2, 4 и 6 этажам": a list separator ", " splits a run into separate numbers.
        for part in re.split(r",\s+", match.group()):
            digits = re.sub(r"\D", "", part)
            if digits:
                facts.add(f"#{digits}")
    facts.update(f"@{m.group().lower().rstrip('.,')}" for m in ADDRESS.finditer(text))
    facts.update(f"~{m.group(1).lower()[:5]}" for m in CALENDAR.finditer(text))
    return facts


def fact_recall(approved: str, candidate: str) -> float | None:
    """Share of the approved answer's facts found in the candidate; None when it has none."""
    expected = key_facts(approved)
    if not expected:
        return None
    found = key_facts(candidate)
    candidate_digits = re.sub(r"\D", "", candidate)
    # A long number may be written with other separators (8 800 555-01-23): compare digits.
    hits = sum(
        1
        for fact in expected
        if fact in found or (fact[0] == "#" and len(fact) > 3 and fact[1:] in candidate_digits)
    )
    return hits / len(expected)


#: Agreement at which a golden answer counts as fully correct.
FULLY_CORRECT_AGREEMENT = 0.999


@dataclass(frozen=True)
class ItemScore:
    item_id: int
    question: str
    answer: str
    agreement: float
    judged_by: str  # "facts" or "meaning"

    @property
    def fully_correct(self) -> bool:
        """Agreement is a float; this tolerance keeps 0.99999 from rounding a full answer
        into a partial one."""
        return self.agreement >= FULLY_CORRECT_AGREEMENT


@dataclass(frozen=True)
class GoldenReport:
    accuracy_score: float
    items: list[ItemScore]
    size: int
    built_at: str | None

    def summary(self) -> dict:
        by_facts = [i for i in self.items if i.judged_by == "facts"]
        return {
            "accuracy_score": round(self.accuracy_score, 4),
            "golden_set_size": self.size,
            "golden_set_built_at": self.built_at,
            "items_judged_by_facts": len(by_facts),
            "items_fully_correct": sum(1 for i in self.items if i.fully_correct),
        }


class GoldenSet:
    def __init__(
        self,
        embedder: Embedder,
        *,
        size: int,
        min_items: int,
        min_similarity: float,
        min_asr_confidence: float = 0.0,
    ):
        self.embedder = embedder
        self.size = size
        self.min_items = min_items
        self.min_similarity = min_similarity
        #: Misheard spoken questions are no golden items: the question may not be the one
        #: the approved answer answered.
        self.min_asr_confidence = min_asr_confidence

    def items(self, session: Session) -> list[GoldenSetItem]:
        return list(session.scalars(select(GoldenSetItem).order_by(GoldenSetItem.id)))

    def candidates(self, session: Session) -> list[tuple[VoiceLog, str, str]]:
        """Approved dialogs, one per distinct question: corrections first (an operator's
        answer is the strongest approval), then 5-star answers, oldest first, at most one
        per distinct client (no single resident sets what models are graded against)."""
        logs = session.execute(
            select(VoiceLog, client_of_log())
            .where(approved_dialog(5))
            .where(VoiceLog.answer_source != AnswerSource.FALLBACK)
            .where(heard_surely(self.min_asr_confidence))
            .order_by(VoiceLog.corrected_response.is_(None), VoiceLog.created_at)
        )
        seen, rating_clients, picked = set(), set(), []
        for log, client in logs:
            key = normalise_question(log.user_message)
            if key in seen:
                continue
            if log.corrected_response is not None:
                picked.append((log, log.corrected_response, "correction"))
            elif client not in rating_clients:
                rating_clients.add(client)
                picked.append((log, log.ai_response, "rating"))
            else:
                continue
            seen.add(key)
        return picked

    def ensure(self, session: Session, *, rebuild: bool = False, seed: int = 0) -> int:
        """Draw the set if there is none (or ``rebuild``); return its size. It takes a fifth
        of the distinct approved questions, at most ``size``; while that fifth is below
        ``min_items`` no set is drawn rather than freezing one too small to mean anything."""
        existing = session.scalar(select(func.count()).select_from(GoldenSetItem)) or 0
        if existing and not rebuild:
            return existing
        candidates = self.candidates(session)
        # Hold out a fifth of the approved questions at most: the rest must stay for training.
        take = min(self.size, len(candidates) // 5)
        if take < self.min_items:
            return existing
        corrections = [c for c in candidates if c[2] == "correction"]
        ratings = [c for c in candidates if c[2] == "rating"]
        generator = random.Random(seed)
        generator.shuffle(corrections)
        generator.shuffle(ratings)
        chosen = (corrections + ratings)[:take]
        session.execute(delete(GoldenSetItem))
        for log, answer, origin in chosen:
            session.add(
                GoldenSetItem(
                    question=log.user_message,
                    approved_answer=answer,
                    source_log_id=log.id,
                    origin=origin,
                    question_key=normalise_question(log.user_message),
                )
            )
        session.flush()
        return len(chosen)

    def held_out_questions(self, session: Session) -> set[str]:
        return set(session.scalars(select(GoldenSetItem.question_key)))

    def score(self, session: Session, answer: Callable[[str], str]) -> GoldenReport | None:
        """Ask every golden question through ``answer`` and grade it; None without a set."""
        return self.grade(self.items(session), answer)

    def grade(
        self, items: list[GoldenSetItem], answer: Callable[[str], str]
    ) -> GoldenReport | None:
        """Grade ``answer`` on loaded items: callers release their database session first,
        so no connection is held while a model thinks."""
        if not items:
            return None
        scores = []
        meaning_checks: list[tuple[int, str, str]] = []
        for index, item in enumerate(items):
            text = answer(item.question)
            recall = fact_recall(item.approved_answer, text)
            if recall is None:
                meaning_checks.append((index, item.approved_answer, text))
                scores.append(ItemScore(item.id, item.question, text, 0.0, "meaning"))
            else:
                scores.append(ItemScore(item.id, item.question, text, recall, "facts"))
        if meaning_checks:
            approved = self.embedder.embed_passages([c[1] for c in meaning_checks])
            given = self.embedder.embed_passages([c[2] for c in meaning_checks])
            similarity = np.sum(approved * given, axis=1)
            for (index, _, _), cosine in zip(meaning_checks, similarity, strict=True):
                agreed = 1.0 if float(cosine) >= self.min_similarity else 0.0
                scores[index] = ItemScore(
                    scores[index].item_id, scores[index].question, scores[index].answer,
                    agreed, "meaning",
                )  # fmt: skip
        built = min(item.created_at for item in items)
        return GoldenReport(
            accuracy_score=sum(s.agreement for s in scores) / len(scores),
            items=scores,
            size=len(items),
            built_at=built.isoformat() if built else None,
        )
