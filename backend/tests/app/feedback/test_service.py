"""Recording ratings: concurrent judgements of one answer keep exact counts."""

import contextlib
import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from app.db.models import VoiceFeedback, VoiceLog
from tests.support.dialog import BOT_OPERATOR, ask
from tests.support.feedback import rate


def test_concurrent_feedback_keeps_exact_counts(bot, database):
    answers = [ask(bot, f"Вопрос {n}: когда уборка?") for n in range(6)]
    log_ids = [answer["log_id"] for answer in answers]
    ratings = [(answer, rating) for answer in answers for rating in (1, 3, 5, 4)]
    barrier = threading.Barrier(8)

    def send(item):
        answer, rating = item
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=5)
        return rate(bot, answer, rating).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(send, ratings))

    assert statuses == [200] * len(ratings)
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(VoiceFeedback)) == len(ratings)
        rated = session.scalar(
            select(func.count()).select_from(VoiceLog).where(VoiceLog.rating.is_not(None))
        )
        assert rated == len(log_ids)
    status = bot.get("/api/voice/self-learning/status", headers=BOT_OPERATOR).json()
    assert status["total_interactions"] == len(log_ids)
    assert status["positive_ratings_count"] + status["negative_ratings_count"] <= len(log_ids)
