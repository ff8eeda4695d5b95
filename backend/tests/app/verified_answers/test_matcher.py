"""The verified-answer matcher on real e5 vectors: when it serves, and when it abstains."""

import numpy as np
import pytest

from app.answering.follow_up import is_follow_up
from app.verified_answers.matcher import FittedMatcher, MatchThresholds, candidate
from app.verified_answers.wording import content_stems

WINDOWS = "Окна в подъездах моем 2 раза в год — в апреле и в сентябре."
FLOORS = "Влажную уборку лестниц проводим 2 раза в неделю — по вторникам и пятницам."
PHONE = "Телефон диспетчерской: 8-800-555-01-23, ежедневно с 8:00 до 20:00."


@pytest.fixture(scope="module")
def embed(embedder):
    def vectors(*texts: str) -> np.ndarray:
        return np.asarray(embedder.embed_queries(list(texts)))

    return vectors


def verified(embed, key, answer, questions):
    return candidate(
        key,
        answer,
        verified=True,
        answer_vector=embed(answer)[0],
        approved=embed(*questions),
        texts=questions,
    )


@pytest.fixture(scope="module")
def matcher(embed):
    candidates = [
        verified(
            embed,
            "windows",
            WINDOWS,
            ["Когда будут мыть окна в подъезде?", "как часто моют окна в подъезде"],
        ),
        verified(
            embed,
            "floors",
            FLOORS,
            ["Сколько раз в неделю у вас влажная уборка лестниц?", "в какие дни моют полы"],
        ),
        verified(
            embed, "phone", PHONE, ["Какой у вас номер телефона?", "Как позвонить диспетчеру?"]
        ),
    ]
    return FittedMatcher.fit(candidates, MatchThresholds())


def test_an_approved_question_asked_again_is_the_same_question(matcher, embed):
    decision = matcher.decide(embed("Как позвонить диспетчеру?")[0], "Как позвонить диспетчеру?")
    assert decision.serve and decision.candidate.key == "phone"
    assert decision.reason == "same question"


def test_a_paraphrase_is_served_the_answer_it_means(matcher, embed):
    question = "Подскажите график мытья окон в подъездах"
    decision = matcher.decide(embed(question)[0], question)
    assert decision.serve and decision.candidate.key == "windows"
    assert decision.margin >= MatchThresholds().min_margin


def test_an_unrelated_question_is_not_served(matcher, embed):
    question = "Сколько платите уборщицам?"
    assert not matcher.decide(embed(question)[0], question).serve


def test_swapping_the_subject_of_an_approved_question_is_not_served(embed):
    only_windows = FittedMatcher.fit(
        [
            verified(embed, "windows", WINDOWS, ["Когда моют окна в подъезде?"]),
            candidate("kb:1", PHONE, verified=False, answer_vector=embed(PHONE)[0]),
        ],
        MatchThresholds(),
    )
    question = "Когда моют полы в подъезде?"
    decision = only_windows.decide(embed(question)[0], question)
    assert not decision.serve
    assert "пол" in decision.reason


def test_a_question_the_answer_was_refused_for_is_not_served_it_again(embed):
    refused_question = "Подскажите график мытья окон в подъездах"
    windows = candidate(
        "windows",
        WINDOWS,
        verified=True,
        answer_vector=embed(WINDOWS)[0],
        approved=embed("Когда будут мыть окна в подъезде?"),
        refused=embed(refused_question),
        texts=["Когда будут мыть окна в подъезде?"],
    )
    phone = verified(embed, "phone", PHONE, ["Как позвонить диспетчеру?"])
    matcher = FittedMatcher.fit([windows, phone], MatchThresholds())
    assert not matcher.decide(embed(refused_question)[0], refused_question).serve


def test_with_nothing_verified_nothing_is_served(embed):
    facts_only = FittedMatcher.fit(
        [candidate("kb:1", PHONE, verified=False, answer_vector=embed(PHONE)[0])],
        MatchThresholds(),
    )
    assert facts_only.decide(embed("Как позвонить диспетчеру?")[0]).reason == (
        "no verified answers yet"
    )


def test_ranked_puts_the_fitting_answer_first(matcher, embed):
    ranked = matcher.ranked(embed("номер горячей линии вашей компании")[0], 2)
    assert ranked[0].candidate.key == "phone"
    assert ranked[0].score > ranked[1].score


@pytest.mark.parametrize(
    ("question", "has_history", "expected"),
    [
        ("а сколько это стоит?", True, True),
        ("А если у нас 12 домов?", True, True),
        ("и когда это будет?", True, True),
        ("а сколько это стоит?", False, False),
        ("Сколько стоит уборка одного подъезда?", True, False),
        ("а подъезд вообще часто убирают или раз в месяц", True, False),
    ],
)
def test_follow_ups_are_short_questions_leaning_on_the_previous_turn(
    question, has_history, expected
):
    assert is_follow_up(question, has_history=has_history) is expected


