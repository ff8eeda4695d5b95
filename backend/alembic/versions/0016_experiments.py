"""A/B experiments and canary releases: experiments (one open per kind), their arms, the
decision's looks over time, the arms each answer was given in, and a retraining run's
``canary`` status.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


BEFORE = ("queued", "running", "promoted", "rejected", "failed")
WITH_CANARY = (*BEFORE, "canary")


def _quoted(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{value}'" for value in values)


def _created_at() -> sa.Column:
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "experiments",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column(
            "canary_version_id",
            sa.BigInteger(),
            sa.ForeignKey("model_versions.id", ondelete="SET NULL"),
        ),
        sa.Column("created_by", sa.String(200)),
        sa.Column("decision", JSONB()),
        sa.Column("winner", sa.String(100)),
        _created_at(),
        sa.Column("stopped_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("kind IN ('model', 'config')", name="ck_experiments_kind"),
        sa.CheckConstraint(
            "status IN ('running', 'paused', 'stopped')", name="ck_experiments_status"
        ),
    )
    op.create_index(
        "uq_experiments_one_open_per_kind",
        "experiments",
        ["kind"],
        unique=True,
        postgresql_where=sa.text("status IN ('running', 'paused')"),
    )
    op.create_table(
        "experiment_arms",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column(
            "experiment_id",
            sa.BigInteger(),
            sa.ForeignKey("experiments.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("share", sa.Float(), nullable=False),
        sa.Column("is_control", sa.Boolean(), nullable=False),
        sa.Column(
            "model_version_id",
            sa.BigInteger(),
            sa.ForeignKey("model_versions.id", ondelete="SET NULL"),
        ),
        sa.Column("settings", JSONB()),
        sa.Column("stopped_reason", sa.Text()),
        sa.UniqueConstraint("experiment_id", "name", name="uq_experiment_arms_name"),
        sa.CheckConstraint("share >= 0 AND share <= 1", name="ck_experiment_arms_share"),
    )
    op.create_index("ix_experiment_arms_experiment_id", "experiment_arms", ["experiment_id"])
    op.create_table(
        "experiment_looks",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column(
            "experiment_id",
            sa.BigInteger(),
            sa.ForeignKey("experiments.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("arms", JSONB(), nullable=False),
        _created_at(),
    )
    op.create_index("ix_experiment_looks_experiment_id", "experiment_looks", ["experiment_id"])
    op.create_table(
        "experiment_answers",
        sa.Column(
            "log_id",
            sa.BigInteger(),
            sa.ForeignKey("voice_logs.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "arm_id",
            sa.BigInteger(),
            sa.ForeignKey("experiment_arms.id", ondelete="CASCADE"),
            primary_key=True,
        ),
    )
    op.create_index("ix_experiment_answers_arm_id", "experiment_answers", ["arm_id"])
    op.drop_constraint("ck_retraining_runs_status", "retraining_runs", type_="check")
    op.create_check_constraint(
        "ck_retraining_runs_status", "retraining_runs", f"status IN ({_quoted(WITH_CANARY)})"
    )


def downgrade() -> None:
    op.drop_constraint("ck_retraining_runs_status", "retraining_runs", type_="check")
    op.create_check_constraint(
        "ck_retraining_runs_status", "retraining_runs", f"status IN ({_quoted(BEFORE)})"
    )
    op.drop_table("experiment_answers")
    op.drop_table("experiment_looks")
    op.drop_table("experiment_arms")
    op.drop_index("uq_experiments_one_open_per_kind", table_name="experiments")
    op.drop_table("experiments")
