"""The emergency entry gives each kind its number, and an emergency is answered even when
an operator broke the file."""

from app.core.config import Settings
from app.emergencies.answers import BUILT_IN, EmergencyAnswers
from app.emergencies.detector import KINDS

NUMBERS = {"gas": "104", "fire": "101", "person": "103"}


def shipped() -> EmergencyAnswers:
    return EmergencyAnswers.load(Settings(_env_file=None).emergency_answers_file)


def test_the_shipped_entry_answers_every_kind_with_its_number_112_and_the_dispatcher():
    answers = shipped()
    for kind in KINDS:
        text = answers.answer(kind)
        assert "112" in text and "8-800-555-01-23" in text, kind
        assert NUMBERS.get(kind, "112") in text, kind
        assert text != answers.answer("other"), "every kind has a section of its own"


def test_the_shipped_entry_is_the_file_not_the_built_in_stand_in():
    assert shipped().answer("gas").startswith("Похоже на утечку газа. Не включайте")


def test_a_missing_file_answers_with_the_built_in_text(tmp_path):
    answers = EmergencyAnswers.load(tmp_path / "gone.md")
    assert "104" in answers.answer("gas") and "112" in answers.answer("gas")


def test_a_file_without_a_kind_keeps_the_others_and_stands_in_for_that_one(tmp_path):
    path = tmp_path / "emergency.md"
    path.write_text("## Пожар (fire)\n- Звоните 101 немедленно.\n", encoding="utf-8")
    answers = EmergencyAnswers.load(path)
    assert answers.answer("fire").startswith("Звоните 101 немедленно.")
    assert answers.answer("gas").startswith(BUILT_IN["gas"])
    assert "112" in answers.answer("fire"), "the common part stands in too"
