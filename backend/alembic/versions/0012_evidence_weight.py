"""Evidence says what it rests on and how much it weighs: ``answer_evidence.basis/weight``

A rating or a correction weighs 1; what the dialog itself said (thanks, a re-ask, a request
for a person, a re-ask chain that ended in thanks) weighs ``IMPLICIT_EVIDENCE_WEIGHT``.
Rows written before this revision were ratings and corrections.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 02:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BASES = "'rating', 'correction', 'thanks', 're_ask', 'escalation', 're_ask_chain'"


def upgrade() -> None:
    op.add_column(
        "answer_evidence",
        sa.Column("basis", sa.String(length=32), server_default="rating", nullable=False),
    )
    op.add_column(
        "answer_evidence",
        sa.Column("weight", sa.Float(), server_default="1.0", nullable=False),
    )
    op.execute(
        "UPDATE answer_evidence SET basis = 'correction' FROM voice_logs "
        "WHERE voice_logs.id = answer_evidence.log_id "
        "AND voice_logs.corrected_response IS NOT NULL"
    )
    op.create_check_constraint("ck_answer_evidence_basis", "answer_evidence", f"basis IN ({BASES})")
    op.create_check_constraint(
        "ck_answer_evidence_weight", "answer_evidence", "weight > 0 AND weight <= 1"
    )


def downgrade() -> None:
    op.drop_constraint("ck_answer_evidence_weight", "answer_evidence")
    op.drop_constraint("ck_answer_evidence_basis", "answer_evidence")
    op.drop_column("answer_evidence", "weight")
    op.drop_column("answer_evidence", "basis")
