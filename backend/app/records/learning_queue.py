"""Learning transactions, many in one commit.

Every learning transaction first moves the learning revision, and so takes that one row's
lock: learning never deadlocks on the verified answers it touches and the change log stays
in commit order. Under load, ratings from every request thread queued on that row, each
holding a thread and a database connection while it waited, and the questions behind them
then waited for a thread (200 residents on 2 cores: answered questions' p99 12 s).

Here one thread per process does the learning. It takes everything queued, runs each piece
of work in a savepoint of one transaction and commits once: a replica takes the lock once
per batch instead of once per rating, and a rating waits for its batch on a future, not in a
thread. The work keeps its meaning: each piece sees the pieces before it, one that fails is
rolled back alone, and nothing is answered before its commit.
"""

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from app.db.database import Database, connection_lost

logger = logging.getLogger(__name__)

T = TypeVar("T")
#: A piece of learning: given the batch's session, it flushes; the queue commits.
LearningWork = Callable[[Session], T]

#: Enough to empty the queue of a busy replica in one commit, few enough that one batch
#: holds the revision's lock for tens of milliseconds, not seconds.
DEFAULT_MAX_BATCH = 32


@dataclass
class _Queued:
    work: LearningWork[Any]
    future: Future[Any]


@dataclass(frozen=True)
class _Outcome:
    value: Any = None
    error: BaseException | None = None

    def settle(self, future: Future[Any]) -> None:
        if self.error is not None:
            future.set_exception(self.error)
        else:
            future.set_result(self.value)


_STOP = object()


class LearningQueue:
    """One process's learning, committed in batches by one thread."""

    def __init__(self, database: Database, max_batch: int = DEFAULT_MAX_BATCH) -> None:
        self.database = database
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[_Queued | object] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        #: Starting the thread, closing, and queueing are one at a time: nothing is queued
        #: behind the stop.
        self._guard = threading.Lock()
        self._closed = False

    def submit(self, work: LearningWork[T]) -> "Future[T]":
        """Queue ``work``; the future holds what it returned once its batch committed, or
        what it raised (its own savepoint rolled back, the rest of the batch unharmed)."""
        future: Future[T] = Future()
        with self._guard:
            if self._closed:
                raise RuntimeError("the learning queue is closed")
            self._queue.put(_Queued(work, future))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._serve, name="learning-queue", daemon=True
                )
                self._thread.start()
        return future

    def run(self, work: LearningWork[T]) -> T:
        """``work`` committed; for callers that are on a thread of their own anyway."""
        return self.submit(work).result()

    def close(self) -> None:
        """Commit what is queued, then stop the thread."""
        with self._guard:
            self._closed = True
            thread = self._thread
            if thread is not None:
                self._queue.put(_STOP)
        if thread is not None:
            thread.join()

    def _serve(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is _STOP:
                return
            batch: list[_Queued] = [first]  # type: ignore[list-item]
            while len(batch) < self.max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stopping = True
                    break
                batch.append(item)  # type: ignore[arg-type]
            self._commit([item for item in batch if item.future.set_running_or_notify_cancel()])

    def _commit(self, batch: list[_Queued]) -> None:
        if not batch:
            return
        try:
            with self.database.transaction() as session:
                outcomes = [self._attempt(session, item.work) for item in batch]
        except Exception as error:
            # The commit itself failed (a lost connection, a conflict): each piece again in
            # a transaction of its own, so one cause fails only its own work.
            if len(batch) == 1:
                batch[0].future.set_exception(error)
                return
            logger.warning("a learning batch of %d failed to commit (%s): one by one",
                           len(batch), error)  # fmt: skip
            for item in batch:
                self._commit([item])
            return
        for item, outcome in zip(batch, outcomes, strict=True):
            outcome.settle(item.future)

    @staticmethod
    def _attempt(session: Session, work: LearningWork[Any]) -> _Outcome:
        """One piece in its own savepoint. A lost connection is not the piece's fault and
        leaves no transaction to commit the others in: it fails the whole batch with the
        outage itself (a 503 for every caller), not with the "rollback first" error that a
        commit on the dead connection would raise (a 500)."""
        try:
            with session.begin_nested():
                return _Outcome(value=work(session))
        except Exception as error:
            if connection_lost(error):
                raise
            return _Outcome(error=error)
