"""When a retraining run is queued: a crossed threshold with enough new training data queues
one run and only one; without enough new data nothing is queued."""

from sqlalchemy import select

from app.db.models import RetrainingRun
from app.retraining.decision import check_retraining
from tests.support.logs import rated_history

EVERYTHING_BAD = [1] * 20 + [3] * 10 + [4] * 10  # 2.25 / 25 % / 50 %


def test_a_crossed_threshold_with_enough_new_data_queues_one_run_and_only_one(
    database, make_settings
):
    settings = make_settings(RETRAINING_MIN_NEW_SAMPLES="10")
    with database.session() as session:
        rated_history(session, EVERYTHING_BAD)  # 10 approved (4★) dialogs
        first = check_retraining(session, settings, enqueue=True)
        session.commit()
        again = check_retraining(session, settings, enqueue=True)
        session.commit()
        runs = session.scalars(select(RetrainingRun)).all()

    assert first.run_created and first.new_samples == 10
    assert not again.run_created and again.run_id == first.run_id
    assert len(runs) == 1 and runs[0].status == "queued"
    assert runs[0].reasons == first.decision.reasons


def test_without_enough_new_training_data_nothing_is_queued(database, make_settings):
    settings = make_settings(RETRAINING_MIN_NEW_SAMPLES="11")
    with database.session() as session:
        rated_history(session, EVERYTHING_BAD)
        check = check_retraining(session, settings, enqueue=True)
    assert check.decision.required and check.run_id is None
    assert check.notes == ["not enough new training data: 10 approved dialogs < 11"]
