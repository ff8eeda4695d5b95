"""When a retraining run is queued: a crossed threshold with enough new training data queues
one run and only one; without enough new data nothing is queued."""

from sqlalchemy import select

from app.db.models import RetrainingRun
from app.retraining.decision import decide_retraining, queue_decided
from tests.support.logs import rated_history

EVERYTHING_BAD = [1] * 20 + [3] * 10 + [4] * 10  # 2.25 / 25 % / 50 %


def decide_and_queue(session, settings, **options):
    """What ``check_and_queue`` does inside its transaction."""
    check = decide_retraining(session, settings, **options)
    queue_decided(session, check)
    return check


def test_a_crossed_threshold_with_enough_new_data_queues_one_run_and_only_one(
    database, make_settings
):
    settings = make_settings(RETRAINING_MIN_NEW_SAMPLES="10")
    with database.session() as session:
        rated_history(session, EVERYTHING_BAD)  # 10 approved (4★) dialogs
        first = decide_and_queue(session, settings)
        session.commit()
        again = decide_and_queue(session, settings)
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
        check = decide_and_queue(session, settings)
    assert check.decision.required and check.run_id is None
    assert check.notes == ["not enough new training data: 10 approved dialogs < 11"]


ALL_GOOD = [5] * 30  # quality holds: 30 approved dialogs


def test_with_a_local_model_enough_fresh_approved_data_queues_a_run_while_quality_holds(
    database, make_settings
):
    settings = make_settings(USE_LOCAL_MODEL="true", RETRAINING_EVERY_NEW_SAMPLES="30",
                             RETRAINING_MIN_NEW_SAMPLES="30")  # fmt: skip
    with database.session() as session:
        rated_history(session, ALL_GOOD)
        check = decide_and_queue(session, settings, fresh_data_only=True)
        session.commit()
        again = decide_and_queue(session, settings, fresh_data_only=True)
        session.commit()

    assert check.run_created
    assert check.decision.reasons == ["30 new approved dialogs since the last run ≥ 30"]
    assert not again.run_created  # the open run is returned; nothing new since


def test_fresh_data_retrains_only_with_a_local_model_and_only_past_its_threshold(
    database, make_settings
):
    with database.session() as session:
        rated_history(session, ALL_GOOD)
        no_model = make_settings(RETRAINING_EVERY_NEW_SAMPLES="30")
        too_few = make_settings(USE_LOCAL_MODEL="true", RETRAINING_EVERY_NEW_SAMPLES="31",
                                RETRAINING_MIN_NEW_SAMPLES="30")  # fmt: skip
        off = make_settings(USE_LOCAL_MODEL="true")
        for settings in (no_model, too_few, off):
            check = decide_and_queue(session, settings, fresh_data_only=True)
            assert not check.decision.required and check.run_id is None
        # A quality check proper still reports why quality alone does not retrain.
        quality = decide_and_queue(session, too_few)
        assert not quality.decision.required and quality.decision.reasons == []
