"""fine_tune on a tiny model built by the test: it learns, saves a version, registers it."""

import json
import subprocess
import sys

import pytest
from sqlalchemy import select

from app.core.paths import BACKEND_DIR
from app.db.models import ModelVersion
from training.fine_tuning import FineTuneOptions, fine_tune, load_samples, register
from training.tiny_model import build_tiny_model


@pytest.fixture(scope="module")
def tiny_gpt2(tmp_path_factory):
    return build_tiny_model(tmp_path_factory.mktemp("tiny-gpt2"), "gpt2")


@pytest.fixture(scope="module")
def dialogs(tmp_path_factory):
    """Chat-format lines as export_logs writes them, from the dev dialogs."""
    path = tmp_path_factory.mktemp("data") / "training_data_test.jsonl"
    lines = []
    for line in (BACKEND_DIR / "datasets" / "dialogs_dev.jsonl").read_text().splitlines():
        record = json.loads(line)
        for question in record["questions"][:3]:
            messages = [
                {"role": "system", "content": "Ты — помощник компании «ВасДом»."},
                {"role": "user", "content": question},
                {"role": "assistant", "content": record["reference_answer"]},
            ]
            lines.append(json.dumps({"messages": messages}, ensure_ascii=False))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_models_without_a_chat_template_train_on_the_plain_template(dialogs):
    sample = load_samples(dialogs, chat_template=False)[0]
    assert sample["prompt"].startswith("Инструкция: ") and sample["prompt"].endswith("Бот:")
    assert sample["completion"].startswith(" ")
    assert "messages" in load_samples(dialogs, chat_template=True)[0]


def test_fine_tuning_lowers_the_loss_and_writes_a_complete_version(
    tiny_gpt2, dialogs, tmp_path, database
):
    options = FineTuneOptions(
        data=dialogs,
        model=str(tiny_gpt2),
        output=tmp_path,
        lora=False,  # LoRA barely moves a randomly initialised model; train it fully
        max_steps=30,
        batch_size=8,
        learning_rate=3e-3,
        eval_data=dialogs,
    )
    result = fine_tune(options)

    metrics = result.metrics
    assert metrics["last_loss"] < metrics["first_loss"] - 0.3
    samples = len(dialogs.read_text(encoding="utf-8").splitlines())  # 3 per intent
    assert metrics["steps"] == 30 and metrics["samples"] == samples
    assert metrics["perplexity"] > 1 and metrics["duration_seconds"] > 0
    for name in ("model.safetensors", "tokenizer.json", "training_args.json", "README.md"):
        assert (result.path / name).exists(), name
    assert json.loads((result.path / "metrics.json").read_text()) == metrics
    assert (tmp_path / "latest").resolve() == result.path.resolve()

    version_id = register(database, result, options)
    with database.session() as session:
        row = session.get(ModelVersion, version_id)
        assert row.status == "candidate" and row.name == result.version
        assert row.base_model == str(tiny_gpt2) and row.metrics == metrics


def test_the_seed_command_line_works_verbatim_with_lora(
    tiny_gpt2, dialogs, tmp_path, database_url, database
):
    completed = subprocess.run(
        [
            sys.executable, "-m", "training.fine_tune",
            "--data", str(dialogs),
            "--model", str(tiny_gpt2),
            "--epochs", "1", "--batch-size", "4", "--learning-rate", "5e-5",
            "--output", str(tmp_path),
        ],
        cwd=BACKEND_DIR,
        env={"DATABASE_URL": database_url, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-3000:]
    latest = tmp_path / "latest"
    assert (latest / "adapter_config.json").exists()
    with database.session() as session:
        row = session.scalars(select(ModelVersion)).one()
    assert row.adapter is True and row.path == str(latest.resolve())


def test_a_chat_template_model_trains_a_lora_adapter_that_the_service_can_load(dialogs, tmp_path):
    from app.llm.local_transformers import LocalTransformersProvider
    from app.llm.prompt import PromptContext

    llama = build_tiny_model(tmp_path / "tiny-llama", "llama")
    options = FineTuneOptions(
        data=dialogs, model=str(llama), output=tmp_path / "out", max_steps=5, merge=True
    )
    result = fine_tune(options)

    assert (result.path / "adapter_config.json").exists()
    assert (result.path / "merged" / "model.safetensors").exists()
    provider = LocalTransformersProvider(str(result.path), max_new_tokens=4)
    answer = provider.answer(PromptContext("Как часто моют подъезд?"))
    assert answer.source == "local" and answer.model_used == f"local:{result.version}"


def test_preference_pairs_add_a_dpo_stage_that_prefers_the_approved_answer(
    tiny_gpt2, dialogs, tmp_path
):
    pair = {
        "prompt": [{"role": "user", "content": "Сколько стоит уборка подъезда?"}],
        "chosen": [{"role": "assistant", "content": "4800 рублей в месяц за подъезд."}],
        "rejected": [{"role": "assistant", "content": "Не знаю."}],
    }
    pairs = tmp_path / "training_data_test.pairs.jsonl"
    pairs.write_text((json.dumps(pair, ensure_ascii=False) + "\n") * 8, encoding="utf-8")
    options = FineTuneOptions(
        data=dialogs,
        model=str(tiny_gpt2),
        output=tmp_path / "out",
        lora=False,
        max_steps=10,
        batch_size=4,
        learning_rate=1e-3,
        pairs=pairs,
    )
    metrics = fine_tune(options).metrics
    assert metrics["dpo_pairs"] == 8
    assert metrics["dpo_last_loss"] < metrics["dpo_first_loss"]
