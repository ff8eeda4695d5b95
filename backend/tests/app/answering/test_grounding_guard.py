"""The grounding guard: no generated answer states a figure it was not given."""

from sqlalchemy import select

from app.answering.grounding_guard import GroundingGuard, stated_facts
from app.db.models import VoiceLog
from app.llm.base import Answer
from app.llm.prompt import HAND_ON_ANSWER, KnowledgeSnippet, PromptContext
from tests.support.dialog import ask


def test_figures_are_compared_as_numbers_and_phones_as_their_digits():
    assert stated_facts("с 8:00 до 20:00, два раза") == stated_facts("с 8 до 20, 2 раза")
    assert stated_facts("+7 (495) 123-45-67") == stated_facts("8 495 1234567")
    assert stated_facts("Пишите на info@vasdom.example") == {"email:info@vasdom.example"}
    assert stated_facts("по вторникам и пятницам") == frozenset(), "пятница is not пять"


def context_with(fact: str) -> PromptContext:
    return PromptContext("Сколько стоит уборка?", knowledge=[KnowledgeSnippet("Цены", fact, 0.9)])


def test_an_answer_may_state_what_its_prompt_or_the_knowledge_base_states():
    guard = GroundingGuard(["Диспетчерская: +7 495 000-00-00, круглосуточно."])
    context = context_with("Разовая уборка — 1500 рублей.")

    assert guard.ungrounded("Разовая уборка стоит 1500 рублей.", context) == frozenset()
    assert guard.ungrounded("Звоните 8 (495) 000-00-00.", context) == frozenset()
    assert guard.ungrounded("Стоит 990 рублей, звоните 8 900 111-22-33.", context) == {
        "figure:990",
        "number:9001112233",
    }
    assert guard.ungrounded("Уборка в 1 подъезде.", context) == frozenset(), "1 is no fact"


class LocalModel:
    name = model_used = "local-test"

    def __init__(self, reply: str) -> None:
        self.reply = reply
        self.calls = 0

    def answer(self, context: PromptContext) -> Answer:
        self.calls += 1
        return Answer(self.reply, self.model_used, "local")

    def check(self) -> str:
        return "healthy"


def test_a_local_answer_with_a_made_up_price_is_not_shown_and_the_paid_model_answers(
    make_llm_client, llm_server, database
):
    client = make_llm_client(CACHE_ENABLED="false")
    pipeline = client.app.state.services.pipeline
    paid = pipeline.providers()
    local = LocalModel("Разовая уборка подъезда стоит 990 рублей.")
    pipeline.providers = lambda: [local, *paid]
    llm_server.behaviour.reply = "Стоимость разовой уборки уточните у диспетчера."

    answer = ask(client, "Сколько стоит разовая уборка подъезда?")

    assert local.calls == 1
    assert answer["answer_source"] == "llm" and "990" not in answer["response"]
    assert len(llm_server.chat_requests()) == 1


def test_a_local_model_that_hands_the_question_on_is_followed_by_the_paid_one(
    make_llm_client, llm_server
):
    client = make_llm_client(CACHE_ENABLED="false")
    pipeline = client.app.state.services.pipeline
    paid = pipeline.providers()
    pipeline.providers = lambda: [LocalModel(HAND_ON_ANSWER), *paid]
    llm_server.behaviour.reply = "Уборка подъезда — по договору с вашей УК."

    answer = ask(client, "Сколько стоит разовая уборка подъезда?")

    assert answer["answer_source"] == "llm" and answer["response"] != HAND_ON_ANSWER


def test_a_paid_answer_stating_an_unsourced_figure_is_kept_and_the_finding_logged(
    make_llm_client, llm_server, database
):
    client = make_llm_client(CACHE_ENABLED="false")
    llm_server.behaviour.reply = "Разовая уборка стоит 4990 рублей, звоните 8 900 111-22-33."

    answer = ask(client, "Сколько стоит разовая уборка подъезда?")

    assert answer["answer_source"] == "llm"
    with database.session() as session:
        log = session.scalars(select(VoiceLog).where(VoiceLog.id == answer["log_id"])).one()
    assert log.ungrounded_facts == ["figure:4990", "number:9001112233"]
