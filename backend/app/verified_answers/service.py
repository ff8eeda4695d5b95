"""Verified answers: what residents rated 5 and what operators wrote, kept as evidence.

Every judged dialog is *evidence* about one verified answer: this question is answered by
it, or it is not. :meth:`VerifiedAnswers.learn_from_log` turns a log's current rating and
correction into that evidence, replacing whatever the log said before, so rating again or
correcting later always leaves the evidence consistent. The rules:

* an operator's correction becomes (or joins) a verified answer for the question, and
  counts against the answer the log was served from cache, if any;
* a 5 on a model's answer makes that text a verified answer; a 5 on a cached answer adds
  the question to the approved phrasings of the answer it was served from;
* a 1–2 on a cached answer records that the answer does not fit this question;
* a 1–2 (or a correction) on the dialog an answer came from takes that dialog's approval
  back.

**No single client moves the cache by itself** (``trust.py``). Residents' votes count per
distinct *client* (``voice_logs.client_key``: the network the request came from, behind
trusted proxies only), never per session id, which a client picks. A residents' answer is
served once ``min_sessions`` (``VERIFY_MIN_SESSIONS``) more distinct clients approve it
than refuse it, and holds no contact detail the company never published; it is withdrawn
for good once that many refused it, the deciding refusal on a question it was approved
for. Operators act alone and outrank residents: a correction is served at once, residents'
low ratings never withdraw it nor block it for close questions, and an operator's
withdrawal is immediate. One client's low rating of a residents' answer still records that
it does not fit *its* question, which only ever sends close questions back to the model.

Every change bumps a revision in ``app_state`` first, and triggers note the answers it
touched: each process's :class:`~app.verified_answers.index.VerifiedAnswerIndex` updates
just those in its matcher.
"""

import hashlib
import logging
import re
import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from app.db.app_state import bump_revision
from app.db.models import (
    AnswerEvidence,
    AnswerSignal,
    EvidenceBasis,
    KnowledgeEntry,
    SignalKind,
    VerifiedAnswer,
    VerifiedKind,
    VoiceEmbedding,
    VoiceLog,
    client_of_log,
    misheard,
)
from app.embeddings.service import EmbeddingService
from app.language.wording import StemFrequencies, content_stems
from app.records.dialog_log import EMERGENCY_MODEL_NAME
from app.verified_answers.grounding import TrustedContacts
from app.verified_answers.matcher import (
    MatchThresholds,
)
from app.verified_answers.trust import Standing, Support, standing

logger = logging.getLogger(__name__)

LOW_RATING = 2
TOP_RATING = 5
#: A word used by at most this share of verified answers and facts is distinctive.
DISTINCTIVE_SHARE = 0.1
#: Share of an answer's distinctive words another answer must contain to restate it.
RESTATED_SHARE = 0.6
#: An answer needs this many distinctive words before anything can be said to restate it.
MIN_DISTINCTIVE_WORDS = 2
#: Verified answers with the nearest approved questions checked for a restatement.
RESTATE_CANDIDATES = 5
#: Distinct conversations whose agreement verifies a rated answer (VERIFY_MIN_SESSIONS).
DEFAULT_MIN_SESSIONS = 2
#: What thanks or a re-ask weighs against a rating's 1 (IMPLICIT_EVIDENCE_WEIGHT).
DEFAULT_IMPLICIT_WEIGHT = 0.5
#: Re-asks followed back from a satisfied answer to the phrasings it also answers.
MAX_RE_ASK_CHAIN = 3
#: Two refused questions this close (e5 cosine) are the same question refused twice.
CORROBORATING_SIMILARITY = 0.95


