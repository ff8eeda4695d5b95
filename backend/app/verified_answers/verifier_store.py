"""Verifier versions in the database: recorded, gated, switched in, rolled back; and the
labelled pairs the service's records give the next one.

**The gate.** A new version is switched in only if its pairs can bound the wrong-serve rate
at δ at all (otherwise it would serve nothing, and the static guards serve better), its
held-out (out-of-fold) wrong-serve share is ≤ δ and it serves right pairs at least about as
well as the active version (``RECALL_SLACK``); otherwise it is kept as ``rejected`` with the
reason. The active
version before it is ``retired``, and an operator can roll back to it.

**Labelled pairs, and who may steer them.** The judge's verdicts (the paid model's word on
a question and an answer) and explicit refusals of a served answer (a low rating, an
operator's correction) are pairs with a known label. A client chooses its questions and its
ratings: each client gives at most one pair per answer, so one script cannot outvote the
approved phrasings, and a refusal only ever makes the verifier more careful with an answer.
"""

import logging
import uuid
from collections.abc import Callable

import numpy as np
from sqlalchemy import String, cast, func, select, update
from sqlalchemy.orm import Session

from app.db.models import (
    AnswerEvidence,
    AnswerSource,
    EvidenceBasis,
    JudgeVerdict,
    VerifierVersion,
    VoiceEmbedding,
    VoiceLog,
    client_of_log,
)
from app.verified_answers.verifier_training import Pair, TrainedVerifier

logger = logging.getLogger(__name__)

#: A new version may serve this much less of the right pairs than the active one.
RECALL_SLACK = 0.03
#: The labelled pairs read per training run, newest first.
MAX_LABELLED_PAIRS = 5000
ACTIVE, RETIRED, REJECTED = "active", "retired", "rejected"


def record_verdict(
    session: Session,
    *,
    log_id: int,
    verified_answer_id: str,
    question: str,
    agrees: bool,
    probability: float,
    version_id: int | None,
) -> None:
    session.add(
        JudgeVerdict(
            log_id=log_id,
            verified_answer_id=uuid.UUID(verified_answer_id),
            question=question,
            agrees=agrees,
            probability=probability,
            verifier_version_id=version_id,
        )
    )


def active_version(session: Session) -> VerifierVersion | None:
    return session.scalars(select(VerifierVersion).where(VerifierVersion.status == ACTIVE)).first()


def gate(trained: TrainedVerifier, active: VerifierVersion | None, max_error_rate: float) -> str:
    """Why ``trained`` must not serve; empty when it may."""
    held_out = trained.held_out
    if trained.verifier.serve_at > 1 and trained.verifier.ask_from > 1:
        return (
            f"{trained.pairs} pairs are too few to bound wrong serves at CACHE_MAX_ERROR_RATE "
            f"{max_error_rate}: the static guards keep deciding"
        )
    if held_out["wrong_share"] > max_error_rate:
        return (
            f"held-out wrong serves {held_out['wrong_share']:.3f} exceed "
            f"CACHE_MAX_ERROR_RATE {max_error_rate}"
        )
    if active is not None and active.max_error_rate == max_error_rate:
        before = float(active.held_out.get("recall", 0.0))
        if held_out["recall"] < before - RECALL_SLACK:
            return f"held-out recall {held_out['recall']:.3f} below the active {before:.3f}"
    return ""


def record_trained(
    session: Session, trained: TrainedVerifier, max_error_rate: float
) -> VerifierVersion:
    """Store ``trained``; switch it in when it passes the gate."""
    active = session.scalars(
        select(VerifierVersion).where(VerifierVersion.status == ACTIVE).with_for_update()
    ).first()
    refused = gate(trained, active, max_error_rate)
    if not refused and active is not None:
        active.status = RETIRED
        session.flush()
    version = VerifierVersion(
        status=REJECTED if refused else ACTIVE,
        reason=refused or "passed the held-out gate",
        params=trained.verifier.as_dict(),
        training_pairs=trained.pairs,
        held_out=trained.held_out,
        max_error_rate=max_error_rate,
    )
    session.add(version)
    session.flush()
    logger.info("verifier version %s %s: %s", version.id, version.status, version.reason)
    return version


