"""Health checks that cost something are remembered for a while: polling /health cannot
make the service embed text without limit, and a failure still shows once it is due."""

from app.monitoring.health import CHECK_CACHE_SECONDS, HealthChecker


class CountingEmbeddings:
    def __init__(self) -> None:
        self.calls, self.broken = 0, False

    def question_vector(self, text: str):
        self.calls += 1
        if self.broken:
            raise RuntimeError("embedder out of memory")
        return [0.0]


class NoLocalModel:
    status = "disabled"


def test_the_embedding_check_runs_once_per_period_and_sees_a_failure_after_it(database):
    embeddings, now = CountingEmbeddings(), [0.0]
    checker = HealthChecker(database, embeddings, None, NoLocalModel(), clock=lambda: now[0])

    reports = [checker.check() for _ in range(20)]

    assert embeddings.calls == 1
    assert {r.components["embedding_service"] for r in reports} == {"healthy"}
    embeddings.broken = True
    now[0] = CHECK_CACHE_SECONDS + 1
    assert checker.check().components["embedding_service"] == "unavailable"
    assert embeddings.calls == 2
    assert checker.check().components["database"] == "healthy", "the database is asked every time"
