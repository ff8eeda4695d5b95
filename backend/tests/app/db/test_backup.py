"""Backups round trip: a populated database written with ``python -m app.cli backup`` and
read into an empty one with ``restore`` comes back whole — every log, rating, correction,
vector and model version — and answers a corrected question from cache; a restore into a
database that holds data is refused and changes nothing."""

import os
import stat
import subprocess
import sys

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from app.core.paths import BACKEND_DIR
from app.db.backup import postgres_tool
from app.db.database import Database, libpq_url
from app.db.embedded import start_embedded_postgres
from app.db.models import ModelVersion
from tests.support.dialog import ask, correct, rate_accepted

QUESTION = "Как часто моют подъезд?"
CORRECTED = "Влажная уборка — 2 раза в неделю, по вторникам и пятницам."


def cli(*args: str, database_url: str, data_dir) -> subprocess.CompletedProcess:
    environment = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        cwd=BACKEND_DIR,
        env=environment | {"DATABASE_URL": database_url, "DATA_DIR": str(data_dir)},
        capture_output=True,
        text=True,
        timeout=300,
    )


def row_counts(url: str) -> dict[str, int]:
    database = Database(url)
    try:
        with database.engine.connect() as connection:
            tables = connection.scalars(
                text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            ).all()
            return {t: connection.scalar(text(f'SELECT count(*) FROM "{t}"')) for t in tables}
    finally:
        database.dispose()


@pytest.fixture
def empty_database(pg_data_dir):
    """A new database on the test server, dropped afterwards."""
    url = start_embedded_postgres(pg_data_dir, database="vasdom_restored", stop_on_exit=False)
    yield url
    admin = make_url(libpq_url(url)).set(database="postgres").render_as_string(False)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute("DROP DATABASE IF EXISTS vasdom_restored WITH (FORCE)")


def test_a_backup_restores_into_an_empty_database_whole_and_serves_the_corrections(
    bot, database, database_url, empty_database, make_client, make_settings, tmp_path
):
    for number in range(3):
        rate_accepted(bot, ask(bot, f"Вопрос жильца номер {number}", f"resident-{number}"), 4)
    correct(bot, ask(bot, QUESTION, "resident-9")["log_id"], CORRECTED)
    with database.transaction() as session:
        session.add(ModelVersion(name="v1", base_model="tiny", path="/models/v1"))
    before = row_counts(database_url)
    assert before["voice_logs"] == 4 and before["voice_embeddings"] == 4
    assert before["verified_answers"] >= 1 and before["model_versions"] == 1

    written = cli("backup", str(tmp_path / "vasdom.dump"), database_url=database_url,
                  data_dir=tmp_path)  # fmt: skip
    assert written.returncode == 0, written.stdout + written.stderr
    restored = cli("restore", str(tmp_path / "vasdom.dump"), database_url=empty_database,
                   data_dir=tmp_path)  # fmt: skip
    assert restored.returncode == 0, restored.stdout + restored.stderr

    # Every row but the token secret's (``test_a_backup_cannot_forge_tokens_…`` below).
    assert row_counts(empty_database) == before | {"token_secrets": 0}
    after_restore = make_client(make_settings(DATABASE_URL=empty_database))
    answer = after_restore.post("/api/voice/process", json={"message": QUESTION}).json()
    assert (answer["answer_source"], answer["response"]) == ("cache", CORRECTED)


def test_a_restore_into_a_database_with_data_is_refused_and_changes_nothing(
    bot, database_url, tmp_path
):
    ask(bot, QUESTION, "resident-1")
    cli("backup", str(tmp_path / "vasdom.dump"), database_url=database_url, data_dir=tmp_path)
    before = row_counts(database_url)

    refused = cli("restore", str(tmp_path / "vasdom.dump"), database_url=database_url,
                  data_dir=tmp_path)  # fmt: skip

    assert refused.returncode == 1
    assert "восстанавливать можно только в пустую базу" in refused.stdout
    assert row_counts(database_url) == before


def test_a_backup_is_private_and_whoever_reads_it_cannot_forge_tokens(
    bot, database, database_url, empty_database, make_client, make_settings, tmp_path
):
    answer = ask(bot, QUESTION, "resident-1")
    with database.session() as session:
        token_secret = session.scalar(text("SELECT value FROM token_secrets"))
        client_secret = session.scalar(
            text("SELECT value FROM app_state WHERE key = 'feedback_token_secret'")
        )
    dump = tmp_path / "vasdom.dump"
    dump.write_bytes(b"an older file, readable by all")
    dump.chmod(0o644)

    written = cli("backup", str(dump), database_url=database_url, data_dir=tmp_path)
    assert written.returncode == 0, written.stderr
    assert stat.S_IMODE(dump.stat().st_mode) == 0o600
    rows = subprocess.run(
        [postgres_tool("pg_restore"), "--data-only", "--file=-", str(dump)],
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout  # fmt: skip
    assert client_secret in rows, "client keys must mean the same clients after a restore"
    assert token_secret not in rows

    restored = cli("restore", str(dump), database_url=empty_database, data_dir=tmp_path)
    assert restored.returncode == 0, restored.stderr
    after = make_client(make_settings(DATABASE_URL=empty_database))
    services, before = after.app.state.services, bot.app.state.services
    assert not services.feedback_tokens.valid(
        answer["feedback_token"], answer["log_id"], "resident-1"
    )
    assert services.identity.conversation_token("resident-1") != answer["conversation_token"]
    assert services.identity.client_key("10.1.2.3") == before.identity.client_key("10.1.2.3")