def roll_back(session: Session, operator: str) -> VerifierVersion | None:
    """The version before the active one serves again; None when there is none."""
    active = session.scalars(
        select(VerifierVersion).where(VerifierVersion.status == ACTIVE).with_for_update()
    ).first()
    query = select(VerifierVersion).where(VerifierVersion.status == RETIRED)
    if active is not None:
        query = query.where(VerifierVersion.id < active.id)
    previous = session.scalars(query.order_by(VerifierVersion.id.desc()).limit(1)).first()
    if previous is None:
        return None
    if active is not None:
        active.status = REJECTED
        active.reason = f"rolled back by operator {operator}"
        session.flush()
    previous.status = ACTIVE
    previous.reason = f"restored by operator {operator}"
    return previous


def disable(session: Session, operator: str) -> bool:
    """No verifier: the static guards decide again."""
    changed = session.execute(
        update(VerifierVersion)
        .where(VerifierVersion.status == ACTIVE)
        .values(status=RETIRED, reason=f"switched off by operator {operator}")
    )
    return bool(changed.rowcount)


def versions(session: Session, limit: int = 20) -> list[VerifierVersion]:
    return list(
        session.scalars(select(VerifierVersion).order_by(VerifierVersion.id.desc()).limit(limit))
    )


def labelled_pairs(session: Session, model: str, embed: Callable[[str], np.ndarray]) -> list[Pair]:
    """The judge's verdicts and explicit refusals of served answers, at most one per client
    and answer (the newest), with the question's stored vector (embedded when missing)."""
    found: dict[tuple[str, str], Pair] = {}
    for question, vector, key, agrees, client in _verdict_rows(session, model):
        _keep(found, question, vector, key, agrees, client, embed)
    for question, vector, key, client in _refusal_rows(session, model):
        _keep(found, question, vector, key, False, client, embed)
    return list(found.values())


def _keep(found, question, vector, key, agrees, client, embed) -> None:
    slot = (str(client), str(key))
    if slot in found:
        return
    vector = np.asarray(vector if vector is not None else embed(question), np.float32)
    found[slot] = Pair(question, vector, str(key), int(bool(agrees)))


def _verdict_rows(session: Session, model: str):
    return session.execute(
        select(
            JudgeVerdict.question,
            VoiceEmbedding.embedding,
            JudgeVerdict.verified_answer_id,
            JudgeVerdict.agrees,
            func.coalesce(client_of_log(), "verdict-" + cast(JudgeVerdict.id, String)),
        )
        .outerjoin(VoiceLog, VoiceLog.id == JudgeVerdict.log_id)
        .outerjoin(
            VoiceEmbedding,
            (VoiceEmbedding.log_id == JudgeVerdict.log_id)
            & (VoiceEmbedding.embedding_model == model),
        )
        .order_by(JudgeVerdict.id.desc())
        .limit(MAX_LABELLED_PAIRS)
    ).all()


def _refusal_rows(session: Session, model: str):
    return session.execute(
        select(
            VoiceLog.user_message,
            VoiceEmbedding.embedding,
            AnswerEvidence.verified_answer_id,
            client_of_log(),
        )
        .join(VoiceLog, VoiceLog.id == AnswerEvidence.log_id)
        .outerjoin(
            VoiceEmbedding,
            (VoiceEmbedding.log_id == VoiceLog.id) & (VoiceEmbedding.embedding_model == model),
        )
        .where(
            AnswerEvidence.agrees.is_(False),
            AnswerEvidence.basis.in_([EvidenceBasis.RATING, EvidenceBasis.CORRECTION]),
            VoiceLog.answer_source == AnswerSource.CACHE,
            VoiceLog.verified_answer_id == AnswerEvidence.verified_answer_id,
        )
        .order_by(AnswerEvidence.id.desc())
        .limit(MAX_LABELLED_PAIRS)
    ).all()
