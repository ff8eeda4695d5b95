"""Learning from what residents' next messages say, when nobody rates.

Thanks approve an answer, a re-ask or a request for a person counts against the answer it
was served from, each at half the weight of a rating (``IMPLICIT_EVIDENCE_WEIGHT``) and at
most once per client; a re-ask chain that ends in thanks teaches the earlier phrasing.
Real database, bundled embedder, a real OpenAI-compatible server on 127.0.0.1."""

import numpy as np
from sqlalchemy import select

from app.db.models import AnswerEvidence, EvidenceBasis, VerifiedAnswer
from app.verified_answers.service import EvidenceRow, learned_approvals
from tests.support.dialog import BOT_OPERATOR, ask, rate_accepted

WINDOWS_ANSWER = (
    "Окна в подъездах мы моем 2 раза в год — в апреле и в сентябре. Дату мойки заранее "
    "вывешиваем на информационном стенде у входа."
)
QUESTION = "Когда моют окна в подъезде?"
THANKS = "Спасибо, понятно"


def thanked(bot, question: str, session_id: str, **options) -> dict:
    """A resident asks and says thanks in the same conversation; the answer it thanked."""
    answer = ask(bot, question, session_id, **options)
    ask(bot, THANKS, session_id, **options)
    return answer


def listed(bot) -> list[dict]:
    response = bot.get("/api/voice/verified-answers", headers=BOT_OPERATOR)
    assert response.status_code == 200, response.text
    return response.json()


def test_thanks_from_four_clients_verify_an_answer_as_two_ratings_would(bot, llm_server):
    llm_server.behaviour.reply = WINDOWS_ANSWER
    for flat in ("flat-1", "flat-2", "flat-3"):
        assert thanked(bot, QUESTION, flat)["answer_source"] == "llm"
    [pending] = listed(bot)
    assert pending["status"] == "pending" and pending["approving_clients"] == 3
    assert "weight 1.5" in pending["status_reason"], "three thanks weigh one and a half"

    thanked(bot, QUESTION, "flat-4")
    served = ask(bot, QUESTION, "flat-5")
    assert served["answer_source"] == "cache" and served["response"] == WINDOWS_ANSWER


def test_one_client_thanking_from_many_sessions_cannot_verify_an_answer(bot, llm_server):
    """A saboteur's script: new session ids, one address, thanks every time."""
    llm_server.behaviour.reply = "Окна моют раз в пять лет, звоните 8-900-000-00-00."
    for number in range(6):
        thanked(bot, QUESTION, f"script-{number}", address="198.51.100.7")
    [answer] = listed(bot)
    assert answer["status"] == "pending" and answer["approving_clients"] == 1
    assert ask(bot, QUESTION, "flat-1")["answer_source"] == "llm"


def test_a_re_ask_chain_ending_in_thanks_teaches_the_earlier_phrasing(bot, llm_server, database):
    earlier = "Подскажите, когда будут мыть окна на лестнице?"
    llm_server.behaviour.reply = "Не знаю, уточните в управляющей компании."
    first = ask(bot, earlier, "flat-1")
    llm_server.behaviour.reply = WINDOWS_ANSWER
    ask(bot, QUESTION, "flat-1")  # asked again in other words: answered well
    ask(bot, THANKS, "flat-1")

    with database.session() as session:
        chain = session.scalars(
            select(AnswerEvidence).where(AnswerEvidence.log_id == int(first["log_id"]))
        ).one()
        verified = session.get(VerifiedAnswer, chain.verified_answer_id)
        assert verified.answer_text == WINDOWS_ANSWER
        assert chain.agrees and chain.basis == EvidenceBasis.RE_ASK_CHAIN and chain.weight == 0.5

    for flat in ("flat-2", "flat-3"):  # two ratings of the well-answered phrasing
        rate_accepted(bot, ask(bot, QUESTION, flat), 5)
    # One client's chain is not enough for the matcher to learn the phrasing: a second
    # resident who asks it and is helped (by the cache or after asking again) confirms it.
    llm_server.behaviour.reply = "Не знаю, уточните в управляющей компании."
    if ask(bot, earlier, "flat-5")["answer_source"] != "cache":
        assert ask(bot, QUESTION, "flat-5")["answer_source"] == "cache"
    ask(bot, THANKS, "flat-5")
    taught = ask(bot, earlier, "flat-4")
    assert taught["answer_source"] == "cache" and taught["response"] == WINDOWS_ANSWER


