"""Log lines never carry residents' contacts or the configured secrets, tracebacks included."""

import io
import logging

from app.core.pii import RedactingFilter


def captured_logger(secrets: list[str | None]) -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter(secrets))
    logger = logging.getLogger(f"redaction-test-{id(stream)}")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return logger, stream


def test_contacts_and_secrets_are_masked_in_messages_and_tracebacks():
    logger, stream = captured_logger(["sk-live-123456", None, "ab"])
    logger.info("question from %s: звоните +7 912 345-67-89", "ivan@mail.ru")
    logger.info("calling the LLM with key sk-live-123456")
    try:
        raise ValueError("кв. 12, ул. Ленина, д. 5 — жалоба")
    except ValueError:
        logger.exception("could not store the log")

    text = stream.getvalue()
    for leaked in ("ivan@mail.ru", "345-67-89", "sk-live-123456", "кв. 12", "Ленина"):
        assert leaked not in text
    for placeholder in ("[EMAIL]", "[ТЕЛЕФОН]", "***", "[КВАРТИРА]", "ValueError"):
        assert placeholder in text


def test_short_or_missing_secrets_do_not_blank_out_ordinary_words():
    logger, stream = captured_logger(["ab", ""])
    logger.info("about a cab")
    assert stream.getvalue().strip() == "about a cab"
