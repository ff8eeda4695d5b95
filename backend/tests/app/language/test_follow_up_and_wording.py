"""Follow-up questions and the content words two phrasings share: what the cache, the
prompt and the implicit signals read in a question before any model does."""

import pytest

from app.language.follow_up import is_follow_up
from app.language.wording import content_stems


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
