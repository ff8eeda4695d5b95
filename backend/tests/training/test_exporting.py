"""export_logs on a real history: what is kept, what is cleaned, what leaves the database."""

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.core.paths import BACKEND_DIR
from app.db.models import TrainingDataset
from app.embeddings.service import EmbeddingService
from app.knowledge.service import KnowledgeBase
from app.llm.prompt import HAND_ON_ANSWER
from tests.support.logs import add_log
from training.dataset_format import validate_file
from training.exporting import ExportOptions, export

PHONE_ANSWER = "Телефон диспетчерской: 8-800-555-01-23, звонок бесплатный."


@pytest.fixture
def history(database, embedder):
    """A month of dialogs: good, bad, corrected, duplicated, old, and full of personal data."""
    embeddings = EmbeddingService(embedder)
    with database.transaction() as session:  # the company's own contacts are public
        KnowledgeBase(embedder).import_file(session, BACKEND_DIR / "knowledge/company_facts.md")
    now = datetime.now(UTC)
    rows = [
        ("Как позвонить диспетчеру?", PHONE_ANSWER, 5, None, 1),
        ("Как позвонить диспетчеру?", PHONE_ANSWER, 5, None, 2),  # exact duplicate
        ("Как позвонить диспетчеру ?", PHONE_ANSWER, 4, None, 3),  # near duplicate
        (
            "Меня зовут Ирина Петрова, ул. Ленина, д. 5, кв. 12, мой номер +7 912 345-67-89. "
            "Когда помоют окна?",
            "Ирина, окна моем 2 раза в год — в апреле и в сентябре.",
            5,
            None,
            4,
        ),
        ("Сколько стоит уборка?", "Не знаю.", 1, "Уборка подъезда — 4800 рублей в месяц.", 5),
        ("Когда моют полы?", "Каждый день в полночь.", 2, None, 6),  # refused, not corrected
        ("Кто моет лифт?", "Уборщица.", 3, None, 7),  # below the rating threshold
        ("ок", "Хорошо!", 5, None, 8),  # too short
        ("Старый вопрос про уборку?", "Старый ответ про уборку.", 5, None, 60),  # too old
        ("Пишите мне на ivan@mail.ru, где акт?", "Акт пришлём в личный кабинет.", 5, None, 9),
    ]
    with database.session() as session:
        for question, answer, rating, correction, days_ago in rows:
            log = add_log(
                session,
                question,
                answer,
                rating=rating,
                corrected_response=correction,
                created_at=now - timedelta(days=days_ago, minutes=days_ago),
            )
            embeddings.store_log_vectors(session, [(log.id, embeddings.question_vector(question))])
        session.commit()


def run(database, settings, tmp_path, **options):
    return export(database, settings, ExportOptions(out_dir=tmp_path, **options))


