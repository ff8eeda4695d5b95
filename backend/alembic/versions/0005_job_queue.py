"""job queue: procrastinate's schema (retraining jobs, the built-in schedule)

The SQL is procrastinate's own, from the pinned release (procrastinate==3.10.0). Upgrading
procrastinate means a new revision applying the migration files it ships for that release.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 16:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    from procrastinate.schema import SchemaManager

    _run_script(SchemaManager.get_schema())


def _run_script(sql: str) -> None:
    """One multi-statement script, straight to psycopg without parameters: the SQL has
    $$-quoted bodies, :: casts and % signs that no placeholder parser must touch."""
    cursor = op.get_bind().connection.cursor()
    try:
        cursor.execute(sql)
    finally:
        cursor.close()


def downgrade() -> None:
    _run_script(
        """
        DROP TABLE IF EXISTS procrastinate_events, procrastinate_periodic_defers,
            procrastinate_jobs, procrastinate_workers CASCADE;
        DO $$
        DECLARE f record;
        BEGIN
            FOR f IN SELECT oid::regprocedure AS signature FROM pg_proc
                     WHERE proname LIKE 'procrastinate\\_%' LOOP
                EXECUTE 'DROP FUNCTION ' || f.signature || ' CASCADE';
            END LOOP;
        END $$;
        DROP TYPE IF EXISTS procrastinate_job_to_defer_v1, procrastinate_job_event_type,
            procrastinate_job_status CASCADE;
        """
    )
