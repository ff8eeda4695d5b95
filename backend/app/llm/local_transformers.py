"""A local causal LM (full model or LoRA adapter directory) served with Transformers.

Imported lazily: the service runs without the ML extras until ``USE_LOCAL_MODEL=true``.
Generation is CPU/GPU-bound and runs in the request's worker thread, never on the event loop;
a lock keeps one generation at a time per loaded model.
"""

import logging
import threading
from pathlib import Path

from app.llm.base import Answer
from app.llm.local_prompting import (
    local_answer,
    local_model_label,
    render_prompt,
)
from app.llm.prompt import PromptContext

logger = logging.getLogger(__name__)


def is_adapter_dir(path: Path) -> bool:
    return (path / "adapter_config.json").exists()


class LocalTransformersProvider:
    name = "local"
    engine = "transformers"

    def __init__(
        self, model_path: str, *, max_new_tokens: int = 160, min_confidence: float = 0.0
    ) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        path = Path(model_path)
        self.model_used = local_model_label(model_path)
        if path.exists() and is_adapter_dir(path):
            from peft import AutoPeftModelForCausalLM

            model = AutoPeftModelForCausalLM.from_pretrained(model_path)
        else:
            model = AutoModelForCausalLM.from_pretrained(model_path)
        self._device = "cuda" if torch.cuda.is_available() else "cpu"
        self._model = model.to(self._device).eval()
        self._tokenizer = AutoTokenizer.from_pretrained(model_path)
        # A long prompt loses its oldest context, never the question at its end.
        self._tokenizer.truncation_side = "left"
        self._max_new_tokens = max_new_tokens
        self.min_confidence = min_confidence
        self._lock = threading.Lock()
        self._torch = torch

    def answer(self, context: PromptContext) -> Answer:
        prompt = render_prompt(self._tokenizer, context)
        tokenizer = self._tokenizer
        inputs = tokenizer(
            prompt, return_tensors="pt", truncation=True, max_length=self._context_limit()
        ).to(self._device)
        pad_id = (
            tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        )
        with self._lock, self._torch.inference_mode():
            output = self._model.generate(
                **inputs,
                max_new_tokens=self._max_new_tokens,
                do_sample=False,
                pad_token_id=pad_id,
                output_scores=True,
                return_dict_in_generate=True,
            )
            scores = self._model.compute_transition_scores(
                output.sequences, output.scores, normalize_logits=True
            )
        new_tokens = output.sequences[0, inputs["input_ids"].shape[1] :]
        # Mean probability of the chosen tokens: how sure the model was of its own answer.
        return local_answer(
            tokenizer.decode(new_tokens, skip_special_tokens=True),
            confidence=float(self._torch.exp(scores[0].float().mean())),
            min_confidence=self.min_confidence,
            model_used=self.model_used,
            prompt_tokens=int(inputs["input_ids"].shape[1]),
            completion_tokens=int(new_tokens.shape[0]),
        )

    def _context_limit(self) -> int:
        limit = getattr(self._model.config, "max_position_embeddings", None) or 1024
        return max(16, limit - self._max_new_tokens)

    def check(self) -> str:
        return "healthy"
