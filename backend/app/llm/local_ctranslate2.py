"""A local causal LM served with CTranslate2: int8 weights, 2.2–2.5× the tokens per second
of Transformers on the same weights on 2 cores (``benchmarks/local_inference.py``), from a
wheel with nothing to compile.

The directory is one ``app/model_versions/ctranslate2_conversion.py`` wrote: ``model.bin``,
the model's own tokenizer, and ``inference.json`` (what it was converted from, how long a
prompt the model takes). Imported lazily, like every ML extra.
"""

import json
import math
from pathlib import Path

from app.llm.base import Answer, ProviderError
from app.llm.local_prompting import (
    NEXT_TURN,
    local_answer,
    local_model_label,
    render_prompt,
)
from app.llm.prompt import PromptContext

#: Written next to ``model.bin`` by the converter; its presence marks a directory we made.
INFERENCE_FILE = "inference.json"


def is_ctranslate2_dir(path: Path) -> bool:
    return (path / "model.bin").is_file() and (path / INFERENCE_FILE).is_file()


class LocalCTranslate2Provider:
    name = "local"

    def __init__(
        self,
        model_dir: str,
        *,
        model_used: str | None = None,
        max_new_tokens: int = 160,
        min_confidence: float = 0.0,
        threads: int = 2,
    ) -> None:
        import ctranslate2
        from transformers import AutoTokenizer

        path = Path(model_dir)
        self.model_used = model_used or local_model_label(model_dir)
        self.engine = "ctranslate2"
        self._manifest = json.loads((path / INFERENCE_FILE).read_text(encoding="utf-8"))
        # intra_threads explicitly: the default may oversubscribe a small, busy machine.
        self._generator = ctranslate2.Generator(
            str(path), device="cpu", compute_type=self._manifest.get("quantization", "int8"),
            intra_threads=threads,
        )  # fmt: skip
        self._tokenizer = AutoTokenizer.from_pretrained(str(path))
        self._max_new_tokens = max_new_tokens
        self.min_confidence = min_confidence

    def answer(self, context: PromptContext) -> Answer:
        tokenizer = self._tokenizer
        ids = tokenizer(render_prompt(tokenizer, context)).input_ids
        # A long prompt loses its oldest context, never the question at its end.
        ids = ids[-self._prompt_limit() :]
        generated, log_probs = self._generate(tokenizer.convert_ids_to_tokens(ids))
        if not generated:
            raise ProviderError("local model produced an empty answer")
        # Mean probability of the chosen tokens: how sure the model was of its own answer.
        return local_answer(
            tokenizer.decode(generated, skip_special_tokens=True),
            confidence=math.exp(sum(log_probs) / len(log_probs)),
            min_confidence=self.min_confidence,
            model_used=self.model_used,
            prompt_tokens=len(ids),
            completion_tokens=len(generated),
        )

    def _generate(self, prompt_tokens: list[str]) -> tuple[list[int], list[float]]:
        """Greedy decoding, token by token, stopped as soon as the model starts the
        resident's next turn (a base model would otherwise write the whole dialog)."""
        generated: list[int] = []
        log_probs: list[float] = []
        steps = self._generator.generate_tokens(
            prompt_tokens, max_length=self._max_new_tokens, sampling_topk=1, return_log_prob=True
        )
        for step in steps:
            generated.append(step.token_id)
            log_probs.append(step.log_prob)
            if NEXT_TURN in self._tokenizer.decode(generated):
                break
        return generated, log_probs

    def _prompt_limit(self) -> int:
        context_length = int(self._manifest.get("context_length") or 2048)
        return max(16, context_length - self._max_new_tokens)

    def check(self) -> str:
        return "healthy"