def test_one_clients_re_asks_count_once_at_half_weight_and_never_withdraw_an_answer(
    bot, llm_server, database
):
    llm_server.behaviour.reply = WINDOWS_ANSWER
    for flat in ("flat-1", "flat-2", "flat-3"):
        rate_accepted(bot, ask(bot, QUESTION, flat), 5)
    for number in range(4):  # one client re-asks the good answer again and again
        served = ask(bot, QUESTION, f"script-{number}", address="198.51.100.8")
        assert served["answer_source"] == "cache"
        ask(bot, "Когда будут мыть окна в подъезде?", f"script-{number}", address="198.51.100.8")

    [answer] = listed(bot)
    assert answer["status"] == "served" and answer["refusing_clients"] == 1
    assert answer["withdrawn_at"] is None  # approval 3, refusal 0.5 however often
    assert ask(bot, QUESTION, "flat-4")["answer_source"] == "cache"
    with database.session() as session:
        refusals = session.scalars(
            select(AnswerEvidence).where(AnswerEvidence.agrees.is_(False))
        ).all()
    assert {(r.basis, r.weight) for r in refusals} == {(EvidenceBasis.RE_ASK, 0.5)}


def test_a_request_for_a_person_takes_a_thinly_approved_answer_off_until_others_approve(
    bot, llm_server
):
    llm_server.behaviour.reply = WINDOWS_ANSWER
    for flat in ("flat-1", "flat-2"):
        rate_accepted(bot, ask(bot, QUESTION, flat), 5)
    assert ask(bot, QUESTION, "flat-3")["answer_source"] == "cache"
    ask(bot, "Соедините меня с диспетчером, пожалуйста.", "flat-3")

    # Approval 2, refusal 0.5: below the bar, though nothing is withdrawn…
    [answer] = listed(bot)
    assert answer["status"] == "pending" and answer["withdrawn_at"] is None
    assert thanked(bot, QUESTION, "flat-4")["answer_source"] == "llm"
    assert ask(bot, QUESTION, "flat-5")["answer_source"] == "cache"  # … until a thanks


def test_thanks_closing_a_conversation_is_answered_without_a_model_call(bot, llm_server):
    llm_server.behaviour.reply = WINDOWS_ANSWER
    ask(bot, QUESTION, "flat-1")
    calls = len(llm_server.chat_requests())
    closing = ask(bot, THANKS, "flat-1")
    assert len(llm_server.chat_requests()) == calls
    assert closing["model_used"] == "courtesy" and closing["response"].startswith("Пожалуйста")
    # Opening a conversation with the same words is not closing one: the model answers.
    assert ask(bot, THANKS, "flat-2")["answer_source"] == "llm"


def test_two_clients_thanks_make_a_prompt_example_before_the_answer_is_served(bot, llm_server):
    mats = "Коврики у входа меняем каждые две недели, по понедельникам."
    llm_server.behaviour.reply = mats
    thanked(bot, "Как часто меняете коврики у входа?", "flat-1")
    ask(bot, "Когда меняют коврики в подъезде?", "flat-2")
    assert not any(mats in m["content"] for m in llm_server.chat_requests()[-1]["messages"])

    thanked(bot, "Как часто меняете коврики у входа?", "flat-3")  # weight 1: an example only
    llm_server.behaviour.reply = "Коврики меняем раз в две недели."
    paraphrase = ask(bot, "Когда меняют коврики в подъезде?", "flat-4")
    assert paraphrase["answer_source"] == "llm"
    prompt = llm_server.chat_requests()[-1]["messages"]
    assert any("по понедельникам" in m["content"] for m in prompt[:-1])
    answer = next(a for a in listed(bot) if a["answer_text"] == mats)
    assert answer["status"] == "pending" and "prompt example" in answer["status_reason"]


def test_the_matcher_learns_what_one_client_said_only_once_another_says_it_too():
    """A saboteur thanking a wrong cached answer would teach it the question it was wrongly
    served for; what a dialog said enters the matcher only when a second client said it
    about the same question (ratings, corrections and the answer's own question always)."""
    same, other = np.array([1.0, 0.0], np.float32), np.array([0.0, 1.0], np.float32)

    def row(vector, client, explicit=False, log_id=None):
        return EvidenceRow(vector, "вопрос", False, client, explicit, log_id=log_id)

    def learned(*rows, source_log_id=None) -> list[str]:
        return [r.client for r in learned_approvals(list(rows), source_log_id)]

    source, rated = row(other, "first", log_id=7), row(other, "rater", explicit=True)
    lone_thanks = row(same, "saboteur")
    assert learned(source, rated, lone_thanks, source_log_id=7) == ["first", "rater"]
    assert learned(lone_thanks, row(same, "resident")) == ["saboteur", "resident"]
    assert learned(lone_thanks, row(same, "saboteur")) == [], "one client twice is one"
