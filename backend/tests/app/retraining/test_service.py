"""Requesting a run outside HTTP (what the route calls): committed before the job is
deferred, and the open run returned while one is queued."""

from sqlalchemy import select

from app.db.models import RetrainingRun, RetrainingStatus
from app.retraining.service import request_run


def test_a_request_queues_one_run_and_one_job_and_a_second_gets_the_same_run(database):
    first = request_run(database, ["новый тариф"])
    second = request_run(database, ["ещё раз"])

    assert first.id == second.id and first.status == RetrainingStatus.QUEUED
    with database.session() as session:
        runs = session.scalars(select(RetrainingRun)).all()
    assert [(run.id, run.reasons) for run in runs] == [(first.id, ["новый тариф"])]
    with database.engine.connect() as connection:
        jobs = connection.exec_driver_sql("SELECT args FROM procrastinate_jobs").all()
    assert jobs == [({"run_id": first.id},)]
