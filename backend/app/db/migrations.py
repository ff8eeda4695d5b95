"""Run Alembic migrations from code, so start-up and ``alembic upgrade head`` share one path."""

from alembic.config import Config

from alembic import command
from app.core.paths import BACKEND_DIR


def alembic_config(database_url: str | None = None) -> Config:
    config = Config(str(BACKEND_DIR / "alembic.ini"))
    config.set_main_option("script_location", str(BACKEND_DIR / "alembic"))
    if database_url:
        config.attributes["database_url"] = database_url
    return config


def upgrade_to_head(database_url: str) -> None:
    command.upgrade(alembic_config(database_url), "head")
