"""The answer pipeline: gather context, pick the cheapest good-enough source, log, reply.

Steps, each a method below: read the session's recent turns and embed the question; serve
a verified answer when the matcher is sure the question means the same (no model call);
otherwise retrieve approved answers and company facts like it and ask the providers in
order (local model, paid LLM; the paid one first when only low-rated answers exist for
such questions), falling back to the offline answerer, which cannot fail; commit the log
row; only then return. The database connection is released while a model is thinking, so
slow models never starve the pool.
"""

import copy
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from app.answering.context_budget import CommonWords, fit_to_budget
from app.answering.grounding_guard import GroundingGuard
from app.core.config import Settings
from app.core.errors import InvalidInputError
from app.db.database import Database
from app.db.models import AnswerSource, VoiceLog
from app.embeddings.service import EmbeddingService
from app.emergencies.service import EmergencyDesk, EmergencyReply
from app.knowledge.service import KnowledgeBase
from app.language.courtesy import says_thanks
from app.language.follow_up import is_follow_up
from app.llm.base import Answer, AnswerProvider, ProviderError
from app.llm.offline import COURTESY_ANSWER, OfflineAnswerer
from app.llm.prompt import (
    ApprovedExample,
    KnowledgeSnippet,
    PromptContext,
    Turn,
    is_hand_on,
)
from app.records.dialog_log import EMERGENCY_MODEL_NAME
from app.verified_answers.index import VerifiedAnswerIndex
from app.verified_answers.judge import PaidJudge, Verdict
from app.verified_answers.matcher import (
    SAME_QUESTION,
    Candidate,
    Decision,
    FittedMatcher,
    Ranked,
)
from app.verified_answers.service import LOW_RATING, text_key
from app.verified_answers.verifier import PROPOSING, Action, Assessment, CacheVerifier
from app.verified_answers.verifier_store import record_verdict

if TYPE_CHECKING:
    from app.experiments.treatment import Treatment

logger = logging.getLogger(__name__)

CACHE_MODEL_NAME = "cache"
#: Rated neighbours looked at to decide whether only bad answers exist for a question.
RATED_NEIGHBOURS = 5


def first_answer(
    providers: list[AnswerProvider],
    offline: OfflineAnswerer,
    context: PromptContext,
    guard: GroundingGuard | None = None,
) -> Answer:
    """Ask ``providers`` in order; a refusal or a crash moves on, the offline answerer
    (which cannot fail) ends the chain. What failed attempts cost is added to the answer.

    A local model trained on grounded samples hands on what its context does not answer
    (``HAND_ON_ANSWER``): the next provider answers. Every generated answer passes the
    grounding guard: a local one stating a figure or contact detail that neither its prompt
    nor the knowledge base gives is refused like a failure; a paid one is kept, with the
    finding logged."""
    spent = 0.0
    for provider in providers:
        try:
            answer = provider.answer(context)
            if answer.source == AnswerSource.LOCAL and is_hand_on(answer.text):
                raise ProviderError("the local model handed the question on")
            ungrounded = guard.ungrounded(answer.text, context) if guard else frozenset()
            if ungrounded and answer.source == AnswerSource.LOCAL:
                raise ProviderError(
                    f"ungrounded local answer: {', '.join(sorted(ungrounded))}",
                    cost_usd=answer.cost_usd,
                )
            return replace(
                answer, ungrounded=tuple(sorted(ungrounded)), cost_usd=answer.cost_usd + spent
            )
        except ProviderError as error:
            spent += error.cost_usd
            logger.warning("provider %s failed, trying the next: %s", provider.name, error)
        except Exception:
            logger.exception("provider %s crashed, trying the next", provider.name)
    answer = offline.answer(context)
    return replace(answer, cost_usd=answer.cost_usd + spent) if spent else answer


@dataclass(frozen=True)
class Caller:
    """Who asks, as far as the service can tell (``app/access/identity.py``): the client's
    key, and whether the request carried the conversation's server-issued token."""

    client_key: str | None = None
    holds_conversation_token: bool = False


@dataclass(frozen=True)
class ProcessedAnswer:
    log: VoiceLog
    #: The question's vector when it could be computed; stored after the response is sent.
    question_vector: np.ndarray | None


@dataclass(frozen=True)
class MatcherTexts:
    """Derived once per fitted matcher: the words all its answers share (cut from prompt
    examples) and the guard over its knowledge-base facts."""

    common_words: CommonWords
    guard: GroundingGuard


@dataclass(frozen=True)
class Proposal:
    """A verified answer in the verifier's uncertain band: the paid judge decides."""

    candidate: Candidate
    assessment: Assessment


