"""The learning loop: ratings and operator corrections change the very next answers.

Everything runs against the real database, the bundled embedder and a real
OpenAI-compatible server on 127.0.0.1 that plays the paid model."""

from sqlalchemy import select

from app.db.models import VerifiedAnswer, VoiceLog
from tests.support.dialog import BOT_OPERATOR, ask, correct, rate_accepted
from tests.support.logs import add_log

WINDOWS_ANSWER = (
    "Окна в подъездах мы моем 2 раза в год — в апреле и в сентябре. Дату мойки заранее "
    "вывешиваем на информационном стенде у входа."
)


def test_a_corrected_answer_is_served_from_cache_for_the_same_question_and_a_paraphrase(
    bot, llm_server, database
):
    llm_server.behaviour.reply = "Не знаю, уточните в управляющей компании."
    first = ask(bot, "Когда будут мыть окна в подъезде?")
    rate_accepted(bot, first, 1)
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
    rate_accepted(bot, first, 5)
    again = ask(bot, "Как позвонить диспетчеру?", "flat-1")
    assert again["answer_source"] == "llm", "one conversation's 5 is not enough"
    rate_accepted(bot, again, 5)  # the same conversation agreeing twice still counts once
    assert ask(bot, "Как позвонить диспетчеру?", "flat-2")["answer_source"] == "llm"

    second = ask(bot, "Как позвонить диспетчеру?", "flat-3")
    rate_accepted(bot, second, 5)  # a second conversation agrees: verified
    cached = ask(bot, "Как позвонить диспетчеру?", "flat-4")
    assert cached["model_used"] == "cache" and cached["response"] == DISPATCHER


def test_approval_and_refusal_by_distinct_clients_weigh_the_same(bot, llm_server, database):
    llm_server.behaviour.reply = DISPATCHER
    for flat in ("flat-1", "flat-2"):
        rate_accepted(bot, ask(bot, "Как позвонить диспетчеру?", flat), 5)

    refused_once = ask(bot, "Как позвонить диспетчеру?", "flat-3")
    assert refused_once["model_used"] == "cache"
    rate_accepted(bot, refused_once, 1)
    # Two approve, one refuses: one more approving than refusing is not enough to serve.
    assert ask(bot, "Как позвонить диспетчеру?", "flat-4")["answer_source"] == "llm"
    with database.session() as session:
        assert session.scalars(select(VerifiedAnswer.withdrawn_at)).one() is None

    llm_server.behaviour.reply = "Диспетчерская: 8-800-555-01-23, с 8:00 до 20:00."
    rate_accepted(bot, ask(bot, "Подскажите номер диспетчерской", "flat-5"), 5)
    served = ask(bot, "Как позвонить диспетчеру?", "flat-6")
    assert served["model_used"] == "cache"  # a third client approving outweighs the refusal
    rate_accepted(bot, served, 2)
    with database.session() as session:
        withdrawn = session.scalars(
            select(VerifiedAnswer.withdrawn_at).where(VerifiedAnswer.answer_text == DISPATCHER)
        ).one()
    assert withdrawn is not None, "two distinct clients refused it for its own question"

    llm_server.behaviour.reply = "Новый ответ модели."
    after = ask(bot, "Как позвонить диспетчеру?", "flat-7")
    assert after["answer_source"] == "llm"
    assert after["response"] == "Новый ответ модели."
    # ... and the refused answer is not offered to the model as an example either.
    prompt = llm_server.chat_requests()[-1]["messages"]
    assert not any(DISPATCHER in m["content"] for m in prompt)


def test_rating_again_replaces_a_five_and_withdraws_what_it_verified(bot, llm_server, database):
    llm_server.behaviour.reply = "Ответ, который сначала понравился."
    first = ask(bot, "Во сколько приходит уборщица?")
    rate_accepted(bot, first, 5)
    rate_accepted(bot, first, 2)
    assert ask(bot, "Во сколько приходит уборщица?")["answer_source"] == "llm"
    with database.session() as session:
        verified = session.scalars(select(VerifiedAnswer)).one()
        assert verified.withdrawn_at is not None


def test_a_cached_answer_refused_for_another_question_stays_for_its_own(bot, llm_server):
    llm_server.behaviour.reply = WINDOWS_ANSWER
    for flat in ("flat-1", "flat-2"):
        rate_accepted(bot, ask(bot, "Когда будут мыть окна в подъезде?", flat), 5)
    served = ask(bot, "Подскажите график мытья окон в подъездах", "flat-3")
    assert served["model_used"] == "cache"
    rate_accepted(bot, served, 1)

    assert ask(bot, "Подскажите график мытья окон в подъездах", "flat-4")["answer_source"] != (
        "cache"
    )
    llm_server.behaviour.reply = WINDOWS_ANSWER
    rate_accepted(bot, ask(bot, "Когда будут мыть окна в подъезде?", "flat-5"), 5)
    assert ask(bot, "Когда будут мыть окна в подъезде?", "flat-6")["model_used"] == "cache"


def test_a_residents_low_rating_never_silences_an_operators_correction(bot, llm_server, database):
    llm_server.behaviour.reply = "Не знаю."
    first = ask(bot, "Когда будут мыть окна в подъезде?", "flat-1")
    correct(bot, first["log_id"], WINDOWS_ANSWER)
    for attacker_session in ("a-1", "a-2", "a-3"):
        served = ask(
            bot,
            "Подскажите график мытья окон в подъездах",
            attacker_session,
            address="198.51.100.9",
        )
        assert served["model_used"] == "cache"
        rate_accepted(bot, served, 1)

    for flat in ("flat-2", "flat-3"):
        again = ask(bot, "Подскажите график мытья окон в подъездах", flat)
        assert again["model_used"] == "cache" and again["response"] == WINDOWS_ANSWER
    with database.session() as session:
        assert session.scalars(select(VerifiedAnswer.withdrawn_at)).one() is None
    queue = bot.get("/api/voice/logs?rating_lte=2&uncorrected=true", headers=BOT_OPERATOR).json()
    assert queue["total"] == 3, "the low ratings reach the operators' queue instead"


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
    with database.transaction() as session:
        KnowledgeBase(embedder).import_file(session, facts)

    assert ask(bot, "Когда будут мыть окна в подъезде?")["answer_source"] == "llm"


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

    assert joined.supported.id == original.supported.id
    assert separate.supported.id != original.supported.id
