"""With no key, the knowledge base answers only what it covers; a topic it never wrote
about gets «не знаю — диспетчер», not two unrelated facts."""

from app.llm.offline import NO_ANSWER_TEXT, OfflineAnswerer
from app.llm.prompt import PromptContext
from tests.support.dialog import ask


def test_a_covered_question_gets_its_fact_and_an_uncovered_one_the_dispatcher(client):
    price = ask(client, "Сколько стоит уборка подъезда в девятиэтажке?")
    assert "4800 рублей" in price["response"] and price["answer_source"] == "knowledge_base"
    for topic in ("Можно ли у вас заказать клининг дачи?", "Вы ремонтируете крыши?"):
        reply = ask(client, topic)
        assert reply["response"] == NO_ANSWER_TEXT and reply["answer_source"] == "fallback"
        assert "диспетчерскую" in reply["response"]


def test_a_lookup_that_fails_still_answers_that_it_does_not_know():
    def broken(question: str) -> list[str]:
        raise ConnectionError("database gone")

    answer = OfflineAnswerer(knowledge_similarity=0.8, lines_for=broken).answer(
        PromptContext("Сколько стоит уборка?")
    )
    assert answer.text == NO_ANSWER_TEXT