def test_content_words_are_stemmed_and_function_words_dropped():
    assert content_stems("Когда моют окна в подъезде?") == content_stems(
        "когда моют окно в подъездах"
    )
    assert "когд" not in content_stems("Когда моют окна?")


def test_an_answer_waiting_for_verification_is_never_served_but_keeps_its_questions(embed):
    floors_questions = [
        "Сколько раз в неделю у вас влажная уборка лестниц?",
        "в какие дни моют полы",
    ]
    pending = candidate(
        "floors",
        FLOORS,
        verified=False,  # one conversation approved it so far
        answer_vector=embed(FLOORS)[0],
        approved=embed(*floors_questions),
        texts=floors_questions,
    )
    matcher = FittedMatcher.fit(
        [
            verified(embed, "windows", WINDOWS, ["Когда будут мыть окна в подъезде?"]),
            verified(embed, "phone", PHONE, ["Как позвонить диспетчеру?"]),
            pending,
        ],
        MatchThresholds(),
    )

    for question in floors_questions:  # even the very question it was approved for
        decision = matcher.decide(embed(question)[0], question)
        assert not decision.serve
        assert decision.reason == "closest to a fact or an answer that is not verified"
    served = matcher.decide(embed("Как позвонить диспетчеру?")[0], "Как позвонить диспетчеру?")
    assert served.serve and served.candidate.key == "phone"


def test_a_fact_the_answer_restates_is_no_rival_for_the_margin(embed):
    """For a question the fact sheet answers, the residents' answer saying what the fact
    says wins by a margin over the fact; a question the fact itself wins still goes to the
    model (a fact line may answer other questions too). An answer the fact does not say is
    no twin of it."""
    said = ("Спасибо за обращение! По вашему вопросу: 2 раза в год, в апреле и в сентябре. "
            "Надеюсь, это поможет.")  # fmt: skip
    facts = [candidate(f"kb:{n}", text, verified=False, answer_vector=embed(text)[0])
             for n, text in enumerate((WINDOWS, FLOORS, PHONE))]  # fmt: skip
    answer = verified(embed, "windows", said, ["Когда моют окна в подъезде?",
                                                 "Как часто моете окна?"])  # fmt: skip
    matcher = FittedMatcher.fit([answer, *facts], MatchThresholds())
    assert matcher._restated_fact[0].tolist() == [False, True, False, False]
    question = "Окна в подъездах моете в апреле?"  # without the rule: no clear winner
    assert matcher.decide(embed(question)[0], question).candidate is answer
    fact_first = "Окна в подъездах моем 2 раза в год?"
    assert matcher.decide(embed(fact_first)[0], fact_first).candidate is None

    floors = verified(embed, "floors", "Моем полы в среду.", ["Когда моют полы?", "Полы моете?"])
    other = FittedMatcher.fit([floors, *facts], MatchThresholds())
    assert not other._restated_fact[0].any(), "an answer the fact does not say is no twin"


def test_a_chain_taught_phrasing_is_no_anchor_for_the_same_question_rule(embed):
    """Phrasings a re-ask chain taught count for the classifier, but repeating one is not
    served on sight: the classifier must still place it there by a margin."""
    asked, taught = "Когда моют окна в подъезде?", "А стёкла на лестнице когда протираете?"
    answer = candidate("windows", WINDOWS, verified=True, answer_vector=embed(WINDOWS)[0],
                       approved=embed(asked, taught), anchors=embed(asked),
                       texts=[asked, taught])  # fmt: skip
    floors = verified(embed, "floors", FLOORS, ["Когда моют полы?", "Как часто моете лестницу?"])
    matcher = FittedMatcher.fit([answer, floors], MatchThresholds())
    assert matcher.decide(embed(asked)[0], asked).reason == "same question"
    assert matcher.decide(embed(taught)[0], taught).reason != "same question"


def test_answers_stating_the_same_facts_are_no_rivals_but_neighbours_are():
    from app.verified_answers.matcher import same_facts

    def answer(key: str, text: str):
        return candidate(key, text, verified=True, answer_vector=np.ones(4, np.float32))

    operators = answer("op", "Окна в подъездах моем 2 раза в год — в апреле и в сентябре.")
    residents = answer("res", "Спасибо за обращение! По вашему вопросу: 2 раза в год, в "
                              "апреле и в сентябре. Надеюсь, это поможет.")  # fmt: skip
    floors = answer("floors", "Спасибо за обращение! Полы моем по вторникам и пятницам. "
                              "Надеюсь, это поможет.")  # fmt: skip
    others = [answer(f"a{n}", f"Спасибо за обращение! По вашему вопросу: тема{n}. Надеюсь, "
                              "это поможет.") for n in range(20)]  # fmt: skip
    same = same_facts([operators, residents, floors, *others])
    assert same[0, 1] and same[1, 0], "the same facts in other words"
    assert not same[1, 2], "the same greetings, other facts"
