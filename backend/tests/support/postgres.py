"""Embedded PostgreSQL servers owned by tests, stopped and started as an operator would."""

from pathlib import Path

from app.db.embedded import control_embedded_postgres


def stop_embedded(pgdata: Path) -> None:
    control_embedded_postgres("stop", pgdata.parent)


def start_embedded(pgdata: Path) -> None:
    control_embedded_postgres("start", pgdata.parent)
