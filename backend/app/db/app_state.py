"""Shared learning state in ``app_state``: a revision that every change to verified answers
moves on (each process refits its matcher when it sees a new one), and the moment the
knowledge base last changed (answers verified before it are stale)."""

from datetime import UTC, datetime

from sqlalchemy import Text, func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from app.db.models import AppState

REVISION_KEY = "verified_revision"
KNOWLEDGE_CHANGED_KEY = "knowledge_changed_at"


def bump_revision(session: Session) -> None:
    statement = insert(AppState).values(key=REVISION_KEY, value="1")
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[AppState.key],
            set_={"value": text("(app_state.value::bigint + 1)::text"), "updated_at": func.now()},
        )
    )


def mark_knowledge_changed(session: Session) -> None:
    """Answers verified before this moment are stale: the facts behind them may differ."""
    # The database's clock, the same one that stamps verified answers.
    now = func.extract("epoch", func.now()).cast(Text)
    statement = insert(AppState).values(key=KNOWLEDGE_CHANGED_KEY, value=now)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[AppState.key], set_={"value": now, "updated_at": func.now()}
        )
    )
    bump_revision(session)


def read_state(session: Session) -> tuple[int, datetime | None]:
    rows = dict(
        session.execute(
            select(AppState.key, AppState.value).where(
                AppState.key.in_([REVISION_KEY, KNOWLEDGE_CHANGED_KEY])
            )
        ).all()
    )
    changed = rows.get(KNOWLEDGE_CHANGED_KEY)
    return (
        int(rows.get(REVISION_KEY, 0)),
        datetime.fromtimestamp(float(changed), UTC) if changed else None,
    )
