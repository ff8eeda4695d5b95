"""The secret that signs feedback and conversation tokens gets a table of its own, whose
rows ``python -m app.cli backup`` never writes: whoever reads a backup must not be able to
forge tokens. (The secret already in ``app_state`` stays there and keys clients only: the
client keys stored beside every log must stay the same after a restore.)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "token_secrets",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
    )


def downgrade() -> None:
    op.drop_table("token_secrets")
