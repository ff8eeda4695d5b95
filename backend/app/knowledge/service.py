"""The company knowledge base: facts operators write, searched by meaning.

Files are Markdown (each bullet or paragraph is one fact, titled by its heading) or JSONL
(``{"title": ..., "content": ...}`` a line). Importing a file again replaces that file's
facts and keeps the unchanged ones, so editing the file and re-importing is the workflow.
"""

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.core.errors import ConflictError, InvalidInputError, NotFoundError
from app.db.app_state import mark_knowledge_changed
from app.db.models import KnowledgeEntry
from app.embeddings.service import Embedder

_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
_BULLET = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+(.*)$")


@dataclass(frozen=True)
class KnowledgeFact:
    title: str
    content: str

    @property
    def passage(self) -> str:
        """What gets embedded: the heading gives a bare bullet its topic."""
        return f"{self.title}: {self.content}" if self.title else self.content

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(f"{self.title}\n{self.content}".encode()).hexdigest()


@dataclass(frozen=True)
class ImportResult:
    added: int
    unchanged: int
    removed: int


@dataclass(frozen=True)
class FoundFact:
    entry: KnowledgeEntry
    similarity: float


def parse_markdown(text: str) -> list[KnowledgeFact]:
    facts: list[KnowledgeFact] = []
    title = ""
    for raw_line in text.splitlines():
        line = raw_line.strip()
        if not line:
            continue
        if heading := _HEADING.match(line):
            title = heading.group(2).strip()
        elif bullet := _BULLET.match(line):
            facts.append(KnowledgeFact(title, bullet.group(1).strip()))
        else:
            facts.append(KnowledgeFact(title, line))
    return facts


def parse_jsonl(text: str) -> list[KnowledgeFact]:
    facts = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            facts.append(KnowledgeFact(str(record.get("title", "")), str(record["content"])))
        except (json.JSONDecodeError, KeyError, AttributeError) as error:
            raise InvalidInputError(
                f"строка {number}: нужен JSON с полем content ({error})"
            ) from error
    return facts


def read_facts(path: Path) -> list[KnowledgeFact]:
    text = path.read_text(encoding="utf-8")
    facts = (
        parse_jsonl(text) if path.suffix.lower() in {".jsonl", ".json"} else parse_markdown(text)
    )
    if not facts:
        raise InvalidInputError(f"в файле {path} нет ни одного факта")
    return facts


#: ``source`` of facts written in the operator console (imports use their file name).
OPERATOR_SOURCE = "operator"


class KnowledgeEntryNotFoundError(NotFoundError):
    def __init__(self, entry_id: int) -> None:
        super().__init__(f"Факт базы знаний {entry_id} не найден")


