"""The answer-only head gives the loss the full head gives, on a plain model and under LoRA:
a faster step, not a different objective."""

import pytest

pytest.importorskip("torch", reason="ML extras (requirements_ml.txt) not installed")

import torch

from training.answer_loss import answer_only_loss
from training.tiny_model import build_tiny_model


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory):
    return build_tiny_model(tmp_path_factory.mktemp("tiny-llama"), "llama")


def batch() -> dict:
    """Two sequences: a prompt (ignored) then an answer; one padded at its end."""
    generator = torch.Generator().manual_seed(0)
    input_ids = torch.randint(5, 900, (2, 24), generator=generator)
    labels = input_ids.clone()
    labels[:, :16] = -100  # the prompt
    labels[1, 20:] = -100  # padding
    attention_mask = torch.ones_like(input_ids)
    attention_mask[1, 20:] = 0
    return {"input_ids": input_ids, "attention_mask": attention_mask, "labels": labels}


def full_head_loss(model, inputs: dict) -> torch.Tensor:
    logits = model(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"]).logits
    return torch.nn.functional.cross_entropy(
        logits[:, :-1].reshape(-1, logits.shape[-1]), inputs["labels"][:, 1:].reshape(-1)
    )


def test_the_answer_only_loss_equals_the_full_head_loss(tiny_model_dir):
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(str(tiny_model_dir))
    inputs = batch()
    assert torch.allclose(answer_only_loss(model, inputs), full_head_loss(model, inputs),
                          atol=1e-5)  # fmt: skip


def test_under_lora_the_loss_and_its_gradients_match(tiny_model_dir):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(1)
    base = AutoModelForCausalLM.from_pretrained(str(tiny_model_dir))
    model = get_peft_model(base, LoraConfig(r=4, target_modules="all-linear",
                                            init_lora_weights=False))  # fmt: skip
    inputs = batch()
    fast = answer_only_loss(model, inputs)
    fast.backward()
    fast_grads = [p.grad.clone() for p in model.parameters() if p.requires_grad]
    model.zero_grad()
    full = full_head_loss(model, inputs)
    full.backward()
    full_grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert torch.allclose(fast, full, atol=1e-5)
    assert all(torch.allclose(a, b, atol=1e-5) for a, b in zip(fast_grads, full_grads, strict=True))