def residents_support(session: Session, verified_ids: list[uuid.UUID]) -> dict[uuid.UUID, Support]:
    """Distinct clients approving and refusing each answer, each with the weight of its
    strongest evidence, residents' dialogs only (an operator's correction is the
    operator's word, counted apart)."""
    if not verified_ids:
        return {}
    rows = session.execute(
        select(
            AnswerEvidence.verified_answer_id,
            AnswerEvidence.agrees,
            client_of_log(),
            AnswerEvidence.weight,
        )
        .join(VoiceLog, VoiceLog.id == AnswerEvidence.log_id)
        .where(
            AnswerEvidence.verified_answer_id.in_(verified_ids),
            VoiceLog.corrected_response.is_(None),
        )
        .distinct()
    ).all()
    approving: dict[uuid.UUID, dict[str, float]] = defaultdict(dict)
    refusing: dict[uuid.UUID, dict[str, float]] = defaultdict(dict)
    for verified_id, agrees, client, weight in rows:
        weights = (approving if agrees else refusing)[verified_id]
        weights[client] = max(weights.get(client, 0.0), float(weight))
    return {
        verified_id: Support(approving[verified_id], refusing[verified_id])
        for verified_id in verified_ids
    }


def _chained_re_ask():
    """Re-asks that link two phrasings in a chain: those worded alike (signals recorded
    before the matcher took part were all worded alike)."""
    return (AnswerSignal.kind == SignalKind.RE_ASK) & (
        func.coalesce(AnswerSignal.evidence["by"].astext, "wording") == "wording"
    )


def _follow_re_asks(session: Session, log_id: int, *, back: bool) -> list[int]:
    """The logs a chain of re-asks links to ``log_id``, nearest first: the questions it
    asked again (``back``) or those that asked it again."""
    here, there = (
        (AnswerSignal.next_log_id, AnswerSignal.log_id)
        if back
        else (AnswerSignal.log_id, AnswerSignal.next_log_id)
    )
    found: list[int] = []
    current = log_id
    for _ in range(MAX_RE_ASK_CHAIN):
        linked = session.scalar(select(there).where(here == current, _chained_re_ask()))
        if linked is None:
            break
        found.append(linked)
        current = linked
    return found


def earlier_phrasings(session: Session, log_id: int) -> list[VoiceLog]:
    """The questions ``log_id`` asked again, nearest first (a chain of re-asks)."""
    earlier = _follow_re_asks(session, log_id, back=True)
    return [session.get(VoiceLog, log) for log in earlier]


def satisfying_answer(session: Session, log_id: int) -> uuid.UUID | None:
    """Follow the re-asks of ``log_id`` to the last one; the verified answer that last
    question approved (rated 5, thanked, or corrected by an operator), if any."""
    later = _follow_re_asks(session, log_id, back=False)
    if not later:
        return None
    current = later[-1]
    return session.scalar(
        select(AnswerEvidence.verified_answer_id)
        .where(
            AnswerEvidence.log_id == current,
            AnswerEvidence.agrees.is_(True),
            AnswerEvidence.basis != EvidenceBasis.RE_ASK_CHAIN,
        )
        .order_by(AnswerEvidence.weight.desc())
        .limit(1)
    )


def trusted_contacts(session: Session) -> TrustedContacts:
    """Contact details the company published: knowledge-base facts and answers operators
    wrote or approved."""
    operators_answers = session.scalars(
        select(VerifiedAnswer.answer_text).where(
            VerifiedAnswer.withdrawn_at.is_(None),
            or_(
                VerifiedAnswer.kind == VerifiedKind.CORRECTED,
                VerifiedAnswer.reviewed_at.is_not(None),
            ),
        )
    ).all()
    return TrustedContacts([*session.scalars(select(KnowledgeEntry.content)), *operators_answers])


def standing_of(
    verified: VerifiedAnswer, support: Support, contacts: TrustedContacts, min_clients: int
) -> Standing:
    return standing(
        verified.kind,
        reviewed=verified.reviewed_at is not None,
        support=support,
        min_clients=min_clients,
        ungrounded=contacts.ungrounded(verified.answer_text),
    )


def text_key(answer: str) -> str:
    """Answers that differ only in case or spacing are the same answer."""
    normalised = re.sub(r"\s+", " ", answer).strip().lower()
    return hashlib.sha256(normalised.encode()).hexdigest()


def withdrawn_texts(session: Session, answers: list[str]) -> set[str]:
    """Those of ``answers`` that were withdrawn and not verified again since."""
    keys = {text_key(a): a for a in answers}
    if not keys:
        return set()
    rows = session.execute(
        select(VerifiedAnswer.text_key, VerifiedAnswer.withdrawn_at).where(
            VerifiedAnswer.text_key.in_(keys)
        )
    ).all()
    active = {key for key, withdrawn in rows if withdrawn is None}
    return {keys[key] for key, withdrawn in rows if withdrawn is not None and key not in active}


