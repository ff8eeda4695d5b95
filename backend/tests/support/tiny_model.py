"""A tiny GPT-2 built locally (no download): a BPE tokenizer trained on the dev dialogs and a
randomly initialised model of the real architecture, saved like any Transformers model."""

import json
from pathlib import Path

DIALOGS = Path(__file__).resolve().parents[2] / "datasets" / "dialogs_dev.jsonl"


def dialog_texts() -> list[str]:
    texts = []
    for line in DIALOGS.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        texts.extend(record["questions"])
        texts.append(record["reference_answer"])
    return texts


def build_tiny_gpt2(directory: Path) -> Path:
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE(unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(vocab_size=800, special_tokens=["<unk>", "<eos>"])
    tokenizer.train_from_iterator(dialog_texts(), trainer)
    from tokenizers import decoders

    tokenizer.decoder = decoders.ByteLevel()
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, unk_token="<unk>", eos_token="<eos>", pad_token="<eos>"
    )
    config = GPT2Config(
        vocab_size=fast.vocab_size,
        n_positions=256,
        n_embd=32,
        n_layer=2,
        n_head=2,
        eos_token_id=fast.eos_token_id,
        bos_token_id=fast.eos_token_id,
    )
    import torch

    torch.manual_seed(0)  # same weights every run, so what it generates is reproducible
    model = GPT2LMHeadModel(config)
    model.save_pretrained(directory)
    fast.save_pretrained(directory)
    return directory
