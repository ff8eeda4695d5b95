"""Browsers get the headers that stop framing, sniffing and leaking: the pages a strict
Content-Security-Policy, operator answers no caching."""

from tests.support.dialog import OPERATOR_HEADERS


def test_pages_and_their_files_carry_a_policy_that_allows_only_the_service_itself(client):
    for path in ("/", "/operator", "/dashboard", "/static/chat.js"):
        headers = client.get(path).headers
        policy = headers["content-security-policy"]
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy, path
        assert headers["x-frame-options"] == "DENY" and headers["x-content-type-options"] == (
            "nosniff"
        )
        assert headers["referrer-policy"] == "no-referrer"


def test_operator_answers_are_never_cached_and_public_ones_need_no_such_rule(client):
    operator = client.get("/api/voice/logs", headers=OPERATOR_HEADERS)
    assert operator.headers["cache-control"] == "no-store"
    login = client.post("/api/voice/auth/login", json={"username": "x", "password": "y"})
    assert login.headers["cache-control"] == "no-store"
    health = client.get("/api/voice/health")
    assert "cache-control" not in health.headers
    assert health.headers["x-content-type-options"] == "nosniff"
