"""The learning queue: many pieces of learning in one commit, each with its own fate."""

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from app.db.database import Database
from app.records.learning_queue import LearningQueue

# A scratch table of the test's own: its unique name is checked only at commit, which is
# how a piece of work can make a whole batch fail to commit.
PROBE_TABLE = "learning_queue_probe"


@pytest.fixture
def probe(database: Database) -> Iterator[None]:
    with database.transaction() as session:
        session.execute(
            text(
                f"CREATE TABLE {PROBE_TABLE} (id serial PRIMARY KEY, name text, "
                "CONSTRAINT probe_name_unique UNIQUE (name) DEFERRABLE INITIALLY DEFERRED)"
            )
        )
    yield
    with database.transaction() as session:
        session.execute(text(f"DROP TABLE {PROBE_TABLE}"))


@pytest.fixture
def learning(database: Database) -> Iterator[LearningQueue]:
    queue = LearningQueue(database)
    yield queue
    queue.close()


def insert(name: str):
    def work(session) -> int:
        session.execute(text(f"INSERT INTO {PROBE_TABLE} (name) VALUES (:name)"), {"name": name})
        return session.scalar(text("SELECT txid_current()"))

    return work


def stored_names(database: Database) -> list[str]:
    with database.session() as session:
        return list(session.scalars(text(f"SELECT name FROM {PROBE_TABLE} ORDER BY id")))


def held_open(learning: LearningQueue) -> threading.Event:
    """Keep the queue's thread busy until the event is set, so what is submitted meanwhile
    waits and is taken as one batch."""
    release = threading.Event()
    learning.submit(lambda session: release.wait(10))
    return release


def test_work_queued_while_a_batch_commits_is_committed_together_in_one_transaction(
    database, probe, learning
):
    release = held_open(learning)
    futures = [learning.submit(insert(f"rating {n}")) for n in range(10)]
    release.set()

    transactions = {future.result(timeout=10) for future in futures}

    assert len(transactions) == 1
    assert stored_names(database) == [f"rating {n}" for n in range(10)]


def test_a_piece_that_fails_is_rolled_back_alone_and_its_caller_gets_the_error(
    database, probe, learning
):
    def fails(session):
        insert("half done")(session)
        raise ValueError("refused")

    release = held_open(learning)
    before = learning.submit(insert("before"))
    failing = learning.submit(fails)
    after = learning.submit(insert("after"))
    release.set()

    assert before.result(timeout=10) == after.result(timeout=10)
    with pytest.raises(ValueError, match="refused"):
        failing.result(timeout=10)
    assert stored_names(database) == ["before", "after"]


def test_each_piece_sees_what_the_pieces_before_it_in_its_batch_wrote(database, probe, learning):
    def count(session) -> int:
        return session.scalar(text(f"SELECT count(*) FROM {PROBE_TABLE}"))

    release = held_open(learning)
    learning.submit(insert("first"))
    seen = learning.submit(count)
    release.set()

    assert seen.result(timeout=10) == 1


def test_a_result_is_given_only_once_its_work_is_committed(database, probe, learning):
    learning.run(insert("committed"))

    assert stored_names(database) == ["committed"]


def test_a_batch_that_fails_to_commit_is_committed_piece_by_piece(database, probe, learning):
    release = held_open(learning)
    first = learning.submit(insert("same name"))
    duplicate = learning.submit(insert("same name"))
    other = learning.submit(insert("other"))
    release.set()

    first_transaction = first.result(timeout=10)
    assert other.result(timeout=10) != first_transaction
    with pytest.raises(Exception, match="probe_name_unique"):
        duplicate.result(timeout=10)
    assert stored_names(database) == ["same name", "other"]


def test_closing_commits_what_is_queued_and_refuses_more(database, probe):
    learning = LearningQueue(database)
    release = held_open(learning)
    queued = learning.submit(insert("queued before closing"))
    closing = threading.Thread(target=learning.close)
    closing.start()
    release.set()
    closing.join(timeout=10)

    assert queued.done() and queued.exception() is None
    assert stored_names(database) == ["queued before closing"]
    with pytest.raises(RuntimeError, match="closed"):
        learning.submit(insert("too late"))


def lose_connection(session) -> None:
    """The database ends this session's connection, as a crash or a restart would."""
    session.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))


def test_a_connection_lost_mid_batch_fails_its_callers_with_the_outage_not_a_rollback_error(
    database, probe, learning
):
    release = held_open(learning)
    lost = learning.submit(lose_connection)
    neighbour = learning.submit(insert("queued beside the lost connection"))
    release.set()

    # An outage (OperationalError: the API answers 503), never PendingRollbackError (500).
    with pytest.raises(OperationalError):
        lost.result(timeout=10)
    assert neighbour.result(timeout=10) is not None, "retried alone on a fresh connection"
    assert stored_names(database) == ["queued beside the lost connection"]
    assert learning.run(insert("after")) is not None, "the queue keeps working"
