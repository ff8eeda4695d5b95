"""The grounding rule: what a phisher needs is never learned from residents alone.

To turn the cache against residents an attacker needs a way to reach them: a phone, a card
or account number, a link, an e-mail. Residents' ratings can make an answer served, but an
answer carrying such a detail that appears neither in the knowledge base nor in an
operator's answer is held until an operator approves it. Ordinary facts (days, hours,
prices, "2 раза в неделю") are not contact details and stay learnable from residents.
"""

import re
from collections.abc import Iterable

#: Seven digits or more, possibly grouped by spaces, dashes or brackets: a phone, a card,
#: an account or a document number. Dots are left out so that dates stay dates.
_NUMBER = re.compile(r"(?<![\w.])\+?\d[\d \t()\-]{5,}\d(?![\w])")
_ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
_URL = re.compile(
    r"(?:https?://|www\.)[^\s<>«»\"]+"
    r"|\b[\w-]+(?:\.[\w-]+)*\.(?:ru|рф|su|com|net|org|info|io|me|biz|online|site|xyz|top|club|"
    r"pro|example)\b(?:/[^\s<>«»\"]*)?",
    re.IGNORECASE | re.UNICODE,
)
#: A sum of money is a price, not a contact detail.
_MONEY_AFTER = re.compile(r"\s*(?:руб|₽|р\.|тыс|млн|%)", re.IGNORECASE)
MIN_DIGITS = 7
#: Russian phones are written with 8 or +7 in front of the same ten digits.
PHONE_DIGITS = 11


def _number_key(text: str) -> str | None:
    digits = re.sub(r"\D", "", text)
    if len(digits) < MIN_DIGITS:
        return None
    if len(digits) == PHONE_DIGITS and digits[0] in "78":
        digits = digits[1:]
    return f"number:{digits}"


def _url_key(text: str) -> str:
    host_and_path = re.sub(r"^(?:https?://)?(?:www\.)?", "", text.lower()).rstrip("/.,;:!?)")
    return f"url:{host_and_path}"


def contact_details(text: str) -> frozenset[str]:
    """Normalised phones/numbers, e-mails and links in ``text``."""
    found: set[str] = set()
    emails = _EMAIL.findall(text)
    found.update(f"email:{e.lower()}" for e in emails)
    without_emails = _EMAIL.sub(" ", text)
    found.update(_url_key(u) for u in _URL.findall(without_emails))
    plain = _ISO_DATE.sub(" ", without_emails)
    for match in _NUMBER.finditer(plain):
        if _MONEY_AFTER.match(plain, match.end()):
            continue
        key = _number_key(match.group())
        if key:
            found.add(key)
    return frozenset(found)


def without_contact_details(text: str) -> str:
    """``text`` with its e-mails, links and phone-like numbers blanked out, so that what is
    left can be read for other figures without counting a phone's digit groups again."""
    text = _EMAIL.sub(" ", text)
    text = _URL.sub(" ", text)
    return _NUMBER.sub(lambda m: m.group() if _MONEY_AFTER.match(m.string, m.end()) else " ", text)


class TrustedContacts:
    """Every contact detail the company itself published: knowledge-base facts and
    operators' answers."""

    def __init__(self, trusted_texts: Iterable[str]) -> None:
        self.known: frozenset[str] = frozenset().union(
            *(contact_details(text) for text in trusted_texts)
        )

    @classmethod
    def of_known(cls, known: frozenset[str]) -> "TrustedContacts":
        """Contacts already gathered (the matcher index keeps them between updates)."""
        contacts = cls(())
        contacts.known = known
        return contacts

    def ungrounded(self, text: str) -> frozenset[str]:
        """Details of ``text`` the company never published; a link counts as published
        when it extends a published one (``site.example/lk`` under ``site.example``)."""
        return frozenset(
            detail
            for detail in contact_details(text)
            if detail not in self.known and not self._under_known_link(detail)
        )

    def _under_known_link(self, detail: str) -> bool:
        if not detail.startswith("url:"):
            return False
        return any(
            known.startswith("url:") and detail.startswith(known.rstrip("/") + "/")
            for known in self.known
        )
