"""Who asked, and which answers an operator has looked at

* ``voice_logs.client_key``: a keyed hash of the client's network (its IPv4 address, or
  the /64 of an IPv6 one) as the service saw it behind the configured trusted proxies.
  Votes for and against a verified answer, metrics and training exports count distinct
  clients by it; session ids are chosen by clients and prove nothing. Older logs have
  none and count by their conversation, as they did before.
* ``voice_logs.conversation_bound``: the question came with the conversation's
  server-issued token (or opened the conversation). Only such turns, and the same
  client's own, are shown to the model as the conversation's history.
* ``verified_answers.served_since`` (first time the answer met the serving rule) and
  ``reviewed_by`` / ``reviewed_at`` (an operator approved a residents' answer): the
  operators' queue of newly verified answers.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 18:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("voice_logs", sa.Column("client_key", sa.String(32), nullable=True))
    op.add_column(
        "voice_logs",
        sa.Column("conversation_bound", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_index("ix_voice_logs_client_key", "voice_logs", ["client_key"])
    op.add_column(
        "verified_answers", sa.Column("served_since", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column("verified_answers", sa.Column("reviewed_by", sa.String(200), nullable=True))
    op.add_column(
        "verified_answers", sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True)
    )
    # Operators' answers were trusted from the start.
    op.execute("UPDATE verified_answers SET served_since = created_at WHERE kind = 'corrected'")


def downgrade() -> None:
    op.drop_column("verified_answers", "reviewed_at")
    op.drop_column("verified_answers", "reviewed_by")
    op.drop_column("verified_answers", "served_since")
    op.drop_index("ix_voice_logs_client_key", table_name="voice_logs")
    op.drop_column("voice_logs", "conversation_bound")
    op.drop_column("voice_logs", "client_key")
