"""Training samples in the form the service prompts with: an answer to find among others.

A small model fine-tuned on bare question → answer pairs has to memorise every fact of
every topic, and cannot. Trained on prompts like the ones it will get — the approved
answer quoted among distractor answers (the closest other answers, then random ones) —
it learns to pick the answer that fits and repeat its facts (retrieval-aware fine-tuning,
RAFT: Zhang et al., 2024). Some samples hold only distractors; their target is the
hand-on answer (``HAND_ON_ANSWER``), so the model learns to pass a question it cannot
answer to the next provider instead of making one up.

Distractors come from the same cleaned, scrubbed export: nothing enters a prompt here that
could not enter the training data itself.
"""

import random
from dataclasses import dataclass

import numpy as np

from app.llm.prompt import HAND_ON_ANSWER, ApprovedExample, PromptContext
from app.verified_answers.service import text_key


@dataclass(frozen=True)
class PoolEntry:
    """One kept dialog: its (scrubbed) question and answer, and the question's vector."""

    question: str
    answer: str
    vector: np.ndarray | None


@dataclass(frozen=True)
class GroundedSample:
    messages: list[dict[str, str]]
    #: False: only distractors were shown, and the target hands the question on.
    answer_in_context: bool
    distractors: int


class GroundedSampler:
    def __init__(
        self, pool: list[PoolEntry], *, distractors: int, no_answer_share: float, seed: int
    ) -> None:
        self.pool = pool
        self.distractors = distractors
        self.no_answer_share = no_answer_share
        self._rng = random.Random(seed)
        self._keys = [text_key(entry.answer) for entry in pool]
        vectors = [e.vector for e in pool]
        self._vectors = (
            np.asarray(vectors, dtype=np.float32)
            if pool and all(v is not None for v in vectors)
            else None
        )

    def sample(self, index: int) -> GroundedSample:
        """The prompt for ``pool[index]`` with its context, and the target answer."""
        entry = self.pool[index]
        # As many answers shown either way, so that their count never gives it away.
        others = self._distractors_for(index, self.distractors + 1)
        hand_on = len(others) > self.distractors and self._rng.random() < self.no_answer_share
        shown = list(others) if hand_on else [entry.answer, *others[: self.distractors]]
        self._rng.shuffle(shown)
        context = PromptContext(
            entry.question,
            examples=[ApprovedExample("", "", text, 0.0) for text in shown],
        )
        target = HAND_ON_ANSWER if hand_on else entry.answer
        messages = [*context.messages(), {"role": "assistant", "content": target}]
        return GroundedSample(messages, not hand_on, len(shown) - (0 if hand_on else 1))

    def _distractors_for(self, index: int, wanted: int) -> list[str]:
        """Other answers, the closest questions' first (the hard case), then random ones;
        never a text of the same answer."""
        own = self._keys[index]
        candidates = [i for i, key in enumerate(self._keys) if key != own]
        if not candidates:
            return []
        ordered: list[int] = []
        if self._vectors is not None:
            similarity = self._vectors[candidates] @ self._vectors[index]
            ordered.append(candidates[int(np.argmax(similarity))])
        rest = [i for i in candidates if i not in ordered]
        self._rng.shuffle(rest)
        ordered += rest
        distinct: dict[str, str] = {}
        for i in ordered:
            distinct.setdefault(self._keys[i], self.pool[i].answer)
            if len(distinct) == wanted:
                break
        return list(distinct.values())
