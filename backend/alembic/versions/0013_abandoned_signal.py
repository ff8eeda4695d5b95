"""A conversation abandoned after a partial answer is a signal too: ``answer_signals``
gets the kind ``abandoned``, which no next message carries (``next_log_id`` may be empty;
one per answer).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 02:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.alter_column("answer_signals", "next_log_id", existing_type=sa.BigInteger(), nullable=True)
    op.drop_constraint("ck_answer_signals_kind", "answer_signals")
    op.create_check_constraint(
        "ck_answer_signals_kind",
        "answer_signals",
        "kind IN ('re_ask', 'escalation', 'thanks', 'abandoned')",
    )
    op.create_index(
        "uq_answer_signals_abandoned",
        "answer_signals",
        ["log_id"],
        unique=True,
        postgresql_where=sa.text("kind = 'abandoned'"),
    )


def downgrade() -> None:
    op.drop_index("uq_answer_signals_abandoned", table_name="answer_signals")
    op.execute("DELETE FROM answer_signals WHERE kind = 'abandoned'")
    op.drop_constraint("ck_answer_signals_kind", "answer_signals")
    op.create_check_constraint(
        "ck_answer_signals_kind", "answer_signals", "kind IN ('re_ask', 'escalation', 'thanks')"
    )
    op.alter_column("answer_signals", "next_log_id", existing_type=sa.BigInteger(), nullable=False)
