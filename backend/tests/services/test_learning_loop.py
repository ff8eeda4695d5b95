"""The learning loop: ratings and operator corrections change the very next answers.

Everything runs against the real database, the bundled embedder and a real
OpenAI-compatible server on 127.0.0.1 that plays the paid model.
"""

import contextlib
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from app.db.models import VerifiedAnswer, VoiceFeedback, VoiceLog
from tests.support.feedback import rate as send_rating
from tests.support.logs import add_log

ADMIN_KEY = "operator-secret"
OPERATOR = {"Authorization": f"Bearer {ADMIN_KEY}"}
WINDOWS_ANSWER = (
    "Окна в подъездах мы моем 2 раза в год — в апреле и в сентябре. Дату мойки заранее "
    "вывешиваем на информационном стенде у входа."
)


@pytest.fixture
def bot(make_llm_client):
    """The service with the paid model and operator endpoints enabled."""
    return make_llm_client(ADMIN_API_KEY=ADMIN_KEY)


def ask(client, message, session_id=None):
    response = client.post(
        "/api/voice/process", json={"message": message, "session_id": session_id}
    )
    assert response.status_code == 200, response.text
    return response.json()


def rate(client, answer, rating):
    response = send_rating(client, answer, rating)
    assert response.status_code == 200, response.text


