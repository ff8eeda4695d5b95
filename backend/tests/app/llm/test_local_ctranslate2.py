"""The fast local engine: a model converted for CTranslate2 answers as Transformers does,
LoRA adapters are merged before conversion, and the service converts a configured model
once and serves it."""

import json

import pytest

pytest.importorskip("ctranslate2", reason="ML extras (requirements_ml.txt) not installed")

from app.llm.local_ctranslate2 import LocalCTranslate2Provider
from app.llm.local_transformers import LocalTransformersProvider
from app.llm.prompt import PromptContext
from app.model_versions.ctranslate2_conversion import convert_for_ctranslate2
from app.model_versions.engines import load_local_provider
from training.tiny_model import build_tiny_model

QUESTIONS = ["Как часто моют подъезд?", "Какой телефон диспетчерской?", "Когда моют окна?"]


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory):
    return build_tiny_model(tmp_path_factory.mktemp("tiny-gpt2"))


@pytest.fixture(scope="module")
def tiny_adapter_dir(tmp_path_factory, tiny_model_dir):
    """A LoRA adapter with non-zero weights, so merging it changes what the model says."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(3)
    base = AutoModelForCausalLM.from_pretrained(str(tiny_model_dir))
    config = LoraConfig(r=4, target_modules=["c_attn"], init_lora_weights=False,
                        fan_in_fan_out=True, task_type="CAUSAL_LM")  # fmt: skip
    adapter = get_peft_model(base, config)
    directory = tmp_path_factory.mktemp("tiny-adapter")
    adapter.save_pretrained(str(directory))
    AutoTokenizer.from_pretrained(str(tiny_model_dir)).save_pretrained(str(directory))
    return directory


def answers(provider) -> list[str]:
    return [provider.answer(PromptContext(question)).text for question in QUESTIONS]


def test_a_converted_model_says_what_the_transformers_model_says(tiny_model_dir, tmp_path):
    manifest = convert_for_ctranslate2(tiny_model_dir, tmp_path / "ct2", quantization="float32")
    assert manifest["engine"] == "ctranslate2" and manifest["context_length"] > 0
    assert json.loads((tmp_path / "ct2" / "inference.json").read_text()) == manifest

    fast = LocalCTranslate2Provider(str(tmp_path / "ct2"), max_new_tokens=12)
    reference = LocalTransformersProvider(str(tiny_model_dir), max_new_tokens=12)
    assert answers(fast) == answers(reference)
    answer = fast.answer(PromptContext(QUESTIONS[0]))
    assert answer.source == "local" and answer.cost_usd == 0
    assert answer.prompt_tokens > 0 and 0 < answer.completion_tokens <= 12


def test_a_lora_adapter_is_merged_into_its_base_before_conversion(
    tiny_model_dir, tiny_adapter_dir, tmp_path
):
    convert_for_ctranslate2(tiny_adapter_dir, tmp_path / "ct2", quantization="float32")
    fast = LocalCTranslate2Provider(str(tmp_path / "ct2"), max_new_tokens=12)
    with_adapter = LocalTransformersProvider(str(tiny_adapter_dir), max_new_tokens=12)
    without_adapter = LocalTransformersProvider(str(tiny_model_dir), max_new_tokens=12)
    assert answers(fast) == answers(with_adapter)
    assert answers(with_adapter) != answers(without_adapter)  # the adapter mattered


def test_a_low_confidence_answer_is_refused_by_the_optional_gate(tiny_model_dir, tmp_path):
    convert_for_ctranslate2(tiny_model_dir, tmp_path / "ct2")
    provider = LocalCTranslate2Provider(str(tmp_path / "ct2"), max_new_tokens=8,
                                        min_confidence=0.99)  # fmt: skip
    with pytest.raises(Exception, match="confidence"):
        provider.answer(PromptContext(QUESTIONS[0]))


def test_the_service_converts_a_configured_model_once_and_serves_it(
    make_client, make_settings, tiny_model_dir, tmp_path
):
    settings = make_settings(
        USE_LOCAL_MODEL="true",
        LOCAL_MODEL_PATH=str(tiny_model_dir),
        LOCAL_MAX_NEW_TOKENS="8",
    )
    client = make_client(settings)
    reply = client.post("/api/voice/process", json={"message": QUESTIONS[0]}).json()
    assert reply["answer_source"] == "local"
    assert reply["model_used"] == f"local:{tiny_model_dir.name}"
    cache = list((settings.data_dir / "models" / "ctranslate2").iterdir())
    assert len(cache) == 1 and (cache[0] / "model.bin").is_file()
    converted_at = (cache[0] / "model.bin").stat().st_mtime_ns

    again = make_client(settings)  # a restart reuses the conversion
    assert again.post("/api/voice/process", json={"message": QUESTIONS[1]}).status_code == 200
    assert (cache[0] / "model.bin").stat().st_mtime_ns == converted_at
    assert again.get("/api/voice/health").json()["details"]["local_model"] == "healthy"


def test_an_architecture_ctranslate2_does_not_know_is_served_by_transformers(
    make_settings, tiny_model_dir, tmp_path, caplog
):
    from transformers import AutoTokenizer, GPTNeoConfig, GPTNeoForCausalLM

    tokenizer = AutoTokenizer.from_pretrained(str(tiny_model_dir))
    config = GPTNeoConfig(vocab_size=len(tokenizer), hidden_size=32, num_layers=2,
                          attention_types=[[["global"], 2]], num_heads=2,
                          max_position_embeddings=256)  # fmt: skip
    directory = tmp_path / "tiny-gpt-neo"
    GPTNeoForCausalLM(config).save_pretrained(str(directory))
    tokenizer.save_pretrained(str(directory))

    provider = load_local_provider(str(directory), make_settings(LOCAL_MAX_NEW_TOKENS="4"))

    assert provider.engine == "transformers"
    assert "Transformers serves it instead" in caplog.text
    assert provider.answer(PromptContext(QUESTIONS[0])).source == "local"
