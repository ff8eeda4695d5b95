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
