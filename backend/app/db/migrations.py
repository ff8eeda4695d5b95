"""Run Alembic migrations from code, so start-up and ``alembic upgrade head`` share one path."""

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from alembic import command
from app.core.paths import BACKEND_DIR


def alembic_config(database_url: str | None = None) -> Config:
    config = Config(str(BACKEND_DIR / "alembic.ini"))
    config.set_main_option("script_location", str(BACKEND_DIR / "alembic"))
    if database_url:
        config.attributes["database_url"] = database_url
    return config


def upgrade_to_head(database_url: str) -> None:
    command.upgrade(alembic_config(database_url), "head")


class SchemaBehindError(RuntimeError):
    """The database's schema is older than this code: migrations were not run."""


def check_schema_current(engine: Engine) -> None:
    """For processes that do not migrate (``MIGRATE_ON_START=false``): refuse to start on a
    schema older than the code, with the command that fixes it. A *newer* schema is
    accepted — during a rollout the old replicas run on the migrated database until they
    are replaced, which is why migrations only ever add."""
    script = ScriptDirectory.from_config(alembic_config())
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    head = script.get_current_head()
    known = {revision.revision for revision in script.walk_revisions()}
    if current != head and (current is None or current in known):
        raise SchemaBehindError(
            f"the database schema is at {current or 'nothing'}, this code needs {head}: "
            "run `python -m app.cli migrate` first"
        )
