"""Courtesy in a resident's message: asking for a person, or a short thanks that closes
the conversation. Deliberately narrow: a false "thanks" counts for an answer that did not
help, a missed one only costs a little learning."""

import re

_PERSON = (
    r"(?:оператор\w*|диспетчер\w*|менеджер\w*|человек\w*|сотрудник\w*|специалист\w*|"
    r"администратор\w*|жив\w+\s+человек\w*|кем-нибудь\s+из\s+люд\w*)"
)
_ASKING = (
    r"(?:соедини\w*|переключи\w*|позови\w*|позвать|свяжите|дайте|дай|нужен|нужна|"
    r"хочу|можно|пригласи\w*|передайте|верните)"
)
_ESCALATION = (
    re.compile(rf"\b{_ASKING}\b(?:\W+\w+){{0,3}}?\W+(?:с\s+|со\s+)?{_PERSON}"),
    re.compile(rf"\b(?:телефон\w*|номер\w*|контакт\w*)\b(?:\W+\w+){{0,2}}?\W+{_PERSON}"),
    re.compile(rf"^\W*{_PERSON}\W*$"),
    re.compile(r"\b(?:поговорить|говорить)\s+с\s+(?:человек\w*|живым)"),
)
#: A closing message is made of these words only ("спасибо большое, всё понятно")…
_CLOSURE_TEXT = (
    "спасибо спс благодарю благодарим большое огромное понятно ясно понял поняла поняли "
    "отлично хорошо супер ок окей ага да класс здорово все теперь вам тебе за ответ "
    "информацию помощь буду знать учту разобрался разобралась"
)
_CLOSURE_WORDS = frozenset(_CLOSURE_TEXT.split())
#: …and starts with one of these.
_OPENERS_TEXT = (
    "спасибо спс благодарю благодарим понятно ясно понял поняла отлично хорошо "
    "супер ок окей ага все теперь"
)
_CLOSURE_OPENERS = frozenset(_OPENERS_TEXT.split())
MAX_THANKS_WORDS = 6
_WORD = re.compile(r"\w+")


def normal(text: str) -> str:
    return text.lower().replace("ё", "е").strip()


def asks_for_a_person(message: str) -> str | None:
    """The phrase asking for a dispatcher, operator, manager or a human, if any."""
    text = normal(message)
    for pattern in _ESCALATION:
        found = pattern.search(text)
        if found:
            return found.group(0).strip(" !?.,")
    return None


def says_thanks(message: str) -> str | None:
    """A short closing message ("спасибо, понятно") with nothing else in it: no question,
    no "но", no new topic ("хорошо бы мыть чаще" is not thanks)."""
    words = _WORD.findall(normal(message))
    if not words or len(words) > MAX_THANKS_WORDS or "?" in message:
        return None
    if words[0] in _CLOSURE_OPENERS and all(w in _CLOSURE_WORDS for w in words):
        return " ".join(words)
    return None
