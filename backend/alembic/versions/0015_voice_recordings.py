"""Recordings of spoken questions, kept only with ``STORE_AUDIO=true`` and purged after
``AUDIO_RETENTION_DAYS``: one WAV per log, deleted with it.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "voice_recordings",
        sa.Column(
            "log_id",
            sa.BigInteger(),
            sa.ForeignKey("voice_logs.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("wav", sa.LargeBinary(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
    )
    op.create_index("ix_voice_recordings_created_at", "voice_recordings", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_voice_recordings_created_at", table_name="voice_recordings")
    op.drop_table("voice_recordings")
