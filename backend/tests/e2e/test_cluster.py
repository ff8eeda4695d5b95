"""The scale-out topology in short (``benchmarks/cluster.py`` runs it in full): three
replicas on one database behind HAProxy running the shipped ``deploy/haproxy/haproxy.cfg``.

Residents connect from their own loopback addresses (127.0.1.N); HAProxy passes the address
on, and the replicas trust it from 127.0.0.1 only, as deployed. A worker killed mid-job is
tests/worker/test_retraining_job.py's; a replica killed mid-request, the fault benchmark's.
"""

import threading
import time

import httpx
import pytest

from tests.support.dialog import BOT_ADMIN_KEY, BOT_OPERATOR
from tests.support.haproxy import Balancer

LIMIT = 12
WINDOWS = "Окна в подъездах моем 2 раза в год — в апреле и в сентябре."


@pytest.fixture
def cluster(serve, make_settings, llm_server, tmp_path):
    llm_server.behaviour.reply = "Уточните, пожалуйста, у диспетчера."
    settings = make_settings(
        ADMIN_API_KEY=BOT_ADMIN_KEY,
        EMERGENT_LLM_KEY="test-key",
        LLM_BASE_URL=llm_server.base_url,
        MIGRATE_ON_START="false",
        FORWARDED_ALLOW_IPS="127.0.0.1",
        RATE_LIMIT_STORE="postgres",
        RATE_LIMIT_CLIENT_PER_MINUTE=str(LIMIT),
    )
    replicas = [serve(settings) for _ in range(3)]
    balancer = Balancer([replica.port for replica in replicas], tmp_path)
    balancer.wait_all_up()
    yield replicas, balancer
    balancer.stop()


def resident(base_url: str, number: int) -> httpx.Client:
    transport = httpx.HTTPTransport(local_address=f"127.0.1.{number}")
    return httpx.Client(base_url=base_url, transport=transport, timeout=30)


def ask(client: httpx.Client, question: str, session_id: str) -> httpx.Response:
    return client.post("/api/voice/process", json={"message": question, "session_id": session_id})


def test_a_correction_through_one_replica_is_served_by_the_others_at_once(cluster):
    replicas, balancer = cluster
    with resident(balancer.url, 1) as client:
        asked = ask(client, "Когда будут мыть окна в подъезде?", "c-1").json()
    correction = {"corrected_response": WINDOWS, "operator": "Ирина"}
    corrected = httpx.post(f"{replicas[0].url}/api/voice/logs/{asked['log_id']}/correction",
                           json=correction, headers=BOT_OPERATOR)  # fmt: skip
    assert corrected.status_code == 200, corrected.text
    for number, replica in enumerate(replicas[1:], start=2):
        with resident(replica.url, number) as client:
            reply = ask(client, "Когда будут мыть окна в подъезде?", f"c-{number}").json()
        assert (reply["answer_source"], reply["response"]) == ("cache", WINDOWS)


def test_a_clients_limit_holds_across_replicas(cluster):
    _, balancer = cluster
    statuses = []
    with resident(balancer.url, 9) as client:
        for n in range(3 * LIMIT):
            statuses.append(ask(client, "Как позвонить диспетчеру?", f"limit-{n}").status_code)
    assert statuses.count(429) >= 2 * LIMIT - 2, "three replicas do not triple the limit"
    assert statuses.count(200) <= LIMIT + 2
    with resident(balancer.url, 10) as other:  # another client has its own limit
        assert ask(other, "Как позвонить диспетчеру?", "limit-other").status_code == 200


def test_two_operators_asking_at_once_through_two_replicas_start_one_run(cluster):
    replicas, _ = cluster
    answers: list[dict] = []

    def request(url: str) -> None:
        response = httpx.post(f"{url}/api/voice/retraining", json={"reason": "operators"},
                              headers=BOT_OPERATOR, timeout=30)  # fmt: skip
        answers.append(response.json() | {"status_code": response.status_code})

    both = [threading.Thread(target=request, args=(r.url,)) for r in replicas[:2]]
    for thread in both:
        thread.start()
    for thread in both:
        thread.join()
    assert [a["status_code"] for a in answers] == [202, 202]
    assert answers[0]["id"] == answers[1]["id"]
    runs = httpx.get(f"{replicas[2].url}/api/voice/retraining/runs", headers=BOT_OPERATOR)
    assert [run["id"] for run in runs.json()] == [answers[0]["id"]]


def test_a_replica_drained_and_stopped_under_traffic_refuses_nobody(cluster):
    """What a rolling restart does to each replica (deploy/systemd/rollout.sh)."""
    replicas, balancer = cluster
    statuses: list[int] = []
    done = threading.Event()

    def keep_asking() -> None:
        n = 0
        while not done.is_set():
            with resident(balancer.url, 30 + n % 200) as client:  # many residents, each once
                statuses.append(ask(client, "Как позвонить диспетчеру?", f"roll-{n}").status_code)
            n += 1
            time.sleep(0.05)

    asking = threading.Thread(target=keep_asking)
    asking.start()
    time.sleep(0.5)
    balancer.set_state("api1", "drain")
    balancer.wait_idle("api1")
    replicas[0].stop()
    time.sleep(2)  # HAProxy's checks see it gone; residents keep asking the other two
    done.set()
    asking.join()
    assert len(statuses) >= 10 and set(statuses) == {200}, statuses
    assert balancer.stat("api1")["status"] in ("DOWN", "DRAIN", "MAINT")
