"""Replicas that do not migrate (MIGRATE_ON_START=false) refuse a schema older than their
code, and accept the current one or a newer one (the old replicas of a rollout)."""

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from app.container import build_services
from app.core.config import Settings
from app.db.database import Database, libpq_url
from app.db.embedded import start_embedded_postgres
from app.db.migrations import SchemaBehindError, check_schema_current, upgrade_to_head

NAME = "vasdom_unmigrated"


@pytest.fixture
def unmigrated(pg_data_dir):
    url = start_embedded_postgres(pg_data_dir, database=NAME, stop_on_exit=False)
    yield url
    admin = make_url(libpq_url(url)).set(database="postgres").render_as_string(False)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {NAME} WITH (FORCE)")


def test_a_replica_that_does_not_migrate_refuses_an_old_schema_and_says_what_to_run(
    unmigrated, tmp_path, embedder
):
    settings = Settings(
        _env_file=None,
        DATABASE_URL=unmigrated,
        DATA_DIR=str(tmp_path),
        MIGRATE_ON_START="false",
    )
    with pytest.raises(SchemaBehindError, match=r"python -m app\.cli migrate"):
        build_services(settings, embedder=embedder)

    upgrade_to_head(unmigrated)
    services = build_services(settings, embedder=embedder)
    services.close()


def test_a_schema_newer_than_the_code_is_accepted_during_a_rollout(unmigrated):
    upgrade_to_head(unmigrated)
    database = Database(unmigrated)
    try:
        with database.engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = '9999_next'"))
        check_schema_current(database.engine)  # no error: the next release migrated first
        with database.engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = '0016'"))
        with pytest.raises(SchemaBehindError, match="0016"):
            check_schema_current(database.engine)
    finally:
        database.dispose()
