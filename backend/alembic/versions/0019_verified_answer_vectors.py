"""A verified answer keeps the vectors of its text (as a question and as an e5 passage),
stored by the process that learnt it: every other replica's matcher reads them instead of
embedding the text again on its first question after the change (0.3–1.0 s of embedding
on a busy 2-core machine, most of what a correction took to reach the other replicas).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-01 18:40:00
"""

from collections.abc import Sequence

import pgvector.sqlalchemy.vector
import sqlalchemy as sa

from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    vector = pgvector.sqlalchemy.vector.VECTOR(dim=384)
    op.add_column("verified_answers", sa.Column("text_vector", vector, nullable=True))
    op.add_column("verified_answers", sa.Column("passage_vector", vector, nullable=True))
    op.add_column("verified_answers", sa.Column("vectors_model", sa.String(200), nullable=True))


def downgrade() -> None:
    op.drop_column("verified_answers", "vectors_model")
    op.drop_column("verified_answers", "passage_vector")
    op.drop_column("verified_answers", "text_vector")