def lines(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_approved_dialogs_are_exported_clean_and_scrubbed(history, database, settings, tmp_path):
    result = run(database, settings, tmp_path)

    samples = lines(result.path)
    assert result.path.name.startswith("training_data_") and result.path.suffix == ".jsonl"
    # Newest first.
    assert [s["messages"][1]["content"] for s in samples] == [
        "Как позвонить диспетчеру?",
        "Меня зовут [ИМЯ], [АДРЕС], [КВАРТИРА], мой номер [ТЕЛЕФОН]. Когда помоют окна?",
        "Сколько стоит уборка?",
        "Пишите мне на [EMAIL], где акт?",
    ]
    answers = {s["messages"][1]["content"]: s["messages"][2]["content"] for s in samples}
    assert answers["Сколько стоит уборка?"] == "Уборка подъезда — 4800 рублей в месяц."
    assert answers["Как позвонить диспетчеру?"] == PHONE_ANSWER, "company contacts stay"
    text = result.path.read_text(encoding="utf-8")
    for personal in ("Ирина", "Петрова", "Ленина", "345-67-89", "ivan@mail.ru"):
        assert personal not in text
    assert all(s["messages"][0]["role"] == "system" for s in samples)
    assert validate_file(result.path, "chat") == []


def test_every_cleaning_rule_is_counted_in_the_stats(history, database, settings, tmp_path):
    result = run(database, settings, tmp_path)

    stats = json.loads(result.path.with_suffix(".stats.json").read_text())
    assert stats["removed"] == {"exact_duplicate": 1, "near_duplicate": 1, "too_short": 1}
    assert stats["by_rating"] == {"5": 3, "corrected": 1}
    assert stats["candidates"] == 7
    assert stats["answer_chars"]["max"] >= stats["answer_chars"]["p50"] > 0
    with database.session() as session:
        row = session.scalars(select(TrainingDataset)).one()
    assert row.status == "ready" and row.total_samples == 4 and row.path == str(result.path)
    assert row.filters["min_rating"] == 4 and row.stats["samples"] == 4


def test_without_corrections_a_corrected_low_rated_dialog_is_left_out(
    history, database, settings, tmp_path
):
    result = run(database, settings, tmp_path, include_corrections=False)
    questions = [s["messages"][1]["content"] for s in lines(result.path)]
    assert "Сколько стоит уборка?" not in questions


def test_prompt_completion_format_split_and_preference_pairs(history, database, settings, tmp_path):
    result = run(database, settings, tmp_path, format="prompt_completion", split=0.5, pairs=True)

    samples = lines(result.path) + lines(result.validation_path)
    assert len(samples) == 4 and result.validation_samples >= 1
    assert all(s["prompt"].endswith("Бот:") for s in samples)
    pairs = lines(result.pairs_path)
    assert {
        "prompt": [{"role": "user", "content": "Сколько стоит уборка?"}],
        "chosen": [{"role": "assistant", "content": "Уборка подъезда — 4800 рублей в месяц."}],
        "rejected": [{"role": "assistant", "content": "Не знаю."}],
    }.items() <= {k: v for k, v in pairs[0].items() if k != "meta"}.items()
    assert validate_file(result.pairs_path, "pairs") == []


def test_an_empty_database_exports_an_empty_dataset(database, settings, tmp_path):
    result = run(database, settings, tmp_path)
    assert result.samples == 0
    with database.session() as session:
        assert session.scalars(select(TrainingDataset.status)).one() == "empty"


def test_the_seed_command_line_works_verbatim(history, database_url, tmp_path):
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "training.export_logs",
            "--min-rating",
            "4",
            "--days-back",
            "30",
            "--max-samples",
            "5000",
            "--out",
            str(tmp_path),
        ],
        cwd=BACKEND_DIR,
        env={"DATABASE_URL": database_url, "PATH": "/usr/bin:/bin", "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr
    exported = list(tmp_path.glob("training_data_*.jsonl"))
    assert len(exported) == 1 and len(lines(exported[0])) == 4
    assert "training samples" in completed.stdout


def test_max_samples_keeps_the_newest_and_counts_the_rest(history, database, settings, tmp_path):
    result = run(database, settings, tmp_path, max_samples=2)
    questions = [s["messages"][1]["content"] for s in lines(result.path)]
    assert questions[0] == "Как позвонить диспетчеру?" and len(questions) == 2
    assert result.stats["removed"]["over_max_samples"] == 7 - 2 - 2  # 2 duplicates seen first


def test_golden_set_questions_are_never_exported(history, database, settings, tmp_path):
    from app.db.models import GoldenSetItem

    with database.session() as session:
        session.add(
            GoldenSetItem(
                question="Сколько стоит уборка?",
                question_key="сколько стоит уборка",
                approved_answer="Уборка подъезда — 4800 рублей в месяц.",
                origin="correction",
            )
        )
        session.commit()

    result = run(database, settings, tmp_path, pairs=True)

    text = result.path.read_text(encoding="utf-8") + result.pairs_path.read_text(encoding="utf-8")
    assert "Сколько стоит уборка" not in text and "4800" not in text
    assert result.stats["removed"]["golden_set"] == 1


def test_one_conversation_contributes_at_most_max_per_session_rated_dialogs(
    database, settings, tmp_path
):
    with database.session() as session:
        for n in range(6):  # one script rating its own answers five stars
            add_log(
                session,
                f"Вопрос {n} про мусор",
                f"Ответ {n} про вывоз мусора.",
                rating=5,
                session_id="flood",
            )
        add_log(session, "Когда моют окна?", "Окна моем в апреле.", rating=5, session_id="flat-1")
        add_log(
            session,
            "Сколько стоит уборка?",
            "Не знаю.",
            rating=1,
            corrected_response="Уборка подъезда — 4800 рублей в месяц.",
            session_id="flood",
        )
        session.commit()

    result = run(database, settings, tmp_path, max_per_session=2)

    assert result.samples == 2 + 1 + 1  # the flood's two newest, the other flat, the correction
    assert result.stats["removed"]["session_cap"] == 4
    assert result.stats["by_rating"] == {"5": 3, "corrected": 1}
    assert run(database, settings, tmp_path / "all", max_per_session=10).samples == 8


def test_one_client_contributes_at_most_max_per_session_however_many_sessions_it_uses(
    database, settings, tmp_path
):
    with database.session() as session:
        for n in range(6):  # one address, a new session id for every rating
            add_log(
                session,
                f"Вопрос {n} про мусор",
                f"Ответ {n} про вывоз мусора.",
                rating=5,
                session_id=f"flood-{n}",
                client_key="one-address",
            )
        add_log(session, "Когда моют окна?", "Окна моем в апреле.", rating=5, client_key="flat")
        session.commit()

    result = run(database, settings, tmp_path, max_per_session=2)

    assert result.samples == 2 + 1
    assert result.stats["removed"]["session_cap"] == 4


def test_residents_answers_with_unpublished_contacts_are_never_training_data(
    history, database, settings, tmp_path
):
    with database.session() as session:
        add_log(
            session,
            "Как оплатить уборку подъезда?",
            "Переведите оплату на карту 4276 1600 1234 5678, получатель Иван.",
            rating=5,
        )
        add_log(
            session,
            "Какой телефон у диспетчерской?",
            "Телефон диспетчерской: 8-800-555-01-23, звонок бесплатный.",
            rating=5,
        )
        session.commit()

    result = run(database, settings, tmp_path)

    text = result.path.read_text(encoding="utf-8")
    assert "4276" not in text
    assert "8-800-555-01-23" in text, "the company's published phone is fine"
    assert result.stats["removed"]["unpublished_contacts"] == 1


def test_grounded_samples_hide_the_answer_among_other_answers_or_hand_the_question_on(
    history, database, settings, tmp_path
):
    """The prompt the local model will get: the approved answer quoted among distractor
    answers (never a copy of itself), or only distractors and the hand-on answer."""
    result = run(database, settings, tmp_path, grounded=True, distractors=2, no_answer_share=0.5)

    samples = lines(result.path)
    assert validate_file(result.path, "chat") == [] and len(samples) == result.samples >= 4
    exported = {s["meta"]["log_id"] for s in samples}
    assert exported == {s["meta"]["log_id"] for s in lines(run(database, settings, tmp_path).path)}
    kinds = {s["meta"]["answer_in_context"] for s in samples}
    assert kinds == {True, False}, "both kinds with half of the samples handing on"
    for sample in samples:
        messages = sample["messages"]
        quoted, target = messages[1]["content"], messages[-1]["content"]
        assert messages[-2]["role"] == "user" and messages[-1]["role"] == "assistant"
        shown = [line.removeprefix("- ") for line in quoted.split("\n\n")[1:]]
        assert len(shown) == 3, "as many answers either way: their count gives nothing away"
        assert sample["meta"]["distractors"] == 3 - sample["meta"]["answer_in_context"]
        assert all("Ирина" not in text for text in shown), "distractors are scrubbed too"
        if sample["meta"]["answer_in_context"]:
            assert sum(text == target for text in shown) == 1, "distractors are other answers"
        else:
            assert target == HAND_ON_ANSWER and HAND_ON_ANSWER not in shown


def test_grounded_samples_render_as_prompt_and_completion_too(
    history, database, settings, tmp_path
):
    result = run(database, settings, tmp_path, grounded=True, format="prompt_completion")
    samples = lines(result.path)
    assert validate_file(result.path, "prompt_completion") == []
    assert all("Справка" in s["prompt"] and s["prompt"].endswith("Бот:") for s in samples)


def test_misheard_spoken_questions_are_never_exported(history, database, make_settings, tmp_path):
    """A transcript below ASR_MIN_CONFIDENCE may not be what the resident asked: its dialog
    trains nothing, rated five stars or corrected, and the statistics count it."""
    settings = make_settings(ASR_MIN_CONFIDENCE="0.8")
    with database.session() as session:
        add_log(session, "Как часто мой подъезд?", "Моем 2 раза в неделю.", rating=5,
                asr_confidence=0.55)  # fmt: skip
        add_log(session, "Когда меняют коврики?", "Каждые 2 недели.", rating=5,
                asr_confidence=0.93)  # fmt: skip
        add_log(session, "Кто моет кнопки лифта?", "Не знаю.", rating=1, asr_confidence=0.4,
                corrected_response="Кнопки лифта протираем каждый день.")  # fmt: skip
        session.commit()

    result = run(database, settings, tmp_path, pairs=True)

    text = result.path.read_text(encoding="utf-8") + result.pairs_path.read_text(encoding="utf-8")
    assert "мой подъезд" not in text and "кнопки лифта" not in text.lower()
    assert "Когда меняют коврики?" in text, "a surely heard spoken question is exported"
    assert result.stats["removed"]["misheard_transcript"] == 2
