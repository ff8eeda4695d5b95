"""How unhappy the resident probably was with an answer: the review queue's order.

Most answers are never rated, so stars alone would leave the queue nearly empty while
residents re-ask and ask for a person. The estimate reads the strongest evidence there is:
a rating when the resident gave one (1★ → 1.0 … 5★ → 0.0), else what the next message
said (a request for a person, a re-ask, thanks) or the silence after an answer no model
could give, else an unknown middle. Operators work
the queue from the top; an operator's correction takes a dialog out of it.
"""

from sqlalchemy import and_, case, or_
from sqlalchemy.sql.elements import ColumnElement

from app.db.models import UNHELPED_SIGNALS, SignalKind, VoiceLog, signalled

LOW_RATING = 2
#: Unrated answers, by what the resident's next message said.
ESCALATED = 0.9
RE_ASKED = 0.8
ABANDONED = 0.7
UNKNOWN = 0.3
THANKED = 0.05


def estimated_dissatisfaction() -> ColumnElement[float]:
    """0 (certainly helped) … 1 (certainly not), per log (SQL)."""
    return case(
        (VoiceLog.rating.is_not(None), (5 - VoiceLog.rating) / 4.0),
        (signalled(SignalKind.ESCALATION), ESCALATED),
        (signalled(SignalKind.RE_ASK), RE_ASKED),
        (signalled(SignalKind.ABANDONED), ABANDONED),
        (signalled(SignalKind.THANKS), THANKED),
        else_=UNKNOWN,
    )


def needs_review() -> ColumnElement[bool]:
    """Rated low, or unrated and the resident re-asked, asked for a person or left after
    an answer no model could give (SQL)."""
    return or_(
        VoiceLog.rating <= LOW_RATING,
        and_(
            VoiceLog.rating.is_(None),
            signalled(*UNHELPED_SIGNALS),
        ),
    )