def correct(client, log_id, text, operator="Ирина"):
    response = client.post(
        f"/api/voice/logs/{log_id}/correction",
        json={"corrected_response": text, "operator": operator},
        headers=OPERATOR,
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_a_corrected_answer_is_served_from_cache_for_the_same_question_and_a_paraphrase(
    bot, llm_server, database
):
    llm_server.behaviour.reply = "Не знаю, уточните в управляющей компании."
    first = ask(bot, "Когда будут мыть окна в подъезде?")
    rate(bot, first, 1)
    correct(bot, first["log_id"], WINDOWS_ANSWER)
    calls = len(llm_server.chat_requests())

    again = ask(bot, "Когда будут мыть окна в подъезде?")
    paraphrase = ask(bot, "Подскажите график мытья окон в подъездах")

    for reply in (again, paraphrase):
        assert reply["response"] == WINDOWS_ANSWER
        assert reply["model_used"] == "cache"
        assert reply["answer_source"] == "cache"
        assert reply["source_log_id"] == first["log_id"]
    assert len(llm_server.chat_requests()) == calls, "no model call for verified answers"
    with database.session() as session:
        log = session.get(VoiceLog, first["log_id"])
        assert log.ai_response == "Не знаю, уточните в управляющей компании."
        assert log.corrected_response == WINDOWS_ANSWER
        assert log.corrected_by == "Ирина"
        assert log.training_example is True
        cached = session.get(VoiceLog, again["log_id"])
        assert cached.answer_source == "cache"


DISPATCHER = "Телефон диспетчерской: 8-800-555-01-23, с 8:00 до 20:00."


def test_one_conversation_cannot_verify_an_answer_by_itself(bot, llm_server):
    llm_server.behaviour.reply = DISPATCHER
    first = ask(bot, "Как позвонить диспетчеру?", "flat-1")
    rate(bot, first, 5)
    again = ask(bot, "Как позвонить диспетчеру?", "flat-1")
    assert again["answer_source"] == "llm", "one conversation's 5 is not enough"
    rate(bot, again, 5)  # the same conversation agreeing twice still counts once
    assert ask(bot, "Как позвонить диспетчеру?", "flat-2")["answer_source"] == "llm"

    second = ask(bot, "Как позвонить диспетчеру?", "flat-3")
    rate(bot, second, 5)  # a second conversation agrees: verified
    cached = ask(bot, "Как позвонить диспетчеру?", "flat-4")
    assert cached["model_used"] == "cache" and cached["response"] == DISPATCHER


def test_a_verified_answer_is_withdrawn_only_when_distinct_conversations_refuse_it(
    bot, llm_server, database
):
    llm_server.behaviour.reply = DISPATCHER
    for flat in ("flat-1", "flat-2"):
        rate(bot, ask(bot, "Как позвонить диспетчеру?", flat), 5)

    refused_once = ask(bot, "Как позвонить диспетчеру?", "flat-3")
    assert refused_once["model_used"] == "cache"
    rate(bot, refused_once, 1)
    with database.session() as session:
        assert session.scalars(select(VerifiedAnswer.withdrawn_at)).one() is None

    served = ask(bot, "Как позвонить диспетчеру?", "flat-4")
    assert served["model_used"] == "cache"
    rate(bot, served, 2)
    with database.session() as session:
        assert session.scalars(select(VerifiedAnswer.withdrawn_at)).one() is not None

    llm_server.behaviour.reply = "Новый ответ модели."
    after = ask(bot, "Как позвонить диспетчеру?", "flat-5")
    assert after["answer_source"] == "llm"
    assert after["response"] == "Новый ответ модели."
    # ... and the refused answer is not offered to the model as an approved example either.
    prompt = llm_server.chat_requests()[-1]["messages"]
    assert not any(m["role"] == "assistant" and DISPATCHER in m["content"] for m in prompt)


def test_rating_again_replaces_a_five_and_withdraws_what_it_verified(bot, llm_server, database):
    llm_server.behaviour.reply = "Ответ, который сначала понравился."
    first = ask(bot, "Во сколько приходит уборщица?")
    rate(bot, first, 5)
    rate(bot, first, 2)
    assert ask(bot, "Во сколько приходит уборщица?")["answer_source"] == "llm"
    with database.session() as session:
        verified = session.scalars(select(VerifiedAnswer)).one()
        assert verified.withdrawn_at is not None


def test_a_cached_answer_refused_for_another_question_stays_for_its_own(bot, llm_server):
    llm_server.behaviour.reply = "Не знаю."
    first = ask(bot, "Когда будут мыть окна в подъезде?")
    correct(bot, first["log_id"], WINDOWS_ANSWER)
    served = ask(bot, "Подскажите график мытья окон в подъездах")
    assert served["model_used"] == "cache"
    rate(bot, served, 1)

    assert ask(bot, "Подскажите график мытья окон в подъездах")["answer_source"] != "cache"
    assert ask(bot, "Когда будут мыть окна в подъезде?")["model_used"] == "cache"


def test_near_identical_wording_with_another_meaning_is_not_served(bot, llm_server):
    first = ask(bot, "Когда моют окна в подъезде?")
    correct(bot, first["log_id"], WINDOWS_ANSWER)
    assert ask(bot, "Когда моют окна в подъезде?")["model_used"] == "cache"

    floors = ask(bot, "Когда моют полы в подъезде?")
    assert floors["model_used"] != "cache"
    assert floors["response"] != WINDOWS_ANSWER


def test_a_follow_up_is_answered_with_the_session_not_from_cache(bot, llm_server):
    first = ask(bot, "Сколько стоит уборка подъезда?")
    correct(bot, first["log_id"], "Уборка подъезда стоит 4800 рублей в месяц.")
    ask(bot, "Когда будут мыть окна в подъезде?", "flat-7")

    follow_up = ask(bot, "а сколько это стоит?", "flat-7")
    assert follow_up["answer_source"] == "llm"
    contents = [m["content"] for m in llm_server.chat_requests()[-1]["messages"]]
    assert "Когда будут мыть окна в подъезде?" in contents
    assert contents[-1] == "а сколько это стоит?"


def test_a_verified_answer_goes_stale_when_the_knowledge_base_changes(
    bot, llm_server, database, embedder, tmp_path
):
    first = ask(bot, "Когда будут мыть окна в подъезде?")
    correct(bot, first["log_id"], WINDOWS_ANSWER)
    assert ask(bot, "Когда будут мыть окна в подъезде?")["model_used"] == "cache"

    from app.knowledge.service import KnowledgeBase

    facts = tmp_path / "update.md"
    facts.write_text("## Окна\n- Окна теперь моем 3 раза в год.\n", encoding="utf-8")
    with database.session() as session:
        KnowledgeBase(embedder).import_file(session, facts)

    assert ask(bot, "Когда будут мыть окна в подъезде?")["answer_source"] == "llm"


def test_the_prompt_carries_approved_answers_corrections_first(make_llm_client, llm_server):
    bot = make_llm_client(ADMIN_API_KEY=ADMIN_KEY, CACHE_ENABLED="false")
    llm_server.behaviour.reply = "Влажная уборка 2 раза в неделю."
    rated = ask(bot, "Как часто моют подъезд?")
    rate(bot, rated, 5)
    corrected = ask(bot, "Сколько раз в неделю моют подъезд?")
    correct(bot, corrected["log_id"], "Моем 2 раза в неделю, по вторникам и пятницам.")

    ask(bot, "Как часто у вас моют подъезд?")
    messages = llm_server.chat_requests()[-1]["messages"]
    assert "одобренные ответы" in messages[0]["content"]
    examples = [m["content"] for m in messages[1:-1] if m["role"] == "assistant"]
    assert examples == [
        "Моем 2 раза в неделю, по вторникам и пятницам.",
        "Влажная уборка 2 раза в неделю.",
    ]


class RecordingProvider:
    def __init__(self, name: str, calls: list[str]) -> None:
        self.name = self.model_used = name
        self.calls = calls

    def answer(self, context):
        from app.answering.providers.base import Answer

        self.calls.append(self.name)
        return Answer(f"ответ {self.name}", self.name, "llm" if self.name == "paid" else "local")

    def check(self) -> str:
        return "healthy"


def test_questions_whose_similar_answers_were_all_rated_low_go_to_the_strongest_provider(
    make_client, make_settings
):
    client = make_client(make_settings())
    calls: list[str] = []
    pipeline = client.app.state.services.pipeline
    recording = [RecordingProvider("local", calls), RecordingProvider("paid", calls)]
    pipeline.providers = lambda: list(recording)

    first = ask(client, "Кто отвечает за уборку снега у подъезда?")
    assert calls == ["local"]
    rate(client, first, 1)
    ask(client, "Кто отвечает за уборку снега у подъезда зимой?")
    assert calls == ["local", "paid"]


@pytest.mark.parametrize(
    ("settings", "headers", "status", "message"),
    [
        ({}, OPERATOR, 403, "ADMIN_API_KEY"),
        ({"ADMIN_API_KEY": ADMIN_KEY}, {}, 401, "Authorization"),
        ({"ADMIN_API_KEY": ADMIN_KEY}, {"Authorization": "Bearer wrong"}, 401, "Неверный"),
    ],
)
def test_operator_endpoints_need_the_admin_key(
    make_client, make_settings, settings, headers, status, message
):
    client = make_client(make_settings(**settings))
    log_id = ask(client, "Как часто моют подъезд?")["log_id"]
    for method, path, body in [
        (
            "post",
            f"/api/voice/logs/{log_id}/correction",
            {"corrected_response": "x", "operator": "y"},
        ),
        ("get", "/api/voice/logs", None),
        ("get", "/api/voice/verified-answers", None),
    ]:
        response = client.request(method, path, json=body, headers=headers)
        assert response.status_code == status
        assert message in response.json()["detail"]


def test_correction_of_an_unknown_log_is_404_and_a_blank_one_is_422(bot):
    missing = bot.post(
        "/api/voice/logs/00000000-0000-0000-0000-000000000000/correction",
        json={"corrected_response": "Ответ", "operator": "Ирина"},
        headers=OPERATOR,
    )
    assert missing.status_code == 404
    log_id = ask(bot, "Как часто моют подъезд?")["log_id"]
    blank = bot.post(
        f"/api/voice/logs/{log_id}/correction",
        json={"corrected_response": "   ", "operator": "Ирина"},
        headers=OPERATOR,
    )
    assert blank.status_code == 422
    assert "не может быть пустым" in blank.json()["detail"]


def test_the_review_queue_lists_low_rated_uncorrected_answers_newest_first(bot):
    answers = [ask(bot, f"Вопрос номер {n} про уборку подъезда") for n in range(4)]
    ids = [answer["log_id"] for answer in answers]
    for answer, rating in zip(answers, [1, 2, 5, 2], strict=True):
        rate(bot, answer, rating)
    correct(bot, ids[3], "Исправленный ответ.")

    page = bot.get(
        "/api/voice/logs", params={"rating_lte": 2, "uncorrected": "true"}, headers=OPERATOR
    ).json()
    assert page["total"] == 2
    assert [item["log_id"] for item in page["items"]] == [ids[1], ids[0]]
    assert page["items"][0]["rating"] == 2


def test_verified_answers_can_be_listed_and_withdrawn_by_an_operator(bot):
    first = ask(bot, "Когда будут мыть окна в подъезде?")
    correction = correct(bot, first["log_id"], WINDOWS_ANSWER)
    listed = bot.get("/api/voice/verified-answers", headers=OPERATOR).json()
    assert [a["id"] for a in listed] == [correction["verified_answer_id"]]
    assert listed[0]["kind"] == "corrected" and listed[0]["approved_questions"] == 1
    assert listed[0]["verified"] is True and listed[0]["approving_conversations"] == 1

    withdrawn = bot.post(
        f"/api/voice/verified-answers/{correction['verified_answer_id']}/withdraw",
        json={"operator": "Ирина"},
        headers=OPERATOR,
    )
    assert withdrawn.status_code == 200
    assert ask(bot, "Когда будут мыть окна в подъезде?")["answer_source"] != "cache"
    assert bot.get("/api/voice/verified-answers", headers=OPERATOR).json() == []


def test_concurrent_feedback_keeps_exact_counts(bot, database):
    answers = [ask(bot, f"Вопрос {n}: когда уборка?") for n in range(6)]
    log_ids = [answer["log_id"] for answer in answers]
    ratings = [(answer, rating) for answer in answers for rating in (1, 3, 5, 4)]
    barrier = threading.Barrier(8)

    def send(item):
        answer, rating = item
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=5)
        return send_rating(bot, answer, rating).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(send, ratings))

    assert statuses == [200] * len(ratings)
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(VoiceFeedback)) == len(ratings)
        rated = session.scalar(
            select(func.count()).select_from(VoiceLog).where(VoiceLog.rating.is_not(None))
        )
        assert rated == len(log_ids)
    status = bot.get("/api/voice/self-learning/status", headers=OPERATOR).json()
    assert status["total_interactions"] == len(log_ids)
    assert status["positive_ratings_count"] + status["negative_ratings_count"] <= len(log_ids)


def test_a_five_star_answer_restating_a_verified_one_joins_it(database, embedder):
    from app.embeddings.service import EmbeddingService
    from app.verified_answers.matcher import MatchThresholds
    from app.verified_answers.service import VerifiedAnswers

    learning = VerifiedAnswers(EmbeddingService(embedder), MatchThresholds())
    with database.session() as session:
        rated = add_log(
            session,
            "Когда будут мыть окна в подъезде?",
            "Окна моем 2 раза в год, в апреле и в сентябре.",
            rating=5,
        )
        original = learning.learn_from_log(session, rated)
        restating = add_log(session, "как часто моют окна в подъезде", WINDOWS_ANSWER, rating=5)
        joined = learning.learn_from_log(session, restating)
        other = add_log(
            session,
            "как часто моют окна в подъезде и лестницы",
            "Телефон диспетчерской: 8-800-555-01-23, звонок бесплатный.",
            rating=5,
        )
        separate = learning.learn_from_log(session, other)
        session.commit()

    assert joined.id == original.id
    assert separate.id != original.id
