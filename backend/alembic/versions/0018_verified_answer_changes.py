"""Which verified answers each revision changed, written by triggers, so that every
replica's matcher updates only those answers instead of refitting from all evidence.

A trigger, not application code, because every path that touches evidence or an answer
(ratings, corrections, dialog signals, operators' approvals and withdrawals, a restore)
must be noted, including ones written later. The row carries the revision current in the
writing transaction: learning transactions move the revision on first (holding its row),
so a process that reads revision R and then the changes up to R sees all of them.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01 14:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NOTE_CHANGE = """
CREATE FUNCTION note_verified_answer_change() RETURNS trigger AS $$
BEGIN
    INSERT INTO verified_answer_changes (revision, verified_answer_id)
    VALUES (
        COALESCE((SELECT value::bigint FROM app_state WHERE key = 'verified_revision'), 0),
        (to_jsonb(COALESCE(NEW, OLD)) ->> TG_ARGV[0])::uuid
    );
    RETURN NULL;
END
$$ LANGUAGE plpgsql
"""

TRIGGERS = {
    "answer_evidence": ("INSERT OR UPDATE OR DELETE", "verified_answer_id"),
    "verified_answers": ("INSERT OR UPDATE", "id"),
}


def upgrade() -> None:
    op.create_table(
        "verified_answer_changes",
        sa.Column("id", sa.BigInteger(), primary_key=True, autoincrement=True),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.Column("verified_answer_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column(
            "changed_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
    )
    op.create_index("ix_verified_answer_changes_revision", "verified_answer_changes", ["revision"])
    op.create_index(
        "ix_verified_answer_changes_changed_at", "verified_answer_changes", ["changed_at"]
    )
    op.execute(NOTE_CHANGE)
    for table, (events, column) in TRIGGERS.items():
        op.execute(
            f"CREATE TRIGGER {table}_noted AFTER {events} ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION note_verified_answer_change('{column}')"
        )


def downgrade() -> None:
    for table in TRIGGERS:
        op.execute(f"DROP TRIGGER {table}_noted ON {table}")
    op.execute("DROP FUNCTION note_verified_answer_change()")
    op.drop_index("ix_verified_answer_changes_changed_at", table_name="verified_answer_changes")
    op.drop_index("ix_verified_answer_changes_revision", table_name="verified_answer_changes")
    op.drop_table("verified_answer_changes")
