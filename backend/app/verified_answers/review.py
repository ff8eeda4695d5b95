"""The operators hear of every answer residents taught the cache.

Residents can make an answer served without an operator (``trust.py``); operators are told
each time it happens, and each time an answer waits for them because it carries contact
details, so nothing residents taught goes unseen. The queue itself is
``GET /api/voice/verified-answers?awaiting_review=true``, in the operator console too.
"""

import uuid
from dataclasses import dataclass

from app.alerts.service import Alerts
from app.verified_answers.service import Learned, mark_served

#: Alert text is a preview; the queue shows the whole answer.
PREVIEW_CHARS = 200


@dataclass(frozen=True)
class Announcement:
    """Plain values, taken while the row is at hand (the alert goes out after commit)."""

    kind: str
    title: str
    details: dict
    verified_answer_id: uuid.UUID


def announcement(learned: Learned | None) -> Announcement | None:
    if learned is None or learned.supported is None or learned.standing is None:
        return None
    answer = learned.supported
    details = {
        "verified_answer_id": str(answer.id),
        "answer": answer.answer_text[:PREVIEW_CHARS],
        "why": learned.standing.reason,
    }
    if learned.newly_served:
        return Announcement(
            "answer_verified",
            "Жильцы сделали ответ проверенным: он выдаётся из кэша",
            details,
            answer.id,
        )
    if learned.held:
        return Announcement(
            "answer_held",
            "Ответ жильцов ждёт проверки оператора (контакты не из базы)",
            details,
            answer.id,
        )
    return None


def announce(alerts: Alerts, news: Announcement) -> None:
    """Raised after the response (a background task): delivery must not slow a rating.
    A newly served answer is announced once: by whoever records it as served first."""
    if news.kind == "answer_verified":
        with alerts.database.transaction() as session:
            if not mark_served(session, news.verified_answer_id):
                return
    alerts.raise_alert(news.kind, news.title, news.details)
