"""The embedded default and the DATABASE_URL path, migrations, and behaviour in an outage."""

import shutil
import subprocess
import sys
import uuid

import pytest
from sqlalchemy import text

from app.core.config import Settings
from app.core.paths import BACKEND_DIR
from app.db.database import Database, normalize_database_url
from tests.support.dialog import OPERATOR_HEADERS, OPERATOR_KEY
from tests.support.feedback import rate
from tests.support.postgres import start_embedded, stop_embedded


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@h:5432/d", "postgresql+psycopg://u:p@h:5432/d"),
        ("postgresql://u@h/d", "postgresql+psycopg://u@h/d"),
        ("postgresql+psycopg://u@h/d", "postgresql+psycopg://u@h/d"),
    ],
)
def test_database_urls_people_paste_are_normalised_to_psycopg3(given, expected):
    assert normalize_database_url(given) == expected


def test_alembic_from_backend_upgrades_and_finds_no_drift(database_url):
    env = {"DATABASE_URL": database_url, "PATH": "/usr/bin:/bin"}
    alembic = [sys.executable, "-m", "alembic"]
    for command in (["upgrade", "head"], ["check"]):
        result = subprocess.run(
            alembic + command, cwd=BACKEND_DIR, env=env, capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, result.stderr
    assert "No new upgrade operations detected" in result.stdout + result.stderr


def test_pgvector_and_the_hnsw_cosine_index_exist(database):
    with database.engine.connect() as conn:
        assert conn.execute(text("SELECT 1 FROM pg_extension WHERE extname='vector'")).scalar()
        indexdef = conn.execute(
            text(
                "SELECT indexdef FROM pg_indexes WHERE indexname='ix_voice_embeddings_hnsw_cosine'"
            )
        ).scalar()
    assert "hnsw" in indexdef and "vector_cosine_ops" in indexdef


@pytest.fixture
def own_embedded_dir(tmp_path_factory):
    import tempfile
    from pathlib import Path

    directory = Path(tempfile.mkdtemp(prefix="vdown"))
    yield directory
    stop_embedded(directory / "pgdata")
    shutil.rmtree(directory, ignore_errors=True)


def test_without_database_url_the_embedded_server_keeps_data_across_restarts(own_embedded_dir):
    settings = Settings(_env_file=None, DATA_DIR=str(own_embedded_dir))
    database = Database.from_settings(settings)
    assert database.is_embedded
    assert str(own_embedded_dir) in database.engine.url.query["host"]
    with database.engine.begin() as conn:
        conn.execute(text("CREATE TABLE kept (v text)"))
        conn.execute(text("INSERT INTO kept VALUES ('до перезапуска')"))
    database.dispose()

    stop_embedded(own_embedded_dir / "pgdata")
    start_embedded(own_embedded_dir / "pgdata")
    again = Database.from_settings(settings)
    with again.engine.connect() as conn:
        assert conn.execute(text("SELECT v FROM kept")).scalar() == "до перезапуска"
    again.dispose()


def test_a_second_process_shares_the_embedded_database(own_embedded_dir):
    settings = Settings(_env_file=None, DATA_DIR=str(own_embedded_dir))
    database = Database.from_settings(settings)
    marker = uuid.uuid4().hex
    with database.engine.begin() as conn:
        conn.execute(text("CREATE TABLE shared_marker (v text)"))
        conn.execute(text("INSERT INTO shared_marker VALUES (:v)"), {"v": marker})
    script = (
        "from sqlalchemy import text\n"
        "from app.core.config import Settings\n"
        "from app.db.database import Database\n"
        "db = Database.from_settings(Settings(_env_file=None))\n"
        "with db.engine.connect() as c:\n"
        "    print(c.execute(text('SELECT v FROM shared_marker')).scalar())\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=BACKEND_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        env={"DATA_DIR": str(own_embedded_dir), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == marker
    with database.engine.connect() as conn:  # the child's exit did not stop our server
        assert conn.execute(text("SELECT count(*) FROM shared_marker")).scalar() == 1
    database.dispose()


def test_requests_get_503_while_the_database_is_down_and_work_after(own_embedded_dir, make_client):
    settings = Settings(_env_file=None, DATA_DIR=str(own_embedded_dir), ADMIN_API_KEY=OPERATOR_KEY)
    client = make_client(settings)
    first = client.post("/api/voice/process", json={"message": "Как часто моют подъезд?"})
    assert first.status_code == 200

    stop_embedded(own_embedded_dir / "pgdata")
    down = client.post("/api/voice/process", json={"message": "Сколько стоит уборка?"})
    assert down.status_code == 503
    assert "недоступна" in down.json()["detail"]
    assert client.get("/api/voice/health").status_code == 503
    feedback = rate(client, first.json(), 5)
    assert feedback.status_code == 503

    start_embedded(own_embedded_dir / "pgdata")
    after = rate(client, first.json(), 5)
    assert after.status_code == 200
    status = client.get("/api/voice/self-learning/status", headers=OPERATOR_HEADERS).json()
    assert status["total_interactions"] == 1


def test_the_newest_migrations_downgrade_and_upgrade_again(database_url):
    env = {"DATABASE_URL": database_url, "PATH": "/usr/bin:/bin"}
    alembic = [sys.executable, "-m", "alembic"]
    for command in (["downgrade", "0003"], ["upgrade", "head"], ["check"]):
        result = subprocess.run(
            alembic + command, cwd=BACKEND_DIR, env=env, capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, result.stderr
