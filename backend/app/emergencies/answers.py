"""The emergency entry of the knowledge base: what each kind of emergency is answered with.

``knowledge/emergency.md`` has a section per kind (the kind's code in brackets in its
heading) and a common one added to every answer: the numbers 112, 101, 104 and 103 and the
company's dispatcher. Operators may reword it; a file that is missing, unreadable or lacks
a kind never leaves an emergency unanswered: the built-in text below stands in, logged.
"""

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from app.emergencies.detector import KINDS

logger = logging.getLogger(__name__)

COMMON = "common"
_SECTION = re.compile(r"^#{2,6}\s+.*\((\w+)\)\s*$")
_BULLET = re.compile(r"^\s*[-*+]\s+(.*)$")

BUILT_IN = MappingProxyType(
    {
        "gas": "Похоже на утечку газа: не включайте свет и не пользуйтесь огнём, выйдите на "
        "улицу и позвоните в аварийную газовую службу — 104 (или 112).",
        "fire": "Похоже на пожар: покиньте подъезд, не пользуйтесь лифтом и позвоните в "
        "пожарную охрану — 101 (или 112).",
        "flood": "Похоже на прорыв трубы: позвоните в аварийную службу управляющей компании "
        "или по номеру 112.",
        "lift": "Если застряли в лифте: нажмите кнопку вызова диспетчера в кабине и не "
        "выбирайтесь сами; если связи нет — звоните 112.",
        "electricity": "Не прикасайтесь к проводам и щитку, позвоните в аварийную службу "
        "управляющей компании или по номеру 112.",
        "person": "Сразу звоните в скорую помощь — 103 (или 112) и оставайтесь рядом.",
        COMMON: "Единый номер экстренных служб — 112. Диспетчерская «ВасДом»: 8-800-555-01-23.",
    }
)


@dataclass(frozen=True)
class EmergencyAnswers:
    sections: dict[str, str] = field(default_factory=lambda: dict(BUILT_IN))

    @classmethod
    def load(cls, path: Path) -> "EmergencyAnswers":
        try:
            parsed = parse_sections(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as error:
            logger.error("emergency answers unreadable (%s); the built-in text answers", error)
            return cls()
        missing = [kind for kind in (*KINDS, COMMON) if kind not in parsed]
        if missing:
            logger.error("emergency answers lack %s; the built-in text answers them", missing)
        return cls(dict(BUILT_IN) | parsed)

    def answer(self, kind: str) -> str:
        return f"{self.sections.get(kind, '')}\n\n{self.sections[COMMON]}".strip()


def parse_sections(markdown: str) -> dict[str, str]:
    """kind → the section's bullets joined (headings without a code in brackets skipped)."""
    sections: dict[str, list[str]] = {}
    current: str | None = None
    for line in markdown.splitlines():
        heading = _SECTION.match(line)
        if heading:
            current = heading.group(1).lower()
            sections.setdefault(current, [])
            continue
        bullet = _BULLET.match(line)
        if current is not None and bullet:
            sections[current].append(bullet.group(1).strip())
    return {kind: " ".join(lines) for kind, lines in sections.items() if lines}
