"""What residents' next messages said about answers: ``answer_signals``

A re-ask in other words, a request for a person, or thanks — read from the dialog itself,
for the answers nobody rated (``app/feedback/implicit_signals.py``).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 23:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "answer_signals",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("log_id", sa.BigInteger(), nullable=False),
        sa.Column("next_log_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("evidence", postgresql.JSONB(), nullable=True),
        sa.Column("client_key", sa.String(length=32), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(["log_id"], ["voice_logs.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["next_log_id"], ["voice_logs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("next_log_id"),
        sa.CheckConstraint(
            "kind IN ('re_ask', 'escalation', 'thanks')", name="ck_answer_signals_kind"
        ),
    )
    op.create_index("ix_answer_signals_log_id", "answer_signals", ["log_id"])


def downgrade() -> None:
    op.drop_index("ix_answer_signals_log_id", table_name="answer_signals")
    op.drop_table("answer_signals")
