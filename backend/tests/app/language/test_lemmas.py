"""Lemmas let the verifier and the emergency detector compare words, not word forms."""

from app.language.lemmas import content_lemmas, negated


def test_word_forms_meet_in_their_dictionary_form():
    assert {"квартира", "мыть", "окно"} <= content_lemmas("Когда моют окна в квартирах?")
    assert "газ" in content_lemmas("пахнет газом")


def test_pronouns_question_words_and_politeness_carry_no_topic():
    assert content_lemmas("Подскажите пожалуйста, какой ваш номер?") == {"номер"}


def test_a_denial_or_an_absence_is_a_negation():
    assert negated("Почему в подъезде никто не моет полы?")
    assert not negated("Как часто моют полы?")


def test_a_lone_surrogate_a_client_sent_is_dropped_not_a_crash():
    assert content_lemmas("\ud800 пахнет газом") == {"пахнуть", "газ"}
