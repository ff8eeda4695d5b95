"""A full replica sheds questions instead of queueing them: with two questions waiting on a
slow paid model, the third is refused at once with 503 and when to retry, while ratings and
health still answer; the two finish; afterwards questions are answered again."""

import concurrent.futures
import select
import socket
import time

import httpx
import pytest

from tests.support.dialog import BOT_OPERATOR


def test_a_full_replica_answers_503_at_once_and_keeps_its_other_doors_open(
    serve, make_settings, llm_server
):
    llm_server.behaviour.mode, llm_server.behaviour.delay_seconds = "slow", 2.0
    server = serve(make_settings(
        EMERGENT_LLM_KEY="test-key", LLM_BASE_URL=llm_server.base_url, LLM_TIMEOUT_SECONDS="10",
        ADMIN_API_KEY="operator-secret-key", MAX_CONCURRENT_REQUESTS="2",
        SHED_RETRY_AFTER_MS="750",
    ))  # fmt: skip
    client = httpx.Client(base_url=server.url, timeout=30)

    def ask(number: int) -> httpx.Response:
        return client.post("/api/voice/process", json={"message": f"Вопрос номер {number}?"})

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        slow = [pool.submit(ask, number) for number in range(2)]
        wait_for_model_calls(llm_server, 2)  # both questions are now waiting on the paid model
        started = time.perf_counter()
        shed = ask(3)
        shed_seconds = time.perf_counter() - started
        health = client.get("/api/voice/health")
        metrics = client.get("/metrics", headers=BOT_OPERATOR)
        answered = [future.result() for future in slow]

    assert shed.status_code == 503
    assert shed.headers["retry-after"] == "1" and shed.headers["retry-after-ms"] == "750"
    assert shed.json()["retry_after_ms"] == 750 and "перегружен" in shed.json()["detail"]
    assert shed_seconds < 1.0, "refused at once, not after the questions before it"
    assert health.status_code == 200
    assert "vasdom_shed_requests_total 1.0" in metrics.text
    assert [r.status_code for r in answered] == [200, 200]
    llm_server.behaviour.mode = "ok"
    assert answered_after_retries(ask) == 200, "the replica takes questions again with room"


def wait_for_model_calls(llm_server, count: int, seconds: float = 10) -> None:
    """Until ``count`` questions are waiting on the (slow) paid model: their slots taken."""
    deadline = time.monotonic() + seconds
    while len(llm_server.chat_requests()) < count and time.monotonic() < deadline:
        time.sleep(0.02)


def answered_after_retries(ask) -> int:
    """As a client does: a shed question is asked again after its Retry-After-Ms."""
    for _ in range(20):
        response = ask(4)
        if response.status_code != 503:
            return response.status_code
        time.sleep(int(response.headers["retry-after-ms"]) / 1000)
    return 503


def test_a_replica_refusing_far_more_than_it_answers_advises_a_longer_wait(
    serve, make_settings, llm_server
):
    llm_server.behaviour.mode, llm_server.behaviour.delay_seconds = "slow", 3.0
    server = serve(make_settings(
        EMERGENT_LLM_KEY="test-key", LLM_BASE_URL=llm_server.base_url, LLM_TIMEOUT_SECONDS="10",
        MAX_CONCURRENT_REQUESTS="1", SHED_RETRY_AFTER_MS="400", SHED_RETRY_AFTER_MAX_MS="5000",
    ))  # fmt: skip
    client = httpx.Client(base_url=server.url, timeout=30)

    def ask(number: int) -> httpx.Response:
        return client.post("/api/voice/process", json={"message": f"Вопрос номер {number}?"})

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        slow = pool.submit(ask, 0)
        wait_for_model_calls(llm_server, 1)
        waits = []
        for number in range(12):  # a crowd refused over more than a second, nothing answered
            waits.append(int(ask(number + 1).headers["retry-after-ms"]))
            time.sleep(0.12)
        assert slow.result().status_code == 200

    assert waits[0] == 400, "at first the least wait"
    assert 400 < waits[-1] <= 5000, "then longer, never past the most"


def slow_body_sockets(port: int, count: int, path: str = "/v1/chat/completions") -> list:
    """``count`` connections from one address, each declaring a 200-byte body and sending
    one byte of it: the slow client of a slot-holding attack."""
    held = []
    for _ in range(count):
        conn = socket.create_connection(("127.0.0.1", port), timeout=30)
        conn.sendall(
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            "Content-Length: 200\r\n\r\n{".encode()
        )
        held.append(conn)
    return held


