"""The model registry for operators: an empty registry, and clear 404s for what is not there
(the full switch and rollback are in tests/e2e/test_local_model_cycle.py)."""

from tests.support.dialog import OPERATOR_HEADERS


def test_an_empty_registry_lists_nothing_and_has_nothing_to_switch_to(client):
    assert client.get("/api/voice/models", headers=OPERATOR_HEADERS).json() == []
    activate = client.post("/api/voice/models/7/activate", headers=OPERATOR_HEADERS)
    assert activate.status_code == 404 and "7" in activate.json()["detail"]
    rollback = client.post("/api/voice/models/rollback", headers=OPERATOR_HEADERS)
    assert rollback.status_code == 404


def test_the_registry_needs_the_operator_key(client):
    assert client.get("/api/voice/models").status_code == 401
