"""An emergency gets the emergency entry at once — never the cache, never a model — and an
operator is alerted; its answer is never learnt as a verified answer."""

import time

from tests.support.dialog import BOT_OPERATOR, ask, rate_accepted


def alerts_of_kind(client, kind: str, wait_seconds: float = 10.0) -> list[dict]:
    """The alerts raised so far (the desk raises them on its own thread)."""
    deadline = time.monotonic() + wait_seconds
    while True:
        alerts = client.get("/api/voice/alerts", headers=BOT_OPERATOR).json()
        found = [a for a in alerts if a["kind"] == kind]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def test_a_gas_leak_gets_the_gas_numbers_and_an_operator_alert_without_a_model_call(
    bot, llm_server
):
    answer = ask(bot, "В подъезде пахнет газом, что делать?")

    assert "104" in answer["response"] and "112" in answer["response"]
    assert answer["answer_source"] == "knowledge_base"
    assert llm_server.chat_requests() == [], "no model was asked to guess"
    alerts = alerts_of_kind(bot, "emergency")
    assert len(alerts) == 1 and alerts[0]["severity"] == "error"
    assert "газ" in alerts[0]["title"]
    assert alerts[0]["details"]["question"] == "В подъезде пахнет газом, что делать?"


def test_a_crowd_reporting_the_same_leak_raises_one_alert_that_counts_them(bot):
    for session in ("a", "b", "c"):
        ask(bot, "Пахнет газом на третьем этаже", session)
    alerts = alerts_of_kind(bot, "emergency")
    deadline = time.monotonic() + 10
    while alerts[0]["repeats"] < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
        alerts = alerts_of_kind(bot, "emergency")
    assert len(alerts) == 1 and alerts[0]["repeats"] == 2


def test_everyday_questions_with_the_same_words_take_the_usual_path(bot, llm_server):
    answer = ask(bot, "В подъезде пахнет краской после ремонта")
    assert answer["answer_source"] == "llm" and len(llm_server.chat_requests()) == 1
    assert alerts_of_kind(bot, "emergency", wait_seconds=0.5) == []


def test_five_stars_from_many_residents_never_make_the_emergency_text_a_verified_answer(bot):
    for session in ("r1", "r2", "r3", "r4"):
        rate_accepted(bot, ask(bot, "Лифт застрял, внутри ребёнок", session), 5)
    verified = bot.get(
        "/api/voice/verified-answers", params={"include_withdrawn": True}, headers=BOT_OPERATOR
    ).json()
    assert verified == []
