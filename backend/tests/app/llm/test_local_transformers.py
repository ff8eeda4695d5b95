"""The local model provider with a real (tiny) Transformers model built by the test."""

import pytest

pytest.importorskip("transformers", reason="ML extras (requirements_ml.txt) not installed")

from app.llm.local_transformers import LocalTransformersProvider
from app.llm.prompt import PromptContext
from tests.support.dialog import OPERATOR_HEADERS, OPERATOR_KEY
from training.tiny_model import build_tiny_model


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory):
    return build_tiny_model(tmp_path_factory.mktemp("tiny-gpt2"))


def test_local_model_generates_an_answer_and_counts_tokens(tiny_model_dir):
    provider = LocalTransformersProvider(str(tiny_model_dir), max_new_tokens=8)
    answer = provider.answer(PromptContext("Как часто моют подъезд?"))
    assert answer.source == "local"
    assert answer.model_used == f"local:{tiny_model_dir.name}"
    assert answer.prompt_tokens > 0 and 0 < answer.completion_tokens <= 8
    assert answer.cost_usd == 0


def test_service_answers_with_the_local_model_when_enabled(
    make_client, make_settings, tiny_model_dir
):
    client = make_client(
        make_settings(
            USE_LOCAL_MODEL="true",
            LOCAL_MODEL_PATH=str(tiny_model_dir),
            LOCAL_INFERENCE_ENGINE="transformers",
            LOCAL_MAX_NEW_TOKENS="8",
            LOCAL_MIN_CONFIDENCE="0",  # an untrained model is never sure of itself
            ADMIN_API_KEY=OPERATOR_KEY,
        )
    )
    reply = client.post("/api/voice/process", json={"message": "Как часто моют подъезд?"}).json()
    assert reply["answer_source"] == "local"
    assert reply["model_used"] == f"local:{tiny_model_dir.name}"
    assert reply["response"]
    health = client.get("/api/voice/health").json()
    assert health["details"]["local_model"] == "healthy"
    status = client.get("/api/voice/self-learning/status", headers=OPERATOR_HEADERS).json()
    assert status["current_model"] == f"local:{tiny_model_dir.name}"


def test_a_model_that_cannot_load_is_reported_and_answers_still_come(
    make_client, make_settings, tmp_path
):
    client = make_client(
        make_settings(USE_LOCAL_MODEL="true", LOCAL_MODEL_PATH=str(tmp_path / "missing"))
    )
    health = client.get("/api/voice/health").json()
    assert health["details"]["local_model"] == "failed"
    assert health["status"] == "degraded"
    reply = client.post("/api/voice/process", json={"message": "Какой телефон диспетчерской?"})
    assert reply.status_code == 200
    assert reply.json()["model_used"] == "offline"


def test_a_low_confidence_local_answer_is_refused_and_the_paid_model_answers(
    make_llm_client, llm_server, tiny_model_dir
):
    """The optional second gate (off by default: the grounding guard is the gate)."""
    client = make_llm_client(
        USE_LOCAL_MODEL="true",
        LOCAL_MODEL_PATH=str(tiny_model_dir),
        LOCAL_INFERENCE_ENGINE="transformers",
        LOCAL_MAX_NEW_TOKENS="8",
        LOCAL_MIN_CONFIDENCE="0.3",
    )
    reply = client.post("/api/voice/process", json={"message": "Как часто моют подъезд?"}).json()
    assert reply["answer_source"] == "llm"
    assert reply["response"] == llm_server.behaviour.reply
