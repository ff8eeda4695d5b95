"""The verifier as the service runs it: trained from the service's own records, versioned,
deciding the matcher's proposals, asking the paid judge in its uncertain band — and never
serving on a verifier it cannot load or run."""

import pytest
from sqlalchemy import func, select, update

from app.db.models import JudgeVerdict, VerifierVersion, VoiceLog
from app.verified_answers.verifier_store import labelled_pairs
from tests.support.dev_data import dev_answers, dev_questions
from tests.support.dialog import BOT_OPERATOR, ask, correct

#: Six operators' answers, each corrected onto four phrasings of its intent.
INTENTS = (
    "cleaning_frequency", "price_per_entrance", "dispatcher_phone",
    "window_washing", "trash_chute", "disinfection",
)  # fmt: skip
TAUGHT = 4


def phrasings() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for intent, question in dev_questions():
        found.setdefault(intent, []).append(question)
    missing = set(INTENTS) - set(found)
    assert not missing, f"dev intents renamed: {missing}"
    return {intent: found[intent] for intent in INTENTS}


def teach(bot) -> dict[str, list[str]]:
    """Every intent's reference answer, written by an operator for its first phrasings."""
    questions = phrasings()
    answers = dev_answers()
    for intent, asked in questions.items():
        for i, question in enumerate(asked[:TAUGHT]):
            reply = ask(bot, question, f"{intent}-{i}")
            correct(bot, reply["log_id"], answers[intent])
    return questions


def services_of(client):
    return client.app.state.services


def set_thresholds(database, **thresholds: float) -> None:
    """The newest version switched in, with the thresholds a version trained on more
    evidence would have."""
    with database.transaction() as session:
        version = session.scalars(
            select(VerifierVersion).order_by(VerifierVersion.id.desc())
        ).first()
        version.params = version.params | thresholds | {"per_answer": {}}
        version.status = "active"


@pytest.fixture
def taught(bot, database):
    questions = teach(bot)
    report = services_of(bot).verifier_trainer.train()
    assert report.status == "rejected" and "too few to bound" in report.reason, report
    return questions


def test_a_version_from_too_little_evidence_is_kept_out_and_says_why(bot, taught):
    status = bot.get("/api/voice/verifier", headers=BOT_OPERATOR).json()
    assert status["active"] is None
    (version,) = status["versions"]
    assert version["status"] == "rejected" and "static guards keep deciding" in version["reason"]
    assert version["training_pairs"] == 2 * len(INTENTS) * TAUGHT
    assert set(version["held_out"]) >= {"recall", "precision", "wrong_share", "wrong_interval"}
    # 48 pairs cannot bound a wrong-serve rate at 2 %: the version would serve nothing.
    assert version["serve_at"] > 1 and version["ask_from"] > 1
    assert ask(bot, taught["trash_chute"][0])["answer_source"] == "cache"


def test_a_confident_verifier_serves_an_unseen_paraphrase_without_a_paid_call(
    bot, taught, database, llm_server
):
    set_thresholds(database, serve_at=0.0, ask_from=0.0)
    served = 0
    for question in taught["cleaning_frequency"][TAUGHT:]:
        calls = len(llm_server.requests)
        reply = ask(bot, question)
        if reply["answer_source"] == "cache":  # the matcher proposed it: the verifier agreed
            served += 1
            assert reply["response"] == dev_answers()["cleaning_frequency"]
            assert len(llm_server.requests) == calls
    assert served >= 2


def test_in_the_band_the_judges_yes_serves_and_is_charged_and_kept(
    bot, taught, database, llm_server
):
    set_thresholds(database, serve_at=1.01, ask_from=0.0)
    llm_server.behaviour.verdict = "Да"
    question = taught["disinfection"][TAUGHT + 1]
    reply = ask(bot, question)
    assert reply["answer_source"] == "cache"
    assert len(llm_server.judge_requests()) == 1
    prompt = llm_server.judge_requests()[0]
    assert prompt["max_tokens"] <= 2
    assert sum(len(m["content"]) for m in prompt["messages"]) / 4 <= 220  # ~200 tokens
    with database.session() as session:
        log = session.get(VoiceLog, reply["log_id"])
        verdict = session.scalars(select(JudgeVerdict)).one()
    assert (log.prompt_tokens, log.completion_tokens) == (90, 1) and log.cost_usd > 0
    assert (verdict.log_id, verdict.agrees, verdict.question) == (log.id, True, question)


