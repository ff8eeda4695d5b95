"""Each process's matcher, kept in step with the shared revision by updating only what changed.

Every change to verified answers moves the revision in ``app_state`` on, and triggers note
which answers each revision touched (``verified_answer_changes``, migration 0018). A process
that sees a new revision reads just those answers' evidence and swaps their classes in its
:class:`~app.verified_answers.matcher.MatcherBuilder`: one rating costs a few small queries
and a 384×384 solve, not a reload of every evidence vector — in every replica.

A full reload still happens when an update could not say what changed: on the first
question, when the knowledge base changed (answers verified before it are stale, and facts
are classes), when the company's published contacts changed (they decide which residents'
answers are grounded), when the revision went backwards (a restore), when many answers
changed at once, and every ``FULL_RELOAD_EVERY`` as a safety net. Answers also age out
(``CACHE_MAX_AGE_DAYS``) without any change: the index drops them when their time comes.
"""

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.db.app_state import read_state
from app.db.models import (
    KnowledgeEntry,
    VerifiedAnswer,
    VerifiedAnswerChange,
    VerifiedKind,
    VoiceLog,
)
from app.embeddings.service import EmbeddingService
from app.verified_answers.grounding import TrustedContacts
from app.verified_answers.matcher import (
    KNOWLEDGE_KEY_PREFIX,
    Candidate,
    FittedMatcher,
    MatcherBuilder,
    MatchThresholds,
    candidate,
)
from app.verified_answers.service import (
    DEFAULT_MIN_SESSIONS,
    blocking_refusals,
    evidence_vectors,
    learned_approvals,
    residents_support,
    standing_of,
    trusted_contacts,
)

logger = logging.getLogger(__name__)

#: A reload from scratch at least this often, whatever the change log says.
FULL_RELOAD_EVERY = timedelta(hours=6)
#: How long the change log is kept: longer than any index goes without a full reload.
CHANGE_LOG_KEPT = timedelta(days=1)
#: More changed answers than this share of the live ones: reloading is cheaper.
FULL_RELOAD_SHARE = 0.25


@dataclass
class IndexState:
    """What the index was built from: compared with the database's on every question."""

    revision: int
    knowledge_changed: datetime | None
    contacts: frozenset[str]
    loaded_at: float
    #: When each class stops being fresh (``CACHE_MAX_AGE_DAYS``).
    expires: dict[str, datetime] = field(default_factory=dict)
    #: The soonest of ``expires``, kept so a question need not look through them all.
    next_expiry: datetime | None = None

    def expiring(self, updated: dict[str, datetime], gone: set[str]) -> None:
        for key in gone:
            self.expires.pop(key, None)
        self.expires.update(updated)
        self.next_expiry = min(self.expires.values(), default=None)


@dataclass(frozen=True)
class RefreshStats:
    """How the last refresh went: a benchmark and the tests read it."""

    full: bool
    changed: int
    seconds: float