def status_of(conn: socket.socket) -> int:
    """The status line of what the server answered on ``conn`` (0: closed without one)."""
    first = conn.recv(4096).split(b"\r\n", 1)[0]
    return int(first.split()[1]) if first.startswith(b"HTTP/") else 0


@pytest.mark.parametrize("slow_clients", [8, 50])
def test_slow_bodies_hold_no_question_slot_and_are_refused_with_408_at_the_deadline(
    serve, make_settings, slow_clients
):
    server = serve(make_settings(MAX_CONCURRENT_REQUESTS="8", BODY_TIMEOUT_SECONDS="10"))
    held = slow_body_sockets(server.port, slow_clients)
    try:
        with httpx.Client(base_url=server.url, timeout=30) as resident:
            answers = [
                resident.post("/api/voice/process", json={"message": "Как часто моют подъезд?"})
                for _ in range(3)
            ]
        readable, _, _ = select.select(held, [], [], 0)
        still_held = len(held) - len(readable)
        started = time.monotonic()
        statuses = [status_of(conn) for conn in held]  # blocks until the server answers each
        refused_after = time.monotonic() - started
    finally:
        for conn in held:
            conn.close()

    assert still_held == slow_clients, "the residents were answered while every body was held"
    assert [a.status_code for a in answers] == [200, 200, 200], [a.text for a in answers]
    assert statuses == [408] * slow_clients
    assert refused_after < 20, "refused at the deadline, not held until the client gives up"


def test_an_emergency_is_answered_by_a_full_replica_within_its_reserve(
    serve, make_settings, llm_server
):
    """Two emergencies in a row: each holds a reserved slot until its work after the
    response is done, so a reserve of two lets both in whatever that work's timing."""
    llm_server.behaviour.mode, llm_server.behaviour.delay_seconds = "slow", 3.0
    server = serve(make_settings(
        EMERGENT_LLM_KEY="test-key", LLM_BASE_URL=llm_server.base_url, LLM_TIMEOUT_SECONDS="10",
        MAX_CONCURRENT_REQUESTS="1", EMERGENCY_RESERVED_SLOTS="2",
    ))  # fmt: skip
    client = httpx.Client(base_url=server.url, timeout=30)

    def ask(message: str) -> httpx.Response:
        return client.post("/api/voice/process", json={"message": message})

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        slow = pool.submit(ask, "Вопрос, который думает долго?")
        wait_for_model_calls(llm_server, 1)  # the replica's one slot is taken
        everyday = ask("Как часто моют подъезд?")
        gas = ask("В подъезде сильно пахнет газом!")
        chat_gas = client.post(
            "/v1/chat/completions",
            json={"model": "vasdom", "messages": [{"role": "user", "content": "Пожар в подвале"}]},
        )
        assert slow.result().status_code == 200

    assert everyday.status_code == 503, "an everyday question is shed as before"
    assert gas.status_code == 200 and "104" in gas.json()["response"]
    assert chat_gas.status_code == 200 and "101" in chat_gas.text
    assert len(llm_server.chat_requests()) == 1, "no emergency reached the paid model"


def test_emergencies_beyond_the_reserve_are_shed_like_any_question(
    serve, make_settings, llm_server
):
    llm_server.behaviour.mode, llm_server.behaviour.delay_seconds = "slow", 3.0
    server = serve(make_settings(
        EMERGENT_LLM_KEY="test-key", LLM_BASE_URL=llm_server.base_url, LLM_TIMEOUT_SECONDS="10",
        MAX_CONCURRENT_REQUESTS="1", EMERGENCY_RESERVED_SLOTS="0",
    ))  # fmt: skip
    client = httpx.Client(base_url=server.url, timeout=30)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        slow = pool.submit(
            client.post, "/api/voice/process", json={"message": "Вопрос, который думает долго?"}
        )
        wait_for_model_calls(llm_server, 1)
        gas = client.post("/api/voice/process", json={"message": "Пахнет газом в подъезде"})
        assert slow.result().status_code == 200

    assert gas.status_code == 503, "no reserve: a script's «газ» cannot crowd out residents"
