"""Connection to PostgreSQL: the embedded server by default, ``DATABASE_URL`` when set."""

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from app.core.config import Settings
from app.db.embedded import start_embedded_postgres


def libpq_url(sqlalchemy_url: str) -> str:
    """The same database as libpq names it (procrastinate, pg_dump): no driver suffix."""
    return make_url(sqlalchemy_url).set(drivername="postgresql").render_as_string(False)


def connection_lost(error: BaseException) -> bool:
    """Whether ``error`` means the database connection is gone (an outage: retry later),
    not that the statement or the data is wrong."""
    return isinstance(error, OperationalError) or (
        isinstance(error, DBAPIError) and error.connection_invalidated
    )


class PgvectorMissingError(RuntimeError):
    """The configured server cannot store vectors; the service refuses to start without it."""


def normalize_database_url(url: str) -> str:
    """Accept the URL forms people paste (``postgres://``, ``postgresql://``) and use psycopg 3."""
    parsed = make_url(url.replace("postgres://", "postgresql://", 1))
    if parsed.drivername in ("postgresql", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


#: pgvector's default is 40; with the migration's index, 100 gives recall@5 0.988 at 1 M vectors
#: with p95 7.3 ms on 2 cores (benchmarks/performance.py).
DEFAULT_HNSW_EF_SEARCH = 100


class Database:
    """Owns the engine and hands out sessions; one per process."""

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 10,
        embedded: bool = False,
        hnsw_ef_search: int = DEFAULT_HNSW_EF_SEARCH,
    ) -> None:
        self.url = normalize_database_url(url)
        #: True when this process started or attached to the embedded server.
        self.is_embedded = embedded
        self.engine: Engine = create_engine(
            self.url,
            pool_pre_ping=True,
            pool_size=pool_size,
            max_overflow=20,
            pool_timeout=5,
            connect_args={
                "connect_timeout": 5,
                # pgvector >= 0.8: keep scanning the HNSW graph when filters drop candidates;
                # ef_search: candidates kept while searching (recall against latency).
                "options": (
                    f"-c hnsw.iterative_scan=relaxed_order -c hnsw.ef_search={hnsw_ef_search}"
                ),
            },
        )
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> "Database":
        ef_search = settings.hnsw_ef_search
        if settings.database_url:
            return cls(settings.database_url, hnsw_ef_search=ef_search)
        return cls(
            start_embedded_postgres(settings.data_dir), embedded=True, hnsw_ef_search=ef_search
        )

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session for reading; nothing it writes is kept unless its owner commits."""
        with self.sessions() as session:
            yield session

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """The one way work is committed: a unit of work that commits when the block ends
        normally and rolls back when it raises. Services given a session only flush; the
        request dependency, a command or a job step opens the transaction."""
        with self.sessions.begin() as session:
            yield session

    def ensure_pgvector_available(self) -> None:
        """Fail early, with a message that says what to do, on a server without pgvector."""
        with self.engine.connect() as conn:
            available = conn.execute(
                text("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")
            ).first()
        if not available:
            raise PgvectorMissingError(
                "The PostgreSQL server at DATABASE_URL has no pgvector extension. Install "
                "pgvector on that server, or unset DATABASE_URL to use the embedded server."
            )

    def ping(self) -> None:
        """Raise if the database cannot answer a query right now."""
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()