class VerifiedAnswerIndex:
    """This process's matcher, updated when the shared revision moves on.

    Answer texts and knowledge facts are embedded once per process and remembered.
    Requests decide with immutable snapshots, so an update never disturbs one in flight.
    """

    def __init__(
        self,
        embeddings: EmbeddingService,
        thresholds: MatchThresholds,
        max_age_days: int,
        min_sessions: int = DEFAULT_MIN_SESSIONS,
    ) -> None:
        self.embeddings = embeddings
        self.thresholds = thresholds
        self.max_age = timedelta(days=max_age_days)
        self.min_sessions = min_sessions
        self._lock = threading.Lock()
        self._state: IndexState | None = None
        self._builder = MatcherBuilder()
        self._matcher = self._builder.matcher(thresholds)
        self._text_vectors: dict[str, np.ndarray] = {}
        self._passage_vectors: dict[str, np.ndarray] = {}
        self.last_refresh: RefreshStats | None = None

    def current(self, session: Session) -> FittedMatcher:
        revision, knowledge_changed = read_state(session)
        if self._up_to_date(revision):
            return self._matcher
        with self._lock:
            if not self._up_to_date(revision):
                started = time.perf_counter()
                full, changed = self._refresh(session, revision, knowledge_changed)
                if full or changed:  # most ratings change no answer's evidence
                    self._matcher = self._builder.matcher(self.thresholds)
                elapsed = time.perf_counter() - started
                self.last_refresh = RefreshStats(full, changed, elapsed)
                logger.debug("matcher %s: %d answers in %.3f s", full, changed, elapsed)
        return self._matcher

    def _up_to_date(self, revision: int) -> bool:
        state = self._state
        if state is None or state.revision != revision:
            return False
        return state.next_expiry is None or state.next_expiry > datetime.now(UTC)

    def _refresh(
        self, session: Session, revision: int, knowledge_changed: datetime | None
    ) -> tuple[bool, int]:
        """Update in place when the change log can say what changed; else reload."""
        state = self._state
        if (
            state is None
            or revision < state.revision
            or knowledge_changed != state.knowledge_changed
            or time.monotonic() - state.loaded_at > FULL_RELOAD_EVERY.total_seconds()
        ):
            return True, self._reload(session, revision, knowledge_changed)
        changed = session.scalars(
            select(VerifiedAnswerChange.verified_answer_id)
            .where(
                VerifiedAnswerChange.revision > state.revision,
                VerifiedAnswerChange.revision <= revision,
            )
            .distinct()
        ).all()
        now = datetime.now(UTC)
        due = state.next_expiry is not None and state.next_expiry <= now
        expired = [key for key, at in state.expires.items() if at <= now] if due else []
        touched = {*map(str, changed), *expired}
        if not touched:
            state.revision = revision
            return False, 0
        if len(touched) > max(32, FULL_RELOAD_SHARE * self._builder.live):
            return True, self._reload(session, revision, knowledge_changed)
        answers = self._fresh_answers(session, knowledge_changed, [uuid.UUID(k) for k in touched])
        if self._contacts_may_change(answers, touched):
            contacts = trusted_contacts(session)
            if contacts.known != state.contacts:
                return True, self._reload(session, revision, knowledge_changed)
        built = self._candidates(session, answers, TrustedContacts.of_known(state.contacts))
        self._builder.change(removed=sorted(touched), added=built)
        self._builder = self._builder.compacted()
        state.expiring(self._expiries(answers, {c.key for c in built}), touched)
        state.revision = revision
        return False, len(touched)

    def _contacts_may_change(
        self, answers: list[tuple[VerifiedAnswer, str | None]], touched: set[str]
    ) -> bool:
        """An operator's answer came, went or changed: the published contacts may differ."""
        now_trusted = {str(a.id) for a, _ in answers if _by_operator(a)}
        was_trusted = {key for key in touched if self._builder.is_corrected(key)}
        return bool(now_trusted or was_trusted)

    def _reload(self, session: Session, revision: int, knowledge_changed: datetime | None) -> int:
        answers = self._fresh_answers(session, knowledge_changed, None)
        contacts = trusted_contacts(session)
        facts = session.execute(
            select(KnowledgeEntry.id, KnowledgeEntry.content).order_by(KnowledgeEntry.id)
        ).all()
        built = self._candidates(session, answers, contacts)
        self._builder = MatcherBuilder(built + self._fact_candidates(facts))
        self._state = IndexState(revision, knowledge_changed, contacts.known, time.monotonic())
        self._state.expiring(self._expiries(answers, {c.key for c in built}), set())
        return len(built)

    def _fresh_answers(
        self,
        session: Session,
        knowledge_changed: datetime | None,
        only: list[uuid.UUID] | None,
    ) -> list[tuple[VerifiedAnswer, str | None]]:
        """Active answers confirmed within the age limit and after the last knowledge
        change, with the question each came from; ``only`` these ids when given."""
        fresh_since = self._fresh_since(knowledge_changed)
        query = (
            select(VerifiedAnswer, VoiceLog.user_message)
            .outerjoin(VoiceLog, VoiceLog.id == VerifiedAnswer.source_log_id)
            .where(
                VerifiedAnswer.withdrawn_at.is_(None),
                VerifiedAnswer.confirmed_at >= fresh_since,
            )
            .order_by(VerifiedAnswer.created_at)
        )
        if only is not None:
            query = query.where(VerifiedAnswer.id.in_(only))
        return [(a, question) for a, question in session.execute(query).all()]

    def _fresh_since(self, knowledge_changed: datetime | None) -> datetime:
        fresh_since = datetime.now(UTC) - self.max_age
        return fresh_since if knowledge_changed is None else max(fresh_since, knowledge_changed)

    def _expiries(
        self, answers: list[tuple[VerifiedAnswer, str | None]], kept: set[str]
    ) -> dict[str, datetime]:
        return {str(a.id): a.confirmed_at + self.max_age for a, _ in answers if str(a.id) in kept}

    def _candidates(
        self,
        session: Session,
        answers: list[tuple[VerifiedAnswer, str | None]],
        contacts: TrustedContacts,
    ) -> list[Candidate]:
        """One class per answer that has an approval the matcher may learn from."""
        model = self.embeddings.model_name
        ids = [a.id for a, _ in answers]
        approved = evidence_vectors(session, model, ids, agrees=True)
        refused = evidence_vectors(session, model, ids, agrees=False)
        support = residents_support(session, ids)
        self._remember_stored_vectors([a for a, _ in answers])
        vectors = self._vectors_of([a.answer_text for a, _ in answers])
        passages = self._passages_of([a.answer_text for a, _ in answers])
        candidates = []
        for a, question in answers:
            learned = learned_approvals(approved.get(a.id, []), a.source_log_id)
            if not learned:
                continue
            trusted = _by_operator(a)
            now = standing_of(a, support[a.id], contacts, self.min_sessions)
            candidates.append(
                candidate(
                    str(a.id),
                    a.answer_text,
                    # Not served yet (too few clients, or held for an operator): a class of
                    # its own all the same, so its questions are not taken for another's.
                    verified=now.served,
                    teaches=now.teaches,
                    answer_vector=vectors[a.answer_text],
                    answer_passage=passages[a.answer_text],
                    approved=[row.vector for row in learned],
                    # A chain-taught phrasing helps the classifier, but serves nothing on
                    # its own as "the same question" (the chain could be wrong).
                    anchors=[row.vector for row in learned if not row.chained],
                    refused=blocking_refusals(refused.get(a.id, []), trusted=trusted),
                    texts=[row.question for row in learned],
                    source_log_id=a.source_log_id,
                    question=question,
                    corrected=trusted,
                )
            )
        return candidates

    def _fact_candidates(self, facts) -> list[Candidate]:
        """Knowledge-base facts as classes that are never served: a question about a topic
        nobody has verified yet has somewhere to go other than the nearest answer."""
        vectors = self._vectors_of([f.content for f in facts])
        return [
            candidate(
                f"{KNOWLEDGE_KEY_PREFIX}{f.id}",
                f.content,
                verified=False,
                answer_vector=vectors[f.content],
            )
            for f in facts
        ]

    def _remember_stored_vectors(self, answers: list[VerifiedAnswer]) -> None:
        """The vectors the learning process stored with each answer (same model): this
        replica need not embed the text again."""
        model = self.embeddings.model_name
        for answer in answers:
            if answer.vectors_model != model or answer.text_vector is None:
                continue
            text = answer.answer_text
            self._text_vectors.setdefault(text, np.asarray(answer.text_vector, np.float32))
            self._passage_vectors.setdefault(text, np.asarray(answer.passage_vector, np.float32))

    def _passages_of(self, texts: list[str]) -> dict[str, np.ndarray]:
        """Answers as e5 passages: how well each answers a question."""
        return _remembered(texts, self._passage_vectors, self.embeddings.embedder.embed_passages)

    def _vectors_of(self, texts: list[str]) -> dict[str, np.ndarray]:
        return _remembered(texts, self._text_vectors, self.embeddings.embedder.embed_queries)

    @property
    def memory_bytes(self) -> int:
        """The matcher's arrays in this process (vectors and per-class columns)."""
        return self._builder.nbytes


def forget_old_changes(session: Session) -> int:
    """Drop change-log rows no index can still need (schedule tick)."""
    deleted = session.execute(
        delete(VerifiedAnswerChange).where(
            VerifiedAnswerChange.changed_at < func.now() - CHANGE_LOG_KEPT
        )
    )
    return deleted.rowcount or 0


def _by_operator(answer: VerifiedAnswer) -> bool:
    return answer.kind == VerifiedKind.CORRECTED or answer.reviewed_at is not None


def _remembered(
    texts: list[str], memory: dict[str, np.ndarray], embed: Callable
) -> dict[str, np.ndarray]:
    """Vectors of ``texts``, embedding only those ``memory`` does not hold yet."""
    missing = [t for t in dict.fromkeys(texts) if t not in memory]
    if missing:
        for text_, vector in zip(missing, embed(missing), strict=True):
            memory[text_] = np.asarray(vector, dtype=np.float32)
    return {t: memory[t] for t in texts}
