"""Replicas keep their matchers in step by updating only what a revision changed.

Two apps on one database stand for two replicas: what an operator does through one is
served by the other on its next question, by an update of the changed answers, and the
updated matcher decides as a reload from scratch would.
"""

import time
from datetime import timedelta

from sqlalchemy import text

from app.verified_answers.index import VerifiedAnswerIndex, forget_old_changes
from tests.support.dialog import BOT_ADMIN_KEY, BOT_OPERATOR, ask, correct

WINDOWS = "Окна в подъездах моем 2 раза в год — в апреле и в сентябре."
PHONE = "Телефон диспетчерской: 8-800-555-01-23, ежедневно с 8:00 до 20:00."
PROBES = [
    "Когда будут мыть окна в подъезде?",
    "как часто моют окна",
    "Как позвонить диспетчеру?",
    "номер диспетчерской",
    "когда вывозят мусор",
]


def replicas(make_llm_client, llm_server, count=2):
    llm_server.behaviour.reply = "Уточните, пожалуйста, в управляющей компании."
    return [make_llm_client(ADMIN_API_KEY=BOT_ADMIN_KEY) for _ in range(count)]


def index_of(client) -> VerifiedAnswerIndex:
    return client.app.state.services.index


def decisions(client, database, index: VerifiedAnswerIndex) -> list[str | None]:
    embedder = client.app.state.services.pipeline.embeddings
    with database.session() as session:
        matcher = index.current(session)
        return [
            (
                d.candidate.text
                if (d := matcher.decide(embedder.question_vector(q), q)).serve
                else None
            )
            for q in PROBES
        ]


def fresh_index(client) -> VerifiedAnswerIndex:
    own = index_of(client)
    return VerifiedAnswerIndex(own.embeddings, own.thresholds, own.max_age.days, own.min_sessions)


def test_a_correction_through_one_replica_is_served_by_another_after_an_update(
    make_llm_client, llm_server, database
):
    a, b = replicas(make_llm_client, llm_server)
    ask(b, "когда вывозят мусор")  # b loads its matcher once, from scratch
    assert index_of(b).last_refresh.full

    correct(a, ask(a, "Когда будут мыть окна в подъезде?")["log_id"], WINDOWS)
    correct(a, ask(a, "Как позвонить диспетчеру?")["log_id"], PHONE)

    reply = ask(b, "Когда будут мыть окна в подъезде?")
    assert reply["answer_source"] == "cache" and reply["response"] == WINDOWS
    refresh = index_of(b).last_refresh
    assert not refresh.full and 1 <= refresh.changed <= 2
    assert decisions(b, database, index_of(b)) == decisions(b, database, fresh_index(b))
    assert decisions(b, database, index_of(b))[:4] == [WINDOWS, WINDOWS, PHONE, PHONE]


class CountingEmbedder:
    """The replica's embedder, noting every text it is asked to embed."""

    def __init__(self, real) -> None:
        self.real = real
        self.texts: list[str] = []

    def __getattr__(self, name: str):
        return getattr(self.real, name)

    def embed_queries(self, texts):
        self.texts.extend(texts)
        return self.real.embed_queries(texts)

    def embed_passages(self, texts):
        self.texts.extend(texts)
        return self.real.embed_passages(texts)


def test_a_replica_reads_a_new_answers_vectors_from_the_database_instead_of_embedding_it(
    make_llm_client, llm_server, database, monkeypatch
):
    a, b = replicas(make_llm_client, llm_server)
    ask(b, "когда вывозят мусор")
    counting = CountingEmbedder(index_of(b).embeddings.embedder)
    monkeypatch.setattr(index_of(b).embeddings, "embedder", counting)

    correct(a, ask(a, "Когда будут мыть окна в подъезде?")["log_id"], WINDOWS)
    reply = ask(b, "Когда будут мыть окна в подъезде?")

    assert reply["answer_source"] == "cache" and reply["response"] == WINDOWS
    assert WINDOWS not in counting.texts, "the answer's vectors came with the answer"
    assert decisions(b, database, index_of(b)) == decisions(b, database, fresh_index(b))


def test_an_operators_withdrawal_leaves_every_replica_at_its_next_question(
    make_llm_client, llm_server, database
):
    a, b = replicas(make_llm_client, llm_server)
    correct(a, ask(a, "Как позвонить диспетчеру?")["log_id"], PHONE)
    assert ask(b, "Как позвонить диспетчеру?")["answer_source"] == "cache"
    listed = a.get("/api/voice/verified-answers", headers=BOT_OPERATOR).json()
    [phone] = [item for item in listed if item["answer_text"] == PHONE]
    withdrawn = a.post(
        f"/api/voice/verified-answers/{phone['id']}/withdraw",
        json={"operator": "Ирина"},
        headers=BOT_OPERATOR,
    )
    assert withdrawn.status_code == 200, withdrawn.text

    assert ask(b, "Как позвонить диспетчеру?")["answer_source"] != "cache"
    assert not index_of(b).last_refresh.full
    assert decisions(b, database, index_of(b)) == decisions(b, database, fresh_index(b))


def test_a_knowledge_change_or_a_revision_going_back_reloads_from_scratch(
    make_llm_client, llm_server, database
):
    a, b = replicas(make_llm_client, llm_server)
    correct(a, ask(a, "Как позвонить диспетчеру?")["log_id"], PHONE)
    ask(b, "Как позвонить диспетчеру?")
    fact = {"title": "Мусор", "content": "Мусор вывозим ежедневно до 9:00."}
    added = a.post("/api/voice/knowledge", json=fact, headers=BOT_OPERATOR)
    assert added.status_code in (200, 201), added.text
    ask(b, "когда вывозят мусор")
    assert index_of(b).last_refresh.full, "facts are classes: a knowledge change reloads"

    with database.session() as session, session.begin():
        session.execute(text("UPDATE app_state SET value = '1' WHERE key = 'verified_revision'"))
    ask(b, "когда вывозят мусор")
    assert index_of(b).last_refresh.full, "a revision that went back (a restore) reloads"


def test_the_change_log_keeps_a_day_and_the_schedule_drops_the_rest(bot, llm_server, database):
    correct(bot, ask(bot, "Как позвонить диспетчеру?")["log_id"], PHONE)
    with database.session() as session, session.begin():
        noted = session.scalar(text("SELECT count(*) FROM verified_answer_changes"))
        assert noted >= 1, "the triggers note what a correction changed"
        session.execute(
            text("UPDATE verified_answer_changes SET changed_at = now() - interval '25 hours'")
        )
    correct(bot, ask(bot, "Когда будут мыть окна в подъезде?")["log_id"], WINDOWS)
    with database.session() as session, session.begin():
        assert forget_old_changes(session) == noted
        assert session.scalar(text("SELECT count(*) FROM verified_answer_changes")) >= 1


def test_an_answer_ages_out_at_its_time_without_any_change(make_llm_client, llm_server, database):
    (a,) = replicas(make_llm_client, llm_server, count=1)
    correct(a, ask(a, "Как позвонить диспетчеру?")["log_id"], PHONE)
    index = fresh_index(a)
    index.max_age = timedelta(seconds=3)  # CACHE_MAX_AGE_DAYS, shortened
    assert decisions(a, database, index)[2] == PHONE
    time.sleep(3.5)
    assert decisions(a, database, index)[2] is None, "stale answers are not served"
    assert not index.last_refresh.full and index.last_refresh.changed == 1
