"""learning loop: verified answers, their evidence, shared state

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 13:10:56.329072
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "app_state",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "verified_answers",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("answer_text", sa.Text(), nullable=False),
        sa.Column("text_key", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("source_log_id", sa.UUID(), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "confirmed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_reason", sa.Text(), nullable=True),
        sa.CheckConstraint("kind IN ('rated', 'corrected')", name="ck_verified_answers_kind"),
        sa.ForeignKeyConstraint(["source_log_id"], ["voice_logs.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_verified_answers_active", "verified_answers", ["withdrawn_at"], unique=False
    )
    op.create_index(
        op.f("ix_verified_answers_text_key"), "verified_answers", ["text_key"], unique=False
    )
    op.create_table(
        "answer_evidence",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("verified_answer_id", sa.UUID(), nullable=False),
        sa.Column("log_id", sa.UUID(), nullable=False),
        sa.Column("agrees", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(["log_id"], ["voice_logs.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["verified_answer_id"], ["verified_answers.id"], ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("log_id", "verified_answer_id", name="uq_answer_evidence_log_answer"),
    )
    op.create_index(op.f("ix_answer_evidence_log_id"), "answer_evidence", ["log_id"], unique=False)
    op.create_index(
        op.f("ix_answer_evidence_verified_answer_id"),
        "answer_evidence",
        ["verified_answer_id"],
        unique=False,
    )
    op.add_column("voice_logs", sa.Column("verified_answer_id", sa.UUID(), nullable=True))
    op.add_column(
        "voice_logs",
        sa.Column(
            "training_example", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
    )
    op.create_foreign_key(
        "fk_voice_logs_verified_answer",
        "voice_logs",
        "verified_answers",
        ["verified_answer_id"],
        ["id"],
        ondelete="SET NULL",
    )


def downgrade() -> None:
    op.drop_constraint("fk_voice_logs_verified_answer", "voice_logs", type_="foreignkey")
    op.drop_column("voice_logs", "training_example")
    op.drop_column("voice_logs", "verified_answer_id")
    op.drop_index(op.f("ix_answer_evidence_verified_answer_id"), table_name="answer_evidence")
    op.drop_index(op.f("ix_answer_evidence_log_id"), table_name="answer_evidence")
    op.drop_table("answer_evidence")
    op.drop_index(op.f("ix_verified_answers_text_key"), table_name="verified_answers")
    op.drop_index("ix_verified_answers_active", table_name="verified_answers")
    op.drop_table("verified_answers")
    op.drop_table("app_state")
