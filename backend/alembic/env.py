"""Alembic environment: one code path for the CLI and for start-up migrations."""

from logging.config import fileConfig

from sqlalchemy import text

from alembic import context
from app.core.config import get_settings
from app.db.database import Database
from app.db.models import Base

# Any number of processes may start at once (service, worker, CLI): one migrates at a time.
MIGRATION_LOCK_KEY = 7_202_611_25

config = context.config
url = config.attributes.get("database_url")
if url is None:  # invoked as `alembic ...` from the shell
    if config.config_file_name:
        fileConfig(config.config_file_name)
    url = Database.from_settings(get_settings()).url


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Tables that pgvector or other extensions own are not ours to drop."""
    return not (type_ == "table" and reflected and compare_to is None)


def run_migrations_online() -> None:
    database = Database(url, pool_size=1)
    try:
        database.ensure_pgvector_available()
        with database.engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK_KEY})
            connection.commit()
            try:
                context.configure(
                    connection=connection,
                    target_metadata=Base.metadata,
                    include_object=include_object,
                    compare_type=True,
                )
                with context.begin_transaction():
                    context.run_migrations()
                connection.commit()
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK_KEY})
                connection.commit()
    finally:
        database.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported: run against a database")
run_migrations_online()
