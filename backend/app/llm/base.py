"""The narrow protocol every answer source implements."""

from dataclasses import dataclass
from typing import Protocol

from app.llm.prompt import PromptContext


@dataclass(frozen=True)
class Answer:
    text: str
    model_used: str
    source: str  # one of app.db.models.AnswerSource
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    source_log_id: int | None = None
    #: The verified answer served (cache answers only).
    verified_answer_id: str | None = None
    #: What the grounding guard found stated without a source (paid answers only: a local
    #: answer with any is refused).
    ungrounded: tuple[str, ...] = ()


class ProviderError(RuntimeError):
    """The provider gave no usable answer; the pipeline moves on to the next one.

    ``cost_usd`` is what the failed attempt may still have been billed (a paid call that
    timed out was most likely processed): it is added to the answer finally given, so the
    stored cost of a dialog is what it cost, not only what succeeded."""

    def __init__(self, message: str, *, cost_usd: float = 0.0) -> None:
        super().__init__(message)
        self.cost_usd = cost_usd


class AnswerProvider(Protocol):
    name: str
    #: What ``model_used`` reports when this provider answers.
    model_used: str

    def answer(self, context: PromptContext) -> Answer: ...

    def check(self) -> str:
        """A short health word: ``healthy``, ``unavailable`` …; must not raise."""
        ...
