"""Supervised fine-tuning whose language-model head runs only where the loss is.

A grounded sample is a long prompt (instructions, several quoted answers, the question)
and a short answer; the loss is on the answer alone. Gemma 3's head maps each position onto
262,144 words — as much work as the rest of a 270M model — so applying it to every prompt
position, as the stock trainer does, spends most of a CPU step on numbers that are thrown
away. Here the decoder runs as usual and the head only on the positions that predict an
answer token: the same loss, a fraction of the time (``training/fine_tuning.py`` uses it
for every SFT run; DPO keeps its own trainer).
"""

import torch
import torch.nn.functional as F

IGNORED = -100


def causal_lm_of(model):
    """The Transformers causal LM inside a PEFT wrapper, or the model itself."""
    return model.get_base_model() if hasattr(model, "get_base_model") else model


def answer_only_loss(model, inputs: dict, num_items_in_batch=None) -> torch.Tensor:
    """Mean cross-entropy over the answer tokens (labels other than -100), computed from the
    decoder's hidden states with the head applied to those positions only."""
    causal_lm = causal_lm_of(model)
    labels = inputs["labels"]
    forward = {k: v for k, v in inputs.items() if k not in ("labels", "use_cache")}
    hidden = causal_lm.base_model(**forward, use_cache=False).last_hidden_state
    targets = labels[:, 1:]
    chosen = targets != IGNORED
    logits = causal_lm.get_output_embeddings()(hidden[:, :-1][chosen])
    cap = getattr(causal_lm.config, "final_logit_softcapping", None)
    if cap:
        logits = torch.tanh(logits / cap) * cap
    total = F.cross_entropy(logits.float(), targets[chosen], reduction="sum")
    count = num_items_in_batch if num_items_in_batch is not None else chosen.sum()
    return total / torch.as_tensor(count, device=total.device).clamp(min=1)


def answer_only_trainer_class():
    """TRL's SFTTrainer with the answer-only head for training steps; evaluation keeps
    the stock path (it reports figures that need every logit)."""
    from trl import SFTTrainer

    class AnswerOnlySFTTrainer(SFTTrainer):
        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            plain = self.compute_loss_func is None and self.label_smoother is None
            if not (model.training and plain and not return_outputs and "labels" in inputs):
                return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
            return answer_only_loss(model, inputs, num_items_in_batch)

    return AnswerOnlySFTTrainer
