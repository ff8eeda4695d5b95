"""The seed's ``GET /api/voice/health``: real component checks, reported as the seed's
booleans, with the reason beside each."""


def test_health_reports_real_component_checks_as_the_seeds_booleans(client):
    body = client.get("/api/voice/health").json()
    assert body == {
        "status": "healthy",
        "components": {
            "ai_service": False,
            "embedding_service": True,
            "local_model": False,
            "database": True,
            "speech_recognition": True,
            "speech_synthesis": True,
        },
        "details": {
            "ai_service": "offline",
            "embedding_service": "healthy",
            "local_model": "disabled",
            "database": "healthy",
            "speech_recognition": "healthy",
            "speech_synthesis": "healthy",
        },
    }


def test_health_reports_an_unreachable_paid_llm_as_degraded(make_client, make_settings):
    client = make_client(make_settings(EMERGENT_LLM_KEY="k", LLM_BASE_URL="http://127.0.0.1:9/v1"))
    body = client.get("/api/voice/health").json()
    assert body["details"]["ai_service"] == "unavailable"
    assert body["status"] == "degraded"


def test_health_reports_a_reachable_paid_llm(llm_client):
    body = llm_client.get("/api/voice/health").json()
    assert body["details"]["ai_service"] == "healthy" and body["components"]["ai_service"] is True
