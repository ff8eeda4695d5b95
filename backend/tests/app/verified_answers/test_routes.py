"""The verified-answer cache for operators: listing with its evidence, withdrawal."""

from tests.support.dialog import BOT_OPERATOR, ask, correct

WINDOWS_ANSWER = (
    "Окна в подъездах мы моем 2 раза в год — в апреле и в сентябре. Дату мойки заранее "
    "вывешиваем на информационном стенде у входа."
)


def test_verified_answers_can_be_listed_and_withdrawn_by_an_operator(bot):
    first = ask(bot, "Когда будут мыть окна в подъезде?")
    correction = correct(bot, first["log_id"], WINDOWS_ANSWER)
    listed = bot.get("/api/voice/verified-answers", headers=BOT_OPERATOR).json()
    assert [a["id"] for a in listed] == [correction["verified_answer_id"]]
    assert listed[0]["kind"] == "corrected" and listed[0]["approved_questions"] == 1
    assert listed[0]["verified"] is True and listed[0]["status"] == "served"

    withdrawn = bot.post(
        f"/api/voice/verified-answers/{correction['verified_answer_id']}/withdraw",
        json={"operator": "Ирина"},
        headers=BOT_OPERATOR,
    )
    assert withdrawn.status_code == 200
    assert ask(bot, "Когда будут мыть окна в подъезде?")["answer_source"] != "cache"
    assert bot.get("/api/voice/verified-answers", headers=BOT_OPERATOR).json() == []


def explain(bot, question: str):
    return bot.get(
        "/api/voice/verified-answers/match", params={"question": question}, headers=BOT_OPERATOR
    )


def test_an_operator_sees_why_the_cache_would_or_would_not_answer(bot):
    assert explain(bot, "Когда будут мыть окна в подъезде?").json()["reason"] == (
        "no verified answers yet"
    )
    first = ask(bot, "Когда будут мыть окна в подъезде?")
    correction = correct(bot, first["log_id"], WINDOWS_ANSWER)

    same = explain(bot, "Когда будут мыть окна в подъезде?").json()
    assert same["served"] is True and same["reason"] == "same question"
    assert same["answer"]["key"] == correction["verified_answer_id"]
    assert same["answer"]["text"] == WINDOWS_ANSWER and same["answer"]["kind"] == "answer"
    assert {c["kind"] for c in same["candidates"]} == {"answer", "fact"}

    other = explain(bot, "Сколько стоит уборка подъезда в месяц?").json()
    assert other["served"] is False and other["answer"] is None and other["reason"]
    assert ask(bot, "Сколько стоит уборка подъезда в месяц?")["answer_source"] != "cache"


def test_explaining_a_match_needs_the_operator_key_and_a_question(bot):
    assert bot.get("/api/voice/verified-answers/match?question=окна").status_code == 401
    assert explain(bot, "   ").status_code == 422
    assert explain(bot, "окна\x00").status_code == 422