def test_in_the_band_a_no_or_a_failed_judge_lets_the_model_answer(
    bot, taught, database, llm_server
):
    set_thresholds(database, serve_at=1.01, ask_from=0.0)
    llm_server.behaviour.verdict = "Нет."
    reply = ask(bot, taught["price_per_entrance"][TAUGHT + 1])
    assert reply["answer_source"] == "llm"
    assert reply["response"] == llm_server.behaviour.reply
    llm_server.behaviour.verdict = "Возможно, это зависит от договора"
    assert ask(bot, taught["dispatcher_phone"][TAUGHT + 1])["answer_source"] == "llm"
    with database.session() as session:
        verdicts = session.scalars(select(JudgeVerdict.agrees)).all()
    assert verdicts == [False], "a non-answer is no verdict and teaches nothing"
    with database.session() as session:
        log = session.get(VoiceLog, reply["log_id"])
    assert log.prompt_tokens == 120 + 90, "the judge call is charged with the generation"


def test_a_verifier_that_cannot_be_loaded_serves_nothing_it_would_have_judged(
    bot, taught, database, caplog
):
    with database.transaction() as session:
        session.execute(
            update(VerifierVersion).values(params={"model": {"weights": "?"}}, status="active")
        )
    unseen = taught["cleaning_frequency"][TAUGHT + 1]
    assert ask(bot, unseen)["answer_source"] == "llm"
    assert "cannot be loaded" in caplog.text
    # An exact approved phrasing needs no verifier.
    assert ask(bot, taught["cleaning_frequency"][1])["answer_source"] == "cache"


def test_a_verifier_that_fails_to_predict_is_not_verified(bot, taught, database, monkeypatch):
    set_thresholds(database, serve_at=0.0, ask_from=0.0)

    def broken(*args, **kwargs):
        raise FloatingPointError("features went wrong")

    monkeypatch.setattr("app.verified_answers.verifier.pair_features", broken)
    assert ask(bot, taught["window_washing"][TAUGHT + 2])["answer_source"] == "llm"


def test_too_little_evidence_refuses_with_a_reason_and_changes_nothing(bot, database):
    report = services_of(bot).verifier_trainer.train()
    assert report.status == "refused"
    assert "a verifier needs at least 5" in report.reason
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(VerifierVersion)) == 0


def test_rollback_restores_the_previous_version(bot, taught, database):
    set_thresholds(database, serve_at=0.9, ask_from=0.6)
    with database.transaction() as session:  # a second version, switched in over the first
        session.execute(update(VerifierVersion).values(status="retired"))
        first = session.get(VerifierVersion, 1)
        session.add(VerifierVersion(status="active", params=first.params, training_pairs=1,
                                    held_out={}, max_error_rate=0.02))  # fmt: skip
    restored = bot.post("/api/voice/verifier/rollback", headers=BOT_OPERATOR)
    assert restored.status_code == 200, restored.text
    assert restored.json()["id"] == 1 and restored.json()["status"] == "active"
    with database.session() as session:
        statuses = dict(session.execute(select(VerifierVersion.id, VerifierVersion.status)).all())
    assert statuses == {1: "active", 2: "rejected"}
    again = bot.post("/api/voice/verifier/rollback", headers=BOT_OPERATOR)
    assert again.status_code == 409 and "предыдущей версии" in again.json()["detail"]


def test_training_on_demand_is_queued_once(bot):
    first = bot.post("/api/voice/verifier/train", headers=BOT_OPERATOR)
    second = bot.post("/api/voice/verifier/train", headers=BOT_OPERATOR)
    assert first.status_code == 202 and first.json()["queued"]
    assert second.json() == {"queued": False, "job_id": None}
    assert bot.post("/api/voice/verifier/train").status_code == 401


def test_one_client_refusing_an_answer_many_times_is_one_training_pair(
    bot, taught, database, llm_server
):
    """A script re-asking an answer and rating it 1 from one address gives the next
    verifier one refusal of it, not a hundred."""
    set_thresholds(database, serve_at=0.0, ask_from=0.0)
    refused = 0
    for i, question in enumerate(taught["cleaning_frequency"][TAUGHT:]):
        reply = ask(bot, question, f"script-{i}", address="10.9.9.9")
        if reply["answer_source"] != "cache":
            continue  # closer to a question it already refused than to an approved one
        refused += 1
        rated = bot.post(
            "/api/voice/feedback",
            json={"log_id": reply["log_id"], "rating": 1,
                  "feedback_token": reply["feedback_token"]},
            headers={"X-Forwarded-For": "10.9.9.9"},
        )  # fmt: skip
        assert rated.status_code == 200, rated.text
    assert refused >= 2
    services = services_of(bot)
    with database.session() as session:
        pairs = labelled_pairs(
            session, services.embeddings.model_name, services.embeddings.question_vector
        )
    assert [pair.label for pair in pairs] == [0]
