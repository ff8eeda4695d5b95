"""Conversations abandoned after an answer that did not answer.

A resident who got "I can't answer that, call the dispatcher" (or a bare excerpt of the
fact sheet: no model could answer) and wrote nothing more was not helped, though they
said nothing. Such an answer is marked ``abandoned`` once its conversation has been quiet
for ``ABANDONED_AFTER_MINUTES``; the schedule tick does it (``worker/schedule.py``). A
message by anyone after it in the same conversation leaves it unmarked: silence is only
evidence when it is silence.
"""

from datetime import datetime, timedelta

from sqlalchemy import exists, func, literal, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, aliased

from app.db.models import AnswerSignal, SignalKind, VoiceLog
from app.llm.offline import OFFLINE_MODEL_NAME

#: Only answers this recent are looked at: older quiet conversations were judged already.
LOOKBACK = timedelta(days=7)


def mark_abandoned(session: Session, now: datetime, quiet_for: timedelta) -> int:
    """Mark every offline answer followed by nothing for ``quiet_for``; how many."""
    later = aliased(VoiceLog)
    followed = exists().where(later.session_id == VoiceLog.session_id, later.id > VoiceLog.id)
    marked = exists().where(AnswerSignal.log_id == VoiceLog.id)
    quiet_minutes = int(quiet_for.total_seconds() // 60)
    rows = select(
        VoiceLog.id,
        literal(SignalKind.ABANDONED.value),
        func.jsonb_build_object(
            "answer_source", VoiceLog.answer_source, "quiet_minutes", quiet_minutes
        ),
        VoiceLog.client_key,
    ).where(
        VoiceLog.model_used == OFFLINE_MODEL_NAME,
        VoiceLog.created_at < now - quiet_for,
        VoiceLog.created_at >= now - LOOKBACK,
        ~followed,
        ~marked,
    )
    inserted = session.scalars(
        insert(AnswerSignal)
        .from_select(["log_id", "kind", "evidence", "client_key"], rows)
        .on_conflict_do_nothing()
        .returning(AnswerSignal.id)
    ).all()
    return len(inserted)