def mark_served(session: Session, verified_id: uuid.UUID) -> bool:
    """Record the first time an answer was served; True only for the caller that did, so
    exactly one alert goes out however many ratings raced."""
    marked = session.execute(
        update(VerifiedAnswer)
        .where(VerifiedAnswer.id == verified_id, VerifiedAnswer.served_since.is_(None))
        .values(served_since=func.now())
        .execution_options(synchronize_session=False)
    )
    return marked.rowcount == 1


class VerifiedAnswers:
    """Turns ratings, corrections and what dialogs said into verified answers and evidence."""

    def __init__(
        self,
        embeddings: EmbeddingService,
        thresholds: MatchThresholds,
        min_sessions: int = DEFAULT_MIN_SESSIONS,
        implicit_weight: float = DEFAULT_IMPLICIT_WEIGHT,
        min_asr_confidence: float = 0.0,
    ) -> None:
        self.embeddings = embeddings
        self.thresholds = thresholds
        self.min_sessions = min_sessions
        self.implicit_weight = implicit_weight
        #: A spoken question heard less surely than this teaches nothing: its transcript
        #: may not be what the resident asked (``ASR_MIN_CONFIDENCE``).
        self.min_asr_confidence = min_asr_confidence

    def begin_learning(self, session: Session) -> None:
        """First in every learning transaction, before it locks any row: moves the learning
        revision and so takes its row lock. Learning transactions queue on that one row and
        never deadlock on the logs and verified answers they touch; the change log is
        written at the new revision. Taking it twice in one transaction costs nothing."""
        bump_revision(session)

    def prepare(self, session: Session, log: VoiceLog, rating: int | None = None) -> None:
        """Store the question vectors learning from ``log`` will need, before it is queued:
        embedding under the revision's lock would hold every replica's learning behind
        this process's embedder. A five-star answer may become a new verified answer:
        its text is embedded now too."""
        for judged in (log, *earlier_phrasings(session, log.id)):
            self._ensure_vector(session, judged)
        if rating == TOP_RATING and log.verified_answer_id is None:
            self.prepare_answer(log.ai_response)

    def prepare_answer(self, text: str) -> None:
        """Embed a text that may become a verified answer, before learning takes the lock."""
        self.embeddings.question_vector(text)
        self.embeddings.passage_vector(text)

    def learn_from_log(self, session: Session, log: VoiceLog) -> "Learned":
        """Make the evidence of ``log`` match its current rating, correction and signals,
        and that of the earlier phrasings it was a re-ask of (their chain may have just
        ended well).

        The caller has begun learning (:meth:`begin_learning`), then locked the log's row
        (it has just updated it), and commits. Returns the verified answer the log now
        supports, if any, and whether that answer has just become served (or is held for
        an operator): the operators' queue.
        """
        self._ensure_vector(session, log)
        supported = self._evidence_of(session, log)
        # Read under the lock: a re-ask noted meanwhile belongs to this chain too.
        for phrasing in earlier_phrasings(session, log.id):
            self._ensure_vector(session, phrasing)
            self._evidence_of(session, phrasing)
        self._withdraw_unsupported(session)
        return self._review(session, supported)

    def _evidence_of(self, session: Session, log: VoiceLog) -> VerifiedAnswer | None:
        """Replace what ``log`` says about verified answers; the answer it now supports."""
        session.execute(delete(AnswerEvidence).where(AnswerEvidence.log_id == log.id))
        if misheard(log.asr_confidence, self.min_asr_confidence):
            return None
        if log.model_used == EMERGENCY_MODEL_NAME:
            # The emergency text is answered by the detector, never from the cache: a
            # rating of it must not make it a verified answer a look-alike could get.
            return None
        served_from = (
            session.get(VerifiedAnswer, log.verified_answer_id) if log.verified_answer_id else None
        )
        if log.corrected_response:
            supported = self._verified_for(
                session, log.corrected_response, VerifiedKind.CORRECTED, log, log.corrected_by
            )
            if served_from is not None and served_from.id != supported.id:
                self._add_evidence(session, served_from, log, agrees=False)
            self._withdraw_rated_from(session, log, "the operator corrected this answer")
            basis = EvidenceBasis.CORRECTION
        elif log.rating is not None:
            supported, basis = self._rated(session, log, served_from), EvidenceBasis.RATING
        else:
            supported, basis = self._implicit(session, log, served_from)
        if supported is not None:
            self._add_evidence(session, supported, log, agrees=True, basis=basis)
            supported.confirmed_at = func.now()
        if not log.corrected_response:
            self._chain_evidence(session, log, supported)
        return supported

    def _rated(
        self, session: Session, log: VoiceLog, served_from: VerifiedAnswer | None
    ) -> VerifiedAnswer | None:
        if log.rating == TOP_RATING:
            if served_from is not None:
                return served_from if served_from.withdrawn_at is None else None
            return self._answer_restated_by(session, log) or self._verified_for(
                session, log.ai_response, VerifiedKind.RATED, log, None
            )
        if log.rating <= LOW_RATING and served_from is not None:
            self._add_evidence(session, served_from, log, agrees=False)
            self._withdraw_if_refused(session, served_from, log)
        return None

    def _implicit(
        self, session: Session, log: VoiceLog, served_from: VerifiedAnswer | None
    ) -> tuple[VerifiedAnswer | None, EvidenceBasis]:
        """Nobody rated it: what the resident's next message said, at the implicit weight.
        Thanks approve the answer as a 5 would; a re-ask or a request for a person counts
        against the answer it was served from, as a low rating would, but never withdraws
        it for good (only explicit refusals do)."""
        kinds = set(session.scalars(select(AnswerSignal.kind).where(AnswerSignal.log_id == log.id)))
        unhelped = kinds & {SignalKind.RE_ASK, SignalKind.ESCALATION}
        if unhelped and served_from is not None:
            basis = EvidenceBasis(min(unhelped))
            self._add_evidence(session, served_from, log, agrees=False, basis=basis)
        if SignalKind.THANKS not in kinds or unhelped:
            return None, EvidenceBasis.THANKS
        if served_from is not None:
            return (served_from if served_from.withdrawn_at is None else None), EvidenceBasis.THANKS
        supported = self._answer_restated_by(session, log) or self._verified_for(
            session, log.ai_response, VerifiedKind.RATED, log, None
        )
        return supported, EvidenceBasis.THANKS

    def _chain_evidence(
        self, session: Session, log: VoiceLog, supported: VerifiedAnswer | None
    ) -> None:
        """``log`` was asked again in other words until an answer satisfied the resident:
        that answer approves this phrasing too. It is how the cache learns new phrasings
        without anyone rating (at the implicit weight, from one client: it adds the
        phrasing, and a single client never makes an answer served)."""
        final = satisfying_answer(session, log.id)
        if final is None:
            return
        verified = session.get(VerifiedAnswer, final)
        if verified is None or verified.withdrawn_at is not None:
            return
        if verified.id in (log.verified_answer_id, supported.id if supported else None):
            return
        self._add_evidence(session, verified, log, agrees=True, basis=EvidenceBasis.RE_ASK_CHAIN)

    def _withdraw_if_refused(
        self, session: Session, served_from: VerifiedAnswer, log: VoiceLog
    ) -> None:
        """Residents withdraw a residents' answer for good as they approve one: by
        ``min_sessions`` distinct clients, the deciding one for a question it was approved
        for. Operators' answers only operators withdraw."""
        if served_from.kind != VerifiedKind.RATED or served_from.reviewed_at is not None:
            return
        support = residents_support(session, [served_from.id])[served_from.id]
        refusing = sum(1 for weight in support.refusing.values() if weight >= 1)
        if refusing >= self.min_sessions and self._is_approved_question(session, served_from, log):
            self._withdraw(
                session,
                served_from,
                f"refused by {refusing} distinct clients, one for a question it answered",
            )

    def _review(self, session: Session, supported: VerifiedAnswer | None) -> "Learned":
        """Where ``supported`` now stands, and whether it may be served for the first time.
        An answer already served has nothing new to announce: no need to judge it again."""
        if supported is None or supported.withdrawn_at is not None:
            return Learned(supported)
        if supported.served_since is not None:
            return Learned(supported)
        session.flush()
        support = residents_support(session, [supported.id])[supported.id]
        now = standing_of(supported, support, trusted_contacts(session), self.min_sessions)
        # Recorded by ``mark_served`` after this transaction (review.announce): written
        # here, the row lock would be held through the rest of every rating.
        newly = now.served and supported.served_since is None
        return Learned(supported, newly_served=newly, standing=now)

    def _verified_for(
        self, session: Session, answer: str, kind: str, log: VoiceLog, operator: str | None
    ) -> VerifiedAnswer | None:
        """The active verified answer with this text, created when there is none.

        A rated text that was withdrawn stays withdrawn; an operator's text is trusted."""
        key = text_key(answer)
        # Two ratings of the same text at once must not create two verified answers.
        session.execute(select(func.pg_advisory_xact_lock(func.hashtext(key))))
        existing = session.scalars(
            select(VerifiedAnswer)
            .where(VerifiedAnswer.text_key == key)
            .order_by(VerifiedAnswer.withdrawn_at.is_not(None), VerifiedAnswer.created_at)
        ).first()
        if existing is not None:
            if existing.withdrawn_at is None:
                return existing
            if kind == VerifiedKind.RATED:
                return None
            existing.withdrawn_at = None
            existing.withdrawn_reason = None
            existing.kind = VerifiedKind.CORRECTED
            return existing
        verified = VerifiedAnswer(
            id=uuid.uuid4(),
            answer_text=answer,
            text_key=key,
            kind=kind,
            source_log_id=log.id,
            created_by=operator,
            # Usually embedded already (prepare_answer); stored so that no other replica
            # embeds the text again.
            text_vector=self.embeddings.question_vector(answer),
            passage_vector=self.embeddings.passage_vector(answer),
            vectors_model=self.embeddings.model_name,
        )
        session.add(verified)
        session.flush()
        return verified

    def _answer_restated_by(self, session: Session, log: VoiceLog) -> VerifiedAnswer | None:
        """An active verified answer that ``log``'s five-star answer says again.

        Models word the same facts differently every time; without this, each phrasing
        of a question would grow its own verified answer, and answers that say the same
        thing would compete with each other in the matcher. Two answers say the same when
        the new one contains most of the distinctive words of the old one (words few
        answers use: facts, figures, names), and the questions are alike."""
        self._ensure_vector(session, log)
        vector = self.embeddings.stored_vector(session, log.id)
        distance = VoiceEmbedding.embedding.cosine_distance(vector)
        nearby = session.execute(
            select(AnswerEvidence.verified_answer_id, func.max(1 - distance))
            .join(VoiceEmbedding, VoiceEmbedding.log_id == AnswerEvidence.log_id)
            .join(VerifiedAnswer, VerifiedAnswer.id == AnswerEvidence.verified_answer_id)
            .where(
                VoiceEmbedding.embedding_model == self.embeddings.model_name,
                AnswerEvidence.agrees.is_(True),
                VerifiedAnswer.withdrawn_at.is_(None),
                AnswerEvidence.log_id != log.id,
            )
            .group_by(AnswerEvidence.verified_answer_id)
            .having(func.max(1 - distance) >= self.thresholds.min_similarity)
            .order_by(func.max(1 - distance).desc())
            .limit(RESTATE_CANDIDATES)
        ).all()
        if not nearby:
            return None
        corpus = (
            session.scalars(
                select(VerifiedAnswer.answer_text).where(VerifiedAnswer.withdrawn_at.is_(None))
            ).all()
            + session.scalars(select(KnowledgeEntry.content)).all()
        )
        frequency = StemFrequencies(corpus)
        rare = max(1, DISTINCTIVE_SHARE * frequency.texts)

        def distinctive(text_: str) -> set[str]:
            return {stem for stem in content_stems(text_) if frequency[stem] <= rare}

        new_words = distinctive(log.ai_response)
        for verified_id, _ in nearby:
            verified = session.get(VerifiedAnswer, verified_id)
            if _restates(distinctive(verified.answer_text), new_words):
                return verified
        return None

    def _add_evidence(
        self,
        session: Session,
        verified: VerifiedAnswer,
        log: VoiceLog,
        *,
        agrees: bool,
        basis: EvidenceBasis | None = None,
    ) -> None:
        """Explicit judgements weigh 1; what the dialog said weighs the implicit weight."""
        if basis is None:
            basis = EvidenceBasis.CORRECTION if log.corrected_response else EvidenceBasis.RATING
        explicit = basis in (EvidenceBasis.RATING, EvidenceBasis.CORRECTION)
        weight = 1.0 if explicit else self.implicit_weight
        values = {"agrees": agrees, "basis": basis, "weight": weight}
        self._ensure_vector(session, log)
        session.execute(
            insert(AnswerEvidence)
            .values(verified_answer_id=verified.id, log_id=log.id, **values)
            .on_conflict_do_update(constraint="uq_answer_evidence_log_answer", set_=values)
        )

    def _ensure_vector(self, session: Session, log: VoiceLog) -> None:
        """Evidence is only useful with the question's vector; it is usually stored already."""
        if self.embeddings.stored_vector(session, log.id) is None:
            vector = self.embeddings.question_vector(log.user_message)
            self.embeddings.store_log_vectors(session, [(log.id, vector)])

    def _is_approved_question(
        self, session: Session, verified: VerifiedAnswer, log: VoiceLog
    ) -> bool:
        """Was this very question (to the same-question threshold) approved for the answer?"""
        vector = self.embeddings.stored_vector(session, log.id)
        approved = evidence_vectors(session, self.embeddings.model_name, [verified.id], agrees=True)
        rows = approved.get(verified.id)
        if not rows:
            return False
        similarity = np.max(np.asarray([row.vector for row in rows]) @ vector)
        return float(similarity) >= self.thresholds.same_question_similarity

    def _withdraw_rated_from(self, session: Session, log: VoiceLog, reason: str) -> None:
        for verified in session.scalars(
            select(VerifiedAnswer).where(
                VerifiedAnswer.source_log_id == log.id,
                VerifiedAnswer.kind == VerifiedKind.RATED,
                VerifiedAnswer.withdrawn_at.is_(None),
            )
        ):
            self._withdraw(session, verified, reason)

    def _withdraw_unsupported(self, session: Session) -> None:
        """A rated answer whose last approval was taken back is no longer verified."""
        agreeing = (
            select(AnswerEvidence.id)
            .where(
                AnswerEvidence.verified_answer_id == VerifiedAnswer.id,
                AnswerEvidence.agrees.is_(True),
            )
            .exists()
        )
        session.execute(
            update(VerifiedAnswer)
            .where(VerifiedAnswer.withdrawn_at.is_(None), ~agreeing)
            .values(withdrawn_at=func.now(), withdrawn_reason="no approval left")
            .execution_options(synchronize_session=False)
        )

    def _withdraw(self, session: Session, verified: VerifiedAnswer, reason: str) -> None:
        logger.info("verified answer %s withdrawn: %s", verified.id, reason)
        verified.withdrawn_at = func.now()
        verified.withdrawn_reason = reason

    def approve(self, session: Session, verified_id: uuid.UUID, operator: str) -> bool:
        """An operator vouches for a residents' answer: served from now on, like theirs."""
        self.begin_learning(session)
        verified = session.get(VerifiedAnswer, verified_id, with_for_update=True)
        if verified is None:
            return False
        if verified.reviewed_at is None:
            verified.reviewed_at = func.now()
            verified.reviewed_by = operator
            if verified.served_since is None and verified.withdrawn_at is None:
                verified.served_since = func.now()
        return True

    def withdraw(self, session: Session, verified_id: uuid.UUID, operator: str) -> bool:
        self.begin_learning(session)
        verified = session.get(VerifiedAnswer, verified_id, with_for_update=True)
        if verified is None:
            return False
        if verified.withdrawn_at is None:
            self._withdraw(session, verified, f"withdrawn by operator {operator}")
        return True


