"""A paid call's context: only what helps, best first, within a token budget."""

from app.answering.context_budget import CommonWords, estimate_tokens, fit_to_budget
from app.llm.prompt import ApprovedExample, KnowledgeSnippet, PromptContext

OPENINGS = ["Спасибо за обращение!", "Здравствуйте! Хороший вопрос.", "Понимаю ваш вопрос."]
CLOSINGS = ["Надеюсь, это поможет.", "Точные условия могут зависеть от договора с вашим домом."]
FACTS = [
    "Полы моем по вторникам и пятницам", "Окна моем весной и осенью", "Лампочки меняет УК",
    "Граффити закрашиваем бесплатно", "Коврики меняем каждую неделю", "Мусоропровод чистим",
    "Дезинсекцию проводит подрядчик", "Вывозим строительный мусор за плату",
]  # fmt: skip


def padded_answers() -> list[str]:
    """Answers as a general model writes them: a fact between a greeting and a sign-off."""
    return [
        f"{OPENINGS[i % 3]} По вашему вопросу: {fact.lower()}. {CLOSINGS[i % 2]}"
        for i, fact in enumerate(FACTS * 3)
    ]


def test_the_sentences_every_answer_shares_are_left_out_of_an_example():
    common = CommonWords(padded_answers())
    fact = "По вашему вопросу: граффити закрашиваем бесплатно."
    text = f"Спасибо за обращение! {fact} Надеюсь, это поможет."
    assert common.essential_text(text) == fact


def test_a_sentence_with_a_figure_stays_and_an_answer_is_never_emptied():
    common = CommonWords(padded_answers())
    with_figure = "Спасибо за обращение! Надеюсь, 2 поможет."
    assert common.essential_text(with_figure) == "Надеюсь, 2 поможет."
    everything_common = "Спасибо за обращение! Надеюсь, это поможет."
    assert common.essential_text(everything_common) == everything_common


def test_few_texts_say_nothing_about_what_is_common():
    common = CommonWords(padded_answers()[:5])
    text = padded_answers()[0]
    assert common.essential_text(text) == text


def example(answer: str, *, corrected: bool = False) -> ApprovedExample:
    return ApprovedExample("1", "Как часто моют подъезд?", answer, 0.9, corrected=corrected)


def fact(content: str) -> KnowledgeSnippet:
    return KnowledgeSnippet("Регламент", content, 0.9)


def test_the_budget_keeps_the_best_items_first_and_skips_what_does_not_fit():
    long_fact = fact("Очень длинный факт. " * 20)
    context = PromptContext(
        "Когда моют полы?",
        examples=[example("Моем по вторникам.", corrected=True), example("Два раза в неделю.")],
        knowledge=[long_fact, fact("Окна — в апреле.")],
    )
    budget = sum(estimate_tokens(t) for t in ("Как часто моют подъезд?", "Моем по вторникам.")) * 2
    budget += estimate_tokens("Регламент") + estimate_tokens("Окна — в апреле.")

    fitted = fit_to_budget(context, budget)

    assert [e.answer for e in fitted.examples] == ["Моем по вторникам.", "Два раза в неделю."]
    assert [k.content for k in fitted.knowledge] == ["Окна — в апреле."], "the long fact is cut"


def test_what_the_company_wrote_goes_before_what_residents_approved():
    context = PromptContext("Когда моют полы?", examples=[example("Моем по вторникам.")],
                            knowledge=[fact("Полы — по вторникам и пятницам.")])  # fmt: skip
    tight = fit_to_budget(context, 1)
    assert (tight.knowledge, tight.examples) == (context.knowledge, [])


def test_the_first_item_is_kept_however_small_the_budget_and_zero_means_no_budget():
    context = PromptContext("Когда моют полы?", examples=[example("Моем " * 100, corrected=True)],
                            knowledge=[fact("Окна — в апреле.")])  # fmt: skip
    assert fit_to_budget(context, 1).examples == context.examples
    assert fit_to_budget(context, 1).knowledge == []
    assert fit_to_budget(context, 0) == context
