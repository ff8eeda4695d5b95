"""Rate limits: a token bucket per key, and 429 with Retry-After from process and feedback."""

import pytest
from sqlalchemy import text

from app.access.rate_limit import RateLimiter
from tests.support.dialog import ask
from tests.support.feedback import rate


def test_a_bucket_allows_its_burst_then_says_how_long_to_wait():
    limiter = RateLimiter(per_minute=3)
    assert [limiter.retry_after("a", now=0.0) for _ in range(3)] == [None, None, None]
    assert limiter.retry_after("a", now=0.0) == 20  # one token every 20 s
    assert limiter.retry_after("b", now=0.0) is None, "keys do not share a bucket"
    assert limiter.retry_after("a", now=20.0) is None
    assert limiter.retry_after("a", now=21.0) == 19


def test_zero_means_no_limit_and_idle_keys_are_forgotten():
    assert all(RateLimiter(0).retry_after("a") is None for _ in range(1000))
    limiter = RateLimiter(per_minute=60, max_keys=2)
    limiter.retry_after("a", now=0.0)
    limiter.retry_after("b", now=0.0)
    limiter.retry_after("c", now=120.0)  # a and b have refilled: dropped, not kept forever
    assert set(limiter._buckets) == {"c"}


def test_process_and_feedback_answer_429_with_retry_after(make_client, make_settings):
    client = make_client(
        make_settings(RATE_LIMIT_SESSION_PER_MINUTE="2", RATE_LIMIT_CLIENT_PER_MINUTE="4")
    )
    ask = lambda session: client.post(  # noqa: E731
        "/api/voice/process", json={"message": "Как часто моют подъезд?", "session_id": session}
    )
    first, second, third = ask("s1"), ask("s1"), ask("s1")
    assert (first.status_code, second.status_code, third.status_code) == (200, 200, 429)
    assert int(third.headers["Retry-After"]) >= 1 and "Слишком много" in third.json()["detail"]

    assert ask("s2").status_code == 200  # another conversation, same address: 4th of 4
    assert ask("s3").status_code == 429  # the address is out of tokens
    feedback = rate(client, first.json(), 5)
    assert feedback.status_code == 429 and "Retry-After" in feedback.headers


def test_failed_token_guesses_never_lock_the_resident_out_of_rating(make_client, make_settings):
    """Someone who saw a log id floods feedback with wrong tokens from their own address:
    they run out of tokens, the resident's conversation does not."""
    client = make_client(make_settings(RATE_LIMIT_SESSION_PER_MINUTE="3"))
    answer = client.post(
        "/api/voice/process", json={"message": "Как часто моют подъезд?", "session_id": "kv-7"}
    ).json()

    guesses = [
        client.post(
            "/api/voice/feedback",
            json={"log_id": answer["log_id"], "rating": 1, "feedback_token": f"guess-{n}"},
        ).status_code
        for n in range(31)
    ]

    assert set(guesses) == {403}
    assert rate(client, answer, 5).status_code == 200, "the resident can still rate"


def test_a_stranger_flooding_a_known_session_id_never_locks_its_resident_out(
    make_client, make_settings
):
    """ "kv-12" is a string anyone can send. A stranger who floods it from their address runs
    out of their own copy of that conversation; the resident who holds the conversation's
    token, and a seed client at its own address without one, still get answers."""
    client = make_client(
        make_settings(RATE_LIMIT_SESSION_PER_MINUTE="3", RATE_LIMIT_CLIENT_PER_MINUTE="100")
    )
    opened = ask(client, "Как часто моют подъезд?", "kv-12", address="10.0.0.1")

    def stranger() -> int:
        return client.post(
            "/api/voice/process",
            json={"message": "Как часто моют подъезд?", "session_id": "kv-12"},
            headers={"X-Forwarded-For": "10.66.6.6"},
        ).status_code

    flood = [stranger() for _ in range(5)]
    assert flood == [200, 200, 200, 429, 429], "the stranger's own copy runs dry"

    for _ in range(2):  # the resident's 2nd and 3rd turns: the conversation's own bucket
        ask(client, "А лифт моют?", "kv-12", address="10.0.0.2",
            conversation_token=opened["conversation_token"])  # fmt: skip
    ask(client, "А окна?", "kv-12", address="10.0.0.1")  # a seed client keeps its address


@pytest.mark.parametrize(("store", "fourth"), [("postgres", 429), ("memory", 200)])
def test_a_client_gets_its_limit_once_across_replicas_when_buckets_are_shared(
    make_client, make_settings, database, store, fourth
):
    """Two replicas on one database, a limit of 3 questions a minute: with the buckets in
    PostgreSQL the client's fourth question is refused whichever replica gets it; kept in
    each process (``memory``), each replica would give it 3."""
    limits = {"RATE_LIMIT_CLIENT_PER_MINUTE": "3", "RATE_LIMIT_SESSION_PER_MINUTE": "0",
              "RATE_LIMIT_STORE": store}  # fmt: skip
    first, second = make_client(make_settings(**limits)), make_client(make_settings(**limits))
    address = {"X-Forwarded-For": "10.20.30.40"}

    def ask(replica) -> int:
        body = {"message": "Как часто моют подъезд?"}
        return replica.post("/api/voice/process", json=body, headers=address).status_code

    assert [ask(first), ask(second), ask(first)] == [200, 200, 200]
    assert ask(second) == fourth
    if store == "postgres":
        with database.session() as session:
            keys = session.scalars(text("SELECT key FROM rate_limit_buckets")).all()
        assert keys and not any("10.20.30.40" in key for key in keys), "no address is stored"