@dataclass(frozen=True)
class Learned:
    """What one judgement did to the cache."""

    supported: VerifiedAnswer | None
    #: The answer has just met the serving rule for the first time.
    newly_served: bool = False
    standing: Standing | None = None

    @property
    def held(self) -> bool:
        """Residents approved it enough, but it waits for an operator (grounding)."""
        return self.standing is not None and self.standing.waits_for_operator


class EvidenceRow(NamedTuple):
    """One judged dialog as the matcher sees it."""

    vector: np.ndarray
    question: str
    #: The judgement is an operator's correction, not a resident's rating.
    by_operator: bool
    client: str = ""
    #: A rating or a correction, not what the dialog said.
    explicit: bool = True
    #: An earlier phrasing taught by a re-ask chain, not a question this answer answered.
    chained: bool = False
    log_id: int | None = None


def evidence_vectors(
    session: Session, model: str, verified_ids: list[uuid.UUID], *, agrees: bool
) -> dict[uuid.UUID, list[EvidenceRow]]:
    """Question vectors and texts of the dialogs that approved (or refused) each answer,
    and whether the judgement was an operator's (clients are counted by
    ``residents_support``)."""
    query = (
        select(
            AnswerEvidence.verified_answer_id,
            VoiceEmbedding.embedding,
            VoiceLog.user_message,
            VoiceLog.corrected_response.is_not(None),
            client_of_log(),
            AnswerEvidence.basis.in_([EvidenceBasis.RATING, EvidenceBasis.CORRECTION]),
            AnswerEvidence.basis == EvidenceBasis.RE_ASK_CHAIN,
            AnswerEvidence.log_id,
        )
        .join(VoiceEmbedding, VoiceEmbedding.log_id == AnswerEvidence.log_id)
        .join(VoiceLog, VoiceLog.id == AnswerEvidence.log_id)
        .where(
            VoiceEmbedding.embedding_model == model,
            AnswerEvidence.agrees.is_(agrees),
            AnswerEvidence.verified_answer_id.in_(verified_ids),
        )
        .order_by(AnswerEvidence.id)
    )
    found: dict[uuid.UUID, list[EvidenceRow]] = defaultdict(list)
    for verified_id, vector, *judgement in session.execute(query):
        found[verified_id].append(EvidenceRow(np.asarray(vector, dtype=np.float32), *judgement))
    return found