@dataclass(frozen=True)
class Plan:
    """What to do with one question, decided while holding a database session."""

    cached: Answer | None
    context: PromptContext
    strongest_first: bool = False
    #: This turn belongs to the conversation proper (token held, or it opens it).
    bound: bool = False
    #: Checks generated answers against the prompt and the knowledge base.
    guard: GroundingGuard | None = None
    #: Ask the judge first; generate from ``context`` on anything but «да».
    proposal: Proposal | None = None


class AnswerPipeline:
    def __init__(
        self,
        settings: Settings,
        database: Database,
        embeddings: EmbeddingService,
        knowledge: KnowledgeBase,
        providers: Callable[[], list[AnswerProvider]],
        offline: OfflineAnswerer,
        verified: VerifiedAnswerIndex,
        emergencies: EmergencyDesk | None = None,
        verifier: CacheVerifier | None = None,
        judge: PaidJudge | None = None,
    ) -> None:
        self.settings = settings
        self.database = database
        self.embeddings = embeddings
        self.knowledge = knowledge
        #: The model providers of this moment, cheapest first, the strongest last. A
        #: function, because the local model can be switched while the service runs.
        self.providers = providers
        self.offline = offline
        self.verified = verified
        #: Emergencies are answered before anything else (None: not checked).
        self.emergencies = emergencies
        #: Decides the matcher's proposals once a version is trained (None: static guards).
        self.verifier = verifier
        #: The paid yes/no judge for the verifier's uncertain band (None: no band).
        self.judge = judge
        #: What the current matcher's texts give the prompt side, recomputed when it changes;
        #: one dict, shared with the variants experiments answer with (``treated``).
        self._from_matcher: dict[str, tuple[FittedMatcher | None, MatcherTexts]] = {
            "current": (None, MatcherTexts(CommonWords(()), GroundingGuard(())))
        }

    def treated(self, treatment: "Treatment | None") -> "AnswerPipeline":
        """This pipeline as an experiment's arms answer: their providers and settings (a
        shallow copy per question; the matcher, embedder and database are shared)."""
        if treatment is None:
            return self
        variant = copy.copy(self)
        if treatment.overrides:
            variant.settings = self.settings.model_copy(update=treatment.overrides)
        if treatment.providers is not None:
            variant.providers = treatment.providers
        return variant

    def process(
        self,
        message: str,
        session_id: str | None,
        caller: Caller | None = None,
        *,
        asr_confidence: float | None = None,
        treatment: "Treatment | None" = None,
    ) -> ProcessedAnswer:
        """``asr_confidence``: ``message`` is the transcript of a spoken question;
        ``treatment``: the experiment arms the conversation is in."""
        if treatment is not None:
            return self.treated(treatment).process(
                message, session_id, caller, asr_confidence=asr_confidence
            )
        started = time.perf_counter()
        caller = caller or Caller()
        question = self.validate_message(message)
        session_id = session_id or str(uuid.uuid4())
        vector = self._embed_or_none(question)
        emergency = self.emergencies.reply(question, vector) if self.emergencies else None
        if emergency is not None:
            answer, bound = self._emergency_answer(emergency, session_id, caller)
        else:
            with self.database.session() as session:
                plan = self.plan(session, question, session_id, vector, caller)
            answer, verdict = self._carry_out(plan, question)
            bound = plan.bound
        log = self.log_answer(
            question,
            session_id,
            answer,
            time.perf_counter() - started,
            client_key=caller.client_key,
            bound=bound,
            asr_confidence=asr_confidence,
        )
        if emergency is not None:
            logger.warning("emergency (%s) answered: log %s", emergency.detection.kind, log.id)
            self.emergencies.alert(emergency, question, log.id)
        elif verdict is not None:
            self._record_verdict(plan.proposal, verdict, question, log.id)
        return ProcessedAnswer(log=log, question_vector=vector)

    def _carry_out(self, plan: Plan, question: str) -> tuple[Answer, Verdict | None]:
        """The plan's answer: the cached one, the proposal the judge said «да» to (its
        tokens and cost charged to the dialog), or a generated one (a «нет» or a failed
        verdict's cost added)."""
        if plan.cached is not None:
            return plan.cached, None
        verdict = None
        if plan.proposal is not None and self.judge is not None:
            verdict = self.judge.ask(question, plan.proposal.candidate.text)
            if verdict.agrees:
                return _charged(self.cached_answer(plan.proposal.candidate), verdict), verdict
        answer = self.answer(plan.context, strongest_first=plan.strongest_first, guard=plan.guard)
        return (_charged(answer, verdict) if verdict else answer), verdict

    def _record_verdict(
        self, proposal: Proposal | None, verdict: Verdict, question: str, log_id: int
    ) -> None:
        """A verdict is a label for the next verifier version (none for a failed call)."""
        if proposal is None or verdict.agrees is None:
            return
        with self.database.transaction() as session:
            record_verdict(
                session,
                log_id=log_id,
                verified_answer_id=proposal.candidate.key,
                question=question,
                agrees=verdict.agrees,
                probability=proposal.assessment.probability or 0.0,
                version_id=proposal.assessment.version_id,
            )

    def _emergency_answer(
        self, emergency: EmergencyReply, session_id: str, caller: Caller
    ) -> tuple[Answer, bool]:
        """The knowledge base's emergency entry (its source says so, its model name says
        which): no cache, no model. And whether the turn belongs to the conversation."""
        with self.database.session() as session:
            bound = self._bound(session, session_id, caller)
        return Answer(emergency.text, EMERGENCY_MODEL_NAME, AnswerSource.KNOWLEDGE_BASE), bound

    def validate_message(self, message: str) -> str:
        question = message.strip()
        if not question:
            raise InvalidInputError("Сообщение не может быть пустым")
        if len(question) > self.settings.max_message_length:
            raise InvalidInputError(
                f"Сообщение слишком длинное: {len(question)} символов, "
                f"допускается не более {self.settings.max_message_length}"
            )
        return question

    def _embed_or_none(self, text: str) -> np.ndarray | None:
        """An embedder failure must not cost the resident an answer: go on without retrieval."""
        try:
            return self.embeddings.question_vector(text)
        except Exception:
            logger.exception("question embedding failed; answering without retrieval")
            return None

    def plan(
        self,
        session: Session,
        question: str,
        session_id: str,
        vector: np.ndarray | None,
        caller: Caller | None = None,
    ) -> Plan:
        caller = caller or Caller()
        bound = self._bound(session, session_id, caller)
        history = self.recent_turns(session, session_id, caller)
        if history and says_thanks(question):
            # "Спасибо, понятно" closes the conversation: nothing to look up or pay for.
            return Plan(COURTESY_ANSWER, PromptContext(question), bound=bound)
        follow_up = is_follow_up(question, has_history=bool(history))
        matcher = None
        proposal = None
        if vector is not None:
            # The same matcher chooses prompt examples when the cache is off.
            matcher = self.verified.current(session)
            if not follow_up and self.settings.cache_enabled:
                served, proposal = self._from_cache(session, question, vector, matcher)
                if served is not None:
                    return Plan(served, PromptContext(question), bound=bound)
        # A follow-up is looked up together with the question it follows.
        retrieval = vector
        if follow_up and vector is not None:
            retrieval = self._embed_or_none(f"{history[-1].question}\n{question}")
        # Every prompt token is paid for: a question that stands on its own gets only the
        # turn just before it, a follow-up the whole recent session.
        shown = history if follow_up else history[-1:]
        context = self.gather_context(session, question, shown, retrieval, matcher)
        strongest_first = retrieval is not None and self.only_low_rated_answers_exist(
            session, retrieval
        )
        guard = self._guard_of(session, matcher)
        return Plan(None, context, strongest_first, bound, guard, proposal)

    def _from_cache(
        self, session: Session, question: str, vector: np.ndarray, matcher: FittedMatcher
    ) -> tuple[Answer | None, Proposal | None]:
        """The verified answer to serve, or the proposal to put to the judge, if any.

        Without a trained verifier the matcher decides alone, with the static guards
        (``CACHE_MIN_*``). With one, the matcher proposes with looser guards and the
        verifier decides; an exact approved phrasing needs no verifier."""
        verifier = None
        if self.verifier is not None and self.settings.cache_verifier_enabled:
            verifier = self.verifier.active(session)
        decision = self._propose(matcher, vector, question, verifier is not None)
        if not decision.serve:
            logger.debug("no verified answer proposed: %s", decision.reason)
            return None, None
        if verifier is not None and decision.reason != SAME_QUESTION:
            assessment = self.verifier.assess(
                verifier, question, vector, matcher, decision.candidate
            )
            logger.info(
                "verifier on %s: %s (p=%s)",
                decision.candidate.key,
                assessment.action,
                assessment.probability,
            )
            if assessment.action == Action.ASK_JUDGE and self.judge is not None:
                return None, Proposal(decision.candidate, assessment)
            if assessment.action != Action.SERVE:
                return None, None
        logger.info(
            "verified answer %s served (%s, margin %s)",
            decision.candidate.key,
            decision.reason,
            decision.margin,
        )
        return self.cached_answer(decision.candidate), None

    def _propose(
        self, matcher: FittedMatcher, vector: np.ndarray, question: str, verifying: bool
    ) -> Decision:
        guards = PROPOSING if verifying else {
            "min_margin": self.settings.cache_min_margin,
            "min_similarity": self.settings.cache_min_similarity,
            "min_answer_relevance": self.settings.cache_min_answer_relevance,
        }  # fmt: skip
        return matcher.deciding_with(**guards).decide(vector, question)

    @staticmethod
    def cached_answer(candidate: Candidate) -> Answer:
        return Answer(
            candidate.text,
            CACHE_MODEL_NAME,
            AnswerSource.CACHE,
            source_log_id=candidate.source_log_id,
            verified_answer_id=candidate.key,
        )

    def gather_context(
        self,
        session: Session,
        question: str,
        history: list[Turn],
        vector: np.ndarray | None,
        matcher: FittedMatcher | None = None,
    ) -> PromptContext:
        if vector is None:
            return PromptContext(question, history)
        examples = self.approved_examples(session, vector, matcher)
        context = PromptContext(
            question, history, examples, self.knowledge_snippets(session, vector)
        )
        return fit_to_budget(context, self.settings.context_token_budget)

    def context_and_guard(
        self, session: Session, question: str, vector: np.ndarray
    ) -> tuple[PromptContext, GroundingGuard]:
        """What a generated answer to a standalone question gets — the matcher's examples,
        the facts, under the token budget — and the guard it passes; the cache left out.
        The golden-set grading asks models exactly this way."""
        matcher = self.verified.current(session)
        context = self.gather_context(session, question, [], vector, matcher)
        return context, self._guard_of(session, matcher)

    def knowledge_snippets(self, session: Session, vector: np.ndarray) -> list[KnowledgeSnippet]:
        return [
            KnowledgeSnippet(f.entry.title, f.entry.content, f.similarity)
            for f in self.knowledge.search(session, vector, self.settings.context_knowledge_entries)
            if f.similarity >= self.settings.knowledge_min_similarity
        ]

    def approved_examples(
        self, session: Session, vector: np.ndarray, matcher: FittedMatcher | None
    ) -> list[ApprovedExample]:
        """The matcher's best answers that may teach, one per distinct answer, operators'
        first, each without the sentences every answer shares; under a token budget, only
        the best one when the matcher is nearly sure of it.

        Examples obey the trust rules (``app/verified_answers/trust.py``): served answers,
        and answers distinct clients approved (more than refused) that still gather the
        weight to be served — never one client's word, nothing ungrounded, stale or
        withdrawn."""
        limit = self.settings.context_examples
        if limit == 0 or matcher is None:
            return []
        ranked = [r for r in matcher.ranked(vector, limit * 3) if r.score > 0]
        lean = self.settings.context_token_budget > 0
        if lean and _nearly_sure(ranked, matcher.thresholds.min_margin):
            limit = 1
        common = self._texts_of(matcher).common_words
        found = [
            ApprovedExample(
                log_id=str(r.candidate.source_log_id or ""),
                question=r.candidate.question or "",
                answer=common.essential_text(r.candidate.text),
                similarity=r.score,
                corrected=r.candidate.corrected,
            )
            for r in [*ranked, *matcher.teaching_near(vector, self.settings.example_min_similarity)]
            if r.candidate.teaches
        ]
        distinct: dict[str, ApprovedExample] = {}
        for example in found:
            distinct.setdefault(text_key(example.answer), example)
        chosen = list(distinct.values())[:limit]
        return sorted(chosen, key=lambda e: not e.corrected)

    def _guard_of(self, session: Session, matcher: FittedMatcher | None) -> GroundingGuard:
        """The guard over the knowledge base the matcher was fitted with (its facts are
        classes of it), read from the database when there is no matcher."""
        if matcher is None:
            return GroundingGuard(e.content for e in self.knowledge.entries(session))
        return self._texts_of(matcher).guard

    def _texts_of(self, matcher: FittedMatcher) -> "MatcherTexts":
        known, texts = self._from_matcher["current"]
        if known is not matcher:
            # The facts' guard is rebuilt only when the facts change (rarely); the common
            # words come from counts the matcher keeps as answers come and go.
            same_facts = known is not None and known.fact_texts is matcher.fact_texts
            texts = MatcherTexts(
                CommonWords(matcher.text_frequencies),
                texts.guard if same_facts else GroundingGuard(matcher.fact_texts),
            )
            self._from_matcher["current"] = (matcher, texts)
        return texts

    def only_low_rated_answers_exist(self, session: Session, vector: np.ndarray) -> bool:
        """Similar questions were asked, and every answer to them was rated low: the
        cheap sources have failed here before, so ask the strongest one first."""
        neighbours = [
            s
            for s in self.embeddings.similar_logs(
                session, vector, limit=RATED_NEIGHBOURS, min_rating=1
            )
            if s.similarity >= self.settings.example_min_similarity
        ]
        return bool(neighbours) and all(
            s.log.corrected_response is None and (s.log.rating or 0) <= LOW_RATING
            for s in neighbours
        )

    def _bound(self, session: Session, session_id: str, caller: Caller) -> bool:
        """The turn belongs to the conversation proper: the caller holds its token, or
        it opens the conversation."""
        return caller.holds_conversation_token or not self._conversation_exists(session, session_id)

    @staticmethod
    def _conversation_exists(session: Session, session_id: str) -> bool:
        return bool(session.scalar(select(exists().where(VoiceLog.session_id == session_id))))

    def recent_turns(
        self, session: Session, session_id: str, caller: Caller | None = None
    ) -> list[Turn]:
        """The conversation as this caller may see it: its own turns (same client), and,
        with the conversation token, every turn asked with it. Knowing a session id alone
        shows nobody else's dialog, nor lets anyone write into it."""
        if self.settings.history_turns == 0:
            return []
        caller = caller or Caller()
        visible = [VoiceLog.client_key == caller.client_key] if caller.client_key else []
        if caller.holds_conversation_token:
            visible.append(VoiceLog.conversation_bound.is_(True))
        if not visible:
            visible.append(VoiceLog.client_key.is_(None))
        rows = session.execute(
            select(VoiceLog.user_message, VoiceLog.corrected_response, VoiceLog.ai_response)
            .where(VoiceLog.session_id == session_id, or_(*visible))
            .order_by(VoiceLog.created_at.desc())
            .limit(self.settings.history_turns)
        ).all()
        return [Turn(q, corrected or answer) for q, corrected, answer in reversed(rows)]

    def answer(
        self,
        context: PromptContext,
        *,
        strongest_first: bool = False,
        guard: GroundingGuard | None = None,
    ) -> Answer:
        """The first provider that gives a usable (and grounded) answer; the offline
        answerer otherwise."""
        providers = self.providers()  # one snapshot for the whole request
        if strongest_first:
            providers.reverse()
        return first_answer(providers, self.offline, context, guard)

    def log_answer(
        self,
        question: str,
        session_id: str,
        answer: Answer,
        response_time: float,
        *,
        client_key: str | None = None,
        bound: bool = False,
        asr_confidence: float | None = None,
    ) -> VoiceLog:
        log = VoiceLog(
            asr_confidence=asr_confidence,
            session_id=session_id,
            client_key=client_key,
            conversation_bound=bound,
            user_message=question,
            ai_response=answer.text,
            model_used=answer.model_used,
            answer_source=answer.source,
            source_log_id=answer.source_log_id,
            verified_answer_id=(
                uuid.UUID(answer.verified_answer_id) if answer.verified_answer_id else None
            ),
            response_time=response_time,
            prompt_tokens=answer.prompt_tokens,
            completion_tokens=answer.completion_tokens,
            cost_usd=answer.cost_usd,
            ungrounded_facts=list(answer.ungrounded) or None,
        )
        with self.database.transaction() as session:
            session.add(log)
        return log

    def current_model(self) -> str:
        """The model that answers when it can: the first configured provider."""
        providers = self.providers()
        return providers[0].model_used if providers else self.offline.model_used


def _charged(answer: Answer, verdict: Verdict) -> Answer:
    """``answer`` with the judge call's tokens and cost added: a judge call is a paid call."""
    return replace(
        answer,
        prompt_tokens=answer.prompt_tokens + verdict.prompt_tokens,
        completion_tokens=answer.completion_tokens + verdict.completion_tokens,
        cost_usd=answer.cost_usd + verdict.cost_usd,
    )


def _nearly_sure(ranked: list[Ranked], min_margin: float) -> bool:
    """The classifier's first answer is verified and leads the next one by the margin the
    matcher would serve it with: one example is all the model needs."""
    if not ranked or not ranked[0].candidate.verified:
        return False
    return len(ranked) == 1 or ranked[0].score - ranked[1].score >= min_margin
