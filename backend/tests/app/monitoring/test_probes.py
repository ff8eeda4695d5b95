"""Probes for load balancers and orchestrators: alive while the process runs, ready only
while the database answers; neither embeds text nor calls a model, and both are public."""

from app.db.database import Database
from tests.support.network import free_port


def test_a_running_replica_is_alive_and_ready_without_a_key(client):
    assert client.get("/api/voice/health/live").json() == {"status": "alive", "reason": None}
    ready = client.get("/api/voice/health/ready")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"


def test_a_replica_whose_database_is_gone_is_alive_but_not_ready(client):
    provided = client.app.state.provided
    reachable = provided[Database]
    gone = Database(f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/none")
    provided[Database] = gone
    try:
        ready = client.get("/api/voice/health/ready")
        assert ready.status_code == 503
        assert ready.json() == {"status": "not ready", "reason": "database unavailable"}
        assert client.get("/api/voice/health/live").status_code == 200
    finally:
        gone.dispose()
        provided[Database] = reachable
