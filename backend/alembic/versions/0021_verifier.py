"""The verifier after the matcher: its trained versions (one active) and the paid judge's
verdicts, which decide the uncertain band and train the next version.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 20:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID

from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "verifier_versions",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text()),
        sa.Column("params", JSONB(), nullable=False),
        sa.Column("training_pairs", sa.Integer(), nullable=False),
        sa.Column("held_out", JSONB(), nullable=False),
        sa.Column("max_error_rate", sa.Float(), nullable=False),
        sa.CheckConstraint(
            "status IN ('active', 'retired', 'rejected')", name="ck_verifier_versions_status"
        ),
    )
    op.create_index(
        "uq_verifier_versions_active",
        "verifier_versions",
        ["status"],
        unique=True,
        postgresql_where=sa.text("status = 'active'"),
    )
    op.create_table(
        "judge_verdicts",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("log_id", sa.BigInteger(), sa.ForeignKey("voice_logs.id", ondelete="CASCADE")),
        sa.Column(
            "verified_answer_id",
            UUID(as_uuid=True),
            sa.ForeignKey("verified_answers.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("agrees", sa.Boolean(), nullable=False),
        sa.Column("probability", sa.Float(), nullable=False),
        sa.Column(
            "verifier_version_id",
            sa.BigInteger(),
            sa.ForeignKey("verifier_versions.id", ondelete="SET NULL"),
        ),
    )
    op.create_index("ix_judge_verdicts_log_id", "judge_verdicts", ["log_id"])
    op.create_index(
        "ix_judge_verdicts_verified_answer_id", "judge_verdicts", ["verified_answer_id"]
    )


def downgrade() -> None:
    op.drop_table("judge_verdicts")
    op.drop_table("verifier_versions")