class KnowledgeBase:
    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder

    def import_facts(self, session: Session, facts: Sequence[KnowledgeFact], source: str):
        """Make ``source``'s facts exactly ``facts``; embed only what is new.

        Replicas starting together all import the fact sheet: they take turns (a lock per
        source until commit), and each after the first finds the facts already there."""
        session.execute(select(func.pg_advisory_xact_lock(func.hashtext(f"knowledge:{source}"))))
        wanted = {fact.content_hash: fact for fact in facts}
        existing = set(
            session.scalars(
                select(KnowledgeEntry.content_hash).where(KnowledgeEntry.source == source)
            )
        )
        stale = existing - wanted.keys()
        if stale:
            session.execute(
                delete(KnowledgeEntry).where(
                    KnowledgeEntry.source == source, KnowledgeEntry.content_hash.in_(stale)
                )
            )
        new = [fact for digest, fact in wanted.items() if digest not in existing]
        if new:
            vectors = self.embedder.embed_passages([fact.passage for fact in new])
            session.add_all(
                KnowledgeEntry(
                    title=fact.title,
                    content=fact.content,
                    source=source,
                    content_hash=fact.content_hash,
                    embedding=vector,
                    embedding_model=self.embedder.name,
                )
                for fact, vector in zip(new, vectors, strict=True)
            )
        if new or stale:
            mark_knowledge_changed(session)
        session.flush()
        return ImportResult(added=len(new), unchanged=len(wanted) - len(new), removed=len(stale))

    def import_file(self, session: Session, path: Path) -> ImportResult:
        return self.import_facts(session, read_facts(path), source=path.name)

    def add(self, session: Session, fact: KnowledgeFact, source: str = OPERATOR_SOURCE):
        """One fact written in the operator console; an identical one is returned as is."""
        existing = session.scalar(
            select(KnowledgeEntry).where(
                KnowledgeEntry.source == source, KnowledgeEntry.content_hash == fact.content_hash
            )
        )
        if existing is not None:
            return existing
        entry = KnowledgeEntry(title=fact.title, content=fact.content, source=source,
                               content_hash=fact.content_hash)  # fmt: skip
        self._embed(entry)
        session.add(entry)
        mark_knowledge_changed(session)
        session.flush()
        return entry

    def update(self, session: Session, entry_id: int, fact: KnowledgeFact) -> KnowledgeEntry:
        """409 when the new text is already another entry of the same source."""
        entry = self._get(session, entry_id)
        duplicate = session.scalar(
            select(KnowledgeEntry.id).where(
                KnowledgeEntry.source == entry.source,
                KnowledgeEntry.content_hash == fact.content_hash,
                KnowledgeEntry.id != entry_id,
            )
        )
        if duplicate is not None:
            raise ConflictError(f"Такой факт уже есть: запись {duplicate}")
        entry.title, entry.content, entry.content_hash = fact.title, fact.content, fact.content_hash
        self._embed(entry)
        mark_knowledge_changed(session)
        session.flush()
        return entry

    def remove(self, session: Session, entry_id: int) -> None:
        session.delete(self._get(session, entry_id))
        mark_knowledge_changed(session)
        session.flush()

    def entries(self, session: Session) -> list[KnowledgeEntry]:
        return list(
            session.scalars(
                select(KnowledgeEntry).order_by(KnowledgeEntry.source, KnowledgeEntry.id)
            )
        )

    def _get(self, session: Session, entry_id: int) -> KnowledgeEntry:
        entry = session.get(KnowledgeEntry, entry_id, with_for_update=True)
        if entry is None:
            raise KnowledgeEntryNotFoundError(entry_id)
        return entry

    def _embed(self, entry: KnowledgeEntry) -> None:
        passage = KnowledgeFact(entry.title, entry.content).passage
        entry.embedding = self.embedder.embed_passages([passage])[0]
        entry.embedding_model = self.embedder.name

    def count(self, session: Session) -> int:
        return session.scalar(select(func.count()).select_from(KnowledgeEntry)) or 0

    def reembed_stale(self, session: Session) -> int:
        """Give entries embedded by another model a vector of the active one."""
        stale = session.scalars(
            select(KnowledgeEntry).where(
                KnowledgeEntry.embedding_model.is_distinct_from(self.embedder.name)
            )
        ).all()
        if stale:
            passages = [KnowledgeFact(e.title, e.content).passage for e in stale]
            for entry, vector in zip(stale, self.embedder.embed_passages(passages), strict=True):
                entry.embedding = vector
                entry.embedding_model = self.embedder.name
            session.flush()
        return len(stale)

    def search(self, session: Session, question_vector: np.ndarray, limit: int) -> list[FoundFact]:
        distance = KnowledgeEntry.embedding.cosine_distance(question_vector)
        rows = session.execute(
            select(KnowledgeEntry, (1 - distance).label("similarity"))
            .where(KnowledgeEntry.embedding_model == self.embedder.name)
            .order_by(distance)
            .limit(limit)
        )
        return [FoundFact(entry, float(similarity)) for entry, similarity in rows]
