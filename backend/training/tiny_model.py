"""Build a tiny causal LM locally, for tests and demos where no base model can be downloaded.

    python -m training.tiny_model --out models/base/tiny-gpt2 [--arch gpt2|llama]

A byte-level BPE tokenizer is trained with the ``tokenizers`` library on the dialog dataset
and the company facts, and a randomly initialised model of the real architecture is saved
like any Transformers model. ``gpt2`` has no chat template (DialoGPT-style, trained with the
plain template); ``llama`` gets a chat template (Llama/Qwen-style). Weights are seeded, so a
build is reproducible.
"""

import json
from pathlib import Path

import typer

from app.core.paths import BACKEND_DIR

DIALOGS = BACKEND_DIR / "datasets" / "dialogs_dev.jsonl"
FACTS = BACKEND_DIR / "knowledge" / "company_facts.md"
ARCHITECTURES = ("gpt2", "llama")
#: A minimal ChatML-like template for the llama build.
CHAT_TEMPLATE = (
    "{% for message in messages %}<|{{ message['role'] }}|>\n{{ message['content'] }}<eos>\n"
    "{% endfor %}{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)


def corpus_texts() -> list[str]:
    texts = []
    for line in DIALOGS.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        texts.extend(record["questions"])
        texts.append(record["reference_answer"])
    texts.extend(line for line in FACTS.read_text(encoding="utf-8").splitlines() if line.strip())
    return texts


def build_tiny_model(
    directory: Path,
    arch: str = "gpt2",
    vocab_size: int = 1000,
    hidden_size: int = 32,
    layers: int = 2,
) -> Path:
    """Save a tokenizer and a randomly initialised model of ``arch`` into ``directory``."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    if arch not in ARCHITECTURES:
        raise ValueError(f"arch must be one of {ARCHITECTURES}")
    special = ["<unk>", "<eos>", "<|system|>", "<|user|>", "<|assistant|>"]
    tokenizer = Tokenizer(models.BPE(unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.train_from_iterator(
        corpus_texts(), trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=special)
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        unk_token="<unk>",
        bos_token="<eos>",
        eos_token="<eos>",
        pad_token="<eos>",
    )
    if arch == "llama":
        fast.chat_template = CHAT_TEMPLATE
    torch.manual_seed(0)
    model = _model(arch, fast, hidden_size, layers)
    directory.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(directory)
    fast.save_pretrained(directory)
    return directory


def _model(arch: str, tokenizer, hidden_size: int, layers: int):
    common = {
        "vocab_size": len(tokenizer),
        "eos_token_id": tokenizer.eos_token_id,
        "bos_token_id": tokenizer.eos_token_id,
        "pad_token_id": tokenizer.pad_token_id,
    }
    if arch == "gpt2":
        from transformers import GPT2Config, GPT2LMHeadModel

        return GPT2LMHeadModel(
            GPT2Config(n_positions=512, n_embd=hidden_size, n_layer=layers, n_head=2, **common)
        )
    from transformers import LlamaConfig, LlamaForCausalLM

    return LlamaForCausalLM(
        LlamaConfig(
            hidden_size=hidden_size,
            intermediate_size=2 * hidden_size,
            num_hidden_layers=layers,
            num_attention_heads=2,
            num_key_value_heads=2,
            max_position_embeddings=512,
            **common,
        )
    )


def main(
    out: Path = typer.Option(BACKEND_DIR / "models" / "base" / "tiny-gpt2", help="Folder"),
    arch: str = typer.Option("gpt2", help="gpt2 (no chat template) | llama (chat template)"),
    vocab_size: int = typer.Option(1000, min=100),
    hidden_size: int = typer.Option(32, min=8),
    layers: int = typer.Option(2, min=1),
) -> None:
    """Build a tiny model of a real architecture from the project's own texts."""
    build_tiny_model(out, arch, vocab_size, hidden_size, layers)
    typer.echo(f"tiny {arch} model written to {out}")


if __name__ == "__main__":
    typer.run(main)
