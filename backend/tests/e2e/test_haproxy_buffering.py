"""The shipped HAProxy configuration buffers request bodies: a client that sends its body a
byte at a time is answered 408 by the load balancer and never reaches a replica."""

import httpx

from tests.e2e.test_load_shedding import slow_body_sockets, status_of
from tests.support.haproxy import Balancer


def test_a_slow_body_is_refused_by_the_balancer_and_never_reaches_a_replica(
    serve, make_settings, tmp_path
):
    # The replica would wait a minute for the body: only HAProxy can answer within seconds.
    replica = serve(make_settings(BODY_TIMEOUT_SECONDS="60", MAX_CONCURRENT_REQUESTS="1"))
    balancer = Balancer([replica.port] * 3, tmp_path)
    try:
        balancer.wait_all_up()
        before = forwarded(balancer)
        held = slow_body_sockets(balancer.port, 3)
        answer = httpx.post(
            f"{balancer.url}/api/voice/process", json={"message": "Как часто моют подъезд?"},
            timeout=30,
        )  # fmt: skip
        for conn in held:
            conn.settimeout(30)
        statuses = [status_of(conn) for conn in held]
        for conn in held:
            conn.close()
        reached = forwarded(balancer) - before
    finally:
        balancer.stop()

    assert answer.status_code == 200
    assert statuses == [408, 408, 408], "HAProxy's own 408, not the replica's after a minute"
    assert reached == 1, "only the resident's question reached a replica"


def forwarded(balancer: Balancer) -> int:
    """Requests HAProxy has sent to a replica so far (health checks not counted)."""
    return sum(int(balancer.stat(f"api{n}")["stot"]) for n in (1, 2, 3))
