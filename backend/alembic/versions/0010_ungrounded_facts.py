"""Figures and contact details a generated answer stated without being given them

``voice_logs.ungrounded_facts``: what the grounding guard (``app/answering/
grounding_guard.py``) found in a paid answer that neither its prompt nor the knowledge
base states (a local answer with any is never shown). Null: none found, or the answer
was not generated.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 20:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("voice_logs", sa.Column("ungrounded_facts", postgresql.JSONB(), nullable=True))


def downgrade() -> None:
    op.drop_column("voice_logs", "ungrounded_facts")
