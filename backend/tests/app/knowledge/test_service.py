"""The company knowledge base: parsed from the operators' Markdown, searched by meaning."""

import subprocess
import sys
import threading

import pytest
from sqlalchemy import select

from app.core.errors import InvalidInputError
from app.core.paths import BACKEND_DIR
from app.db.models import KnowledgeEntry
from app.knowledge.service import KnowledgeBase, parse_jsonl, parse_markdown, read_facts

STARTER = BACKEND_DIR / "knowledge" / "company_facts.md"


def test_markdown_bullets_become_facts_titled_by_their_heading():
    facts = parse_markdown("# Памятка\nВступление.\n## Контакты\n- Телефон: 8-800\n- Почта: a@b\n")
    assert [(f.title, f.content) for f in facts] == [
        ("Памятка", "Вступление."),
        ("Контакты", "Телефон: 8-800"),
        ("Контакты", "Почта: a@b"),
    ]


def test_jsonl_facts_need_content():
    assert parse_jsonl('{"title": "Цены", "content": "4800 рублей"}\n')[0].content == "4800 рублей"
    with pytest.raises(InvalidInputError, match="строка 1"):
        parse_jsonl('{"title": "без содержания"}')


def test_an_empty_file_is_refused(tmp_path):
    empty = tmp_path / "empty.md"
    empty.write_text("# только заголовок\n")
    with pytest.raises(InvalidInputError):
        read_facts(empty)


def test_the_shipped_starter_file_covers_the_company_fact_sheet():
    contents = " ".join(f.content for f in read_facts(STARTER))
    for fact in [
        "8-800-555-01-23",
        "4800 рублей",
        "по вторникам и пятницам",
        "в апреле и в сентябре",
    ]:
        assert fact in contents


def test_importing_the_same_file_again_adds_nothing(database, embedder):
    knowledge = KnowledgeBase(embedder)
    with database.transaction() as session:
        first = knowledge.import_file(session, STARTER)
        second = knowledge.import_file(session, STARTER)
        assert first.added == len(read_facts(STARTER)) and first.removed == 0
        assert (second.added, second.removed) == (0, 0)
        assert knowledge.count(session) == first.added


def test_reimporting_an_edited_file_replaces_only_what_changed(database, embedder, tmp_path):
    knowledge = KnowledgeBase(embedder)
    path = tmp_path / "prices.md"
    path.write_text("## Цены\n- Тариф 4800 рублей\n- Скидка 12%\n")
    with database.transaction() as session:
        knowledge.import_file(session, path)
        path.write_text("## Цены\n- Тариф 5200 рублей\n- Скидка 12%\n")
        result = knowledge.import_file(session, path)
        assert (result.added, result.unchanged, result.removed) == (1, 1, 1)


def test_search_finds_the_fact_that_answers_the_question(database, embedder):
    knowledge = KnowledgeBase(embedder)
    with database.transaction() as session:
        knowledge.import_file(session, STARTER)
        found = knowledge.search(
            session, embedder.embed_queries(["номер телефона диспетчерской"])[0], limit=1
        )
    assert "8-800-555-01-23" in found[0].entry.content


def test_cli_imports_a_file_into_the_configured_database(database_url, database, tmp_path):
    path = tmp_path / "extra.jsonl"
    path.write_text('{"title": "Парковка", "content": "Двор убираем по субботам"}\n')
    env = {"DATABASE_URL": database_url, "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "kb", "import", str(path)],
        cwd=BACKEND_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "added 1" in result.stdout
    with database.session() as session:
        from app.db.models import KnowledgeEntry

        assert session.query(KnowledgeEntry).filter_by(source="extra.jsonl").count() == 1


def test_replicas_importing_the_fact_sheet_at_once_store_each_fact_once(database, embedder):
    """Three replicas start together on an empty database: none fails, no fact twice."""
    facts = read_facts(BACKEND_DIR / "knowledge" / "company_facts.md")
    failures: list[BaseException] = []

    def start_up() -> None:
        try:
            with database.transaction() as session:
                KnowledgeBase(embedder).import_facts(session, facts, source="company_facts.md")
        except BaseException as error:
            failures.append(error)

    replicas = [threading.Thread(target=start_up) for _ in range(3)]
    for replica in replicas:
        replica.start()
    for replica in replicas:
        replica.join()
    assert failures == []
    with database.session() as session:
        stored = session.scalars(select(KnowledgeEntry.content_hash)).all()
    assert sorted(stored) == sorted(f.content_hash for f in facts)
