"""Spoken questions: ``voice_logs.asr_confidence`` is the recogniser's confidence in the
transcript that ``user_message`` holds (empty for typed questions).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("voice_logs", sa.Column("asr_confidence", sa.Float(), nullable=True))


def downgrade() -> None:
    op.drop_column("voice_logs", "asr_confidence")