def _corroborated(row: EvidenceRow, rows: list[EvidenceRow]) -> bool:
    """A rating or a correction stands alone; what a dialog said only once another client
    said the same about the same question (this close)."""
    return row.explicit or any(
        other.client != row.client and float(other.vector @ row.vector) >= CORROBORATING_SIMILARITY
        for other in rows
    )


def blocking_refusals(rows: list[EvidenceRow], *, trusted: bool) -> list[np.ndarray]:
    """The refused questions that keep an answer from close questions. Operators outrank
    residents: only an operator's refusal blocks their answers. A resident's rating blocks
    at once (it only ever sends close questions back to the model); a refusal read from
    the dialog alone (a re-ask, a request for a person) once a second client refused close
    to it, so one saboteur re-asking good answers cannot switch their phrasings off."""
    kept = [row for row in rows if row.by_operator or not trusted]
    return [row.vector for row in kept if _corroborated(row, kept)]


def learned_approvals(rows: list[EvidenceRow], source_log_id: int | None) -> list[EvidenceRow]:
    """The approved questions the matcher learns an answer's class from: every rating
    and correction, the question the answer was first given to, and what dialogs said
    (thanks, a re-ask chain) once a second client approved close to it. A saboteur who
    thanks whatever it is served — a wrong cached answer too — would otherwise teach that
    answer every question it was wrongly served for, and it would be served for more."""
    return [
        row
        for row in rows
        if (source_log_id is not None and row.log_id == source_log_id) or _corroborated(row, rows)
    ]


def _restates(old: set[str], new: set[str]) -> bool:
    """The new answer carries most of the old one's distinctive words. (Only this way
    round: a short answer whose few facts a long one happens to mention says less.)"""
    return len(old) >= MIN_DISTINCTIVE_WORDS and len(old & new) >= RESTATED_SHARE * len(old)
