"""Personal data out of residents' text, before any of it leaves the database.

Phone numbers, e-mails, apartment numbers and street addresses are found by patterns;
personal names by natasha's Russian NER (slovnet, shipped inside the PyPI wheels, no
download). Each is replaced by a typed placeholder, so a model trained on the result
learns that "a phone goes here" without ever seeing one.
"""

import logging
import re
import threading
from functools import cached_property

PHONE = "[ТЕЛЕФОН]"
EMAIL = "[EMAIL]"
APARTMENT = "[КВАРТИРА]"
ADDRESS = "[АДРЕС]"
NAME = "[ИМЯ]"

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# +7 912 345-67-89, 8 (912) 3456789, 8-800-555-01-23, 89123456789 …
_PHONE = re.compile(r"(?<![\w-])(?:\+7|8)[\s(-]*\d{3}[\s)-]*\d{3}[\s-]*\d{2}[\s-]*\d{2}(?!\d)")
_APARTMENT = re.compile(r"\b(?:кв\.?|квартир[аеуыой]{0,2})\s*№?\s*\d+[а-я]?\b", re.IGNORECASE)
_STREET = (
    r"(?:ул\.?|улиц[аеуы]|пр-?т\.?|просп\.?|проспект[аеу]?|пер\.?|переул(?:ок|ке|ка)|"
    r"б-р|бульвар[аеу]?|ш\.|шоссе|наб\.?|набережн(?:ая|ой|ую)|пл\.?|площад[ьи])"
)
_ADDRESS = re.compile(
    rf"\b{_STREET}\s+[А-ЯЁA-Z0-9][\w.-]*(?:\s+[А-ЯЁ][\w-]*)?"
    r"(?:,?\s*(?:д\.?|дом)?\s*№?\s*\d+[а-я]?(?:\s*(?:к|корп\.?|стр\.?)\s*\d+)?)?",
    re.IGNORECASE,
)
_HOUSE = re.compile(r"\b(?:д\.|дом)\s*№?\s*\d+[а-я]?\b", re.IGNORECASE)
# NER finds names only in capitalised words; text without one skips the model.
_MAYBE_NAME = re.compile(r"\b[А-ЯЁ][а-яё]+")


class PiiScrubber:
    """Thread-safe; the NER model loads on first use (about a second).

    ``keep`` lists public strings that look personal but are not: the company's own phone
    numbers and addresses from the knowledge base, which answers must keep."""

    def __init__(self, *, names: bool = True, keep: frozenset[str] = frozenset()) -> None:
        self._names = names
        self._keep = keep
        self._lock = threading.Lock()

    def _replace(self, pattern: re.Pattern, placeholder: str, text: str) -> str:
        return pattern.sub(lambda m: m.group(0) if m.group(0) in self._keep else placeholder, text)

    @cached_property
    def _ner(self):
        from natasha import NewsEmbedding, NewsNERTagger, Segmenter

        return Segmenter(), NewsNERTagger(NewsEmbedding())

    def scrub(self, text: str) -> str:
        text = self._replace(_EMAIL, EMAIL, text)
        text = self._replace(_PHONE, PHONE, text)
        text = self._replace(_ADDRESS, ADDRESS, text)
        text = self._replace(_APARTMENT, APARTMENT, text)
        text = self._replace(_HOUSE, ADDRESS, text)
        if self._names and _MAYBE_NAME.search(text):
            text = self._scrub_names(text)
        return text

    def _scrub_names(self, text: str) -> str:
        from natasha import Doc

        with self._lock:
            segmenter, tagger = self._ner
            doc = Doc(text)
            doc.segment(segmenter)
            doc.tag_ner(tagger)
        for span in sorted(doc.spans, key=lambda s: s.start, reverse=True):
            if span.type == "PER":
                text = text[: span.start] + NAME + text[span.stop :]
        return text


def public_strings(texts: list[str]) -> frozenset[str]:
    """Phone numbers and e-mails published in ``texts`` (the knowledge base)."""
    found: set[str] = set()
    for text in texts:
        found.update(m.group(0) for m in _PHONE.finditer(text))
        found.update(m.group(0) for m in _EMAIL.finditer(text))
    return frozenset(found)


class RedactingFilter(logging.Filter):
    """A log-handler filter: configured secrets become ``***`` and phone numbers, e-mails,
    apartments and addresses their placeholders (patterns only — no NER on the log path),
    in the message and in any traceback, before the line is written anywhere."""

    def __init__(self, secrets: list[str | None]) -> None:
        super().__init__()
        self.secrets = [secret for secret in secrets if secret and len(secret) >= 4]
        self.scrubber = PiiScrubber(names=False)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return self.scrubber.scrub(text)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = self.redact(record.getMessage()), None
        if record.exc_info:
            record.exc_text = self.redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True
