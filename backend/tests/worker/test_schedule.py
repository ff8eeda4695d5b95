"""The worker's schedule between two weekly evaluations: with a local model, enough fresh
approved dialogs queue a retraining run on the next tick; without one, a tick between
evaluations does nothing."""

from sqlalchemy import select, update

from app.container import build_services
from app.db.models import RetrainingRun
from tests.support.logs import rated_history
from worker.schedule import run_schedule

#: No verified answers yet: every tick tries to train a verifier and refuses, saying why.
TOO_LITTLE_FOR_A_VERIFIER = (
    "refused: 0 verified answers have 3 or more approved phrasings; a verifier needs at least 5"
)


def test_a_tick_between_evaluations_retrains_on_fresh_data(database, make_settings, embedder):
    settings = make_settings(USE_LOCAL_MODEL="true", RETRAINING_EVERY_NEW_SAMPLES="20",
                             RETRAINING_MIN_NEW_SAMPLES="20")  # fmt: skip
    services = build_services(settings, embedder=embedder)
    try:
        with database.session() as session:
            rated_history(session, [5] * 20)
        first = run_schedule(services)  # the weekly evaluation is due: quality holds
        assert first["evaluated"] and first["retraining_run_id"] is not None
        with database.transaction() as session:  # that run ended
            session.execute(update(RetrainingRun).values(status="rejected"))

        quiet = run_schedule(services)  # no new data since that run
        with database.session() as session:
            rated_history(session, [5] * 20, days_ago=0)
        fresh = run_schedule(services)

        with database.session() as session:
            runs = session.scalars(select(RetrainingRun).order_by(RetrainingRun.id)).all()
    finally:
        services.close()
    assert quiet == {
        "evaluated": False,
        "retraining_run_id": None,
        "abandoned_marked": 0,
        "recordings_purged": 0,
        "verifier": TOO_LITTLE_FOR_A_VERIFIER,
    }
    assert not fresh["evaluated"] and fresh["retraining_run_id"] == runs[-1].id
    assert len(runs) == 2
    assert runs[-1].reasons == ["20 new approved dialogs since the last run ≥ 20"]


def test_without_a_local_model_a_tick_between_evaluations_does_nothing(
    database, make_settings, embedder
):
    services = build_services(make_settings(RETRAINING_EVERY_NEW_SAMPLES="20"), embedder=embedder)
    try:
        with database.session() as session:
            rated_history(session, [5] * 20)
        run_schedule(services)
        with database.session() as session:
            rated_history(session, [5] * 20, days_ago=0)
        assert run_schedule(services) == {
            "evaluated": False,
            "retraining_run_id": None,
            "abandoned_marked": 0,
            "recordings_purged": 0,
            "verifier": TOO_LITTLE_FOR_A_VERIFIER,
        }
    finally:
        services.close()
    with database.session() as session:
        assert session.scalars(select(RetrainingRun)).all() == []
