"""What every local engine does the same way around generation: the prompt it renders from
the service's context, and the reply it keeps from what the model wrote.

Both engines must prompt exactly as the model was trained (``training/fine_tuning.py``):
the tokenizer's chat template when it has one, otherwise the service's plain template.
"""

from pathlib import Path

from app.db.models import AnswerSource
from app.llm.base import Answer, ProviderError
from app.llm.prompt import PLAIN_ROLE_LABELS, PromptContext, render_plain

#: Where a plain-template model starts writing the resident's next turn.
NEXT_TURN = f"\n{PLAIN_ROLE_LABELS['user']}:"


def local_model_label(model_path: str) -> str:
    """``model_used`` of a local answer: ``local:`` and the model directory's own name (a
    version's, through a ``latest`` link too), or the Hugging Face name as given."""
    path = Path(model_path)
    return f"local:{path.resolve().name if path.exists() else model_path}"


def render_prompt(tokenizer, context: PromptContext) -> str:
    messages = context.messages()
    if getattr(tokenizer, "chat_template", None):
        return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    return render_plain(messages)


def own_reply(generated: str) -> str:
    """A plain-template model may run on into the next turn; keep only its own reply."""
    return generated.split(NEXT_TURN)[0].strip()


def local_answer(
    generated: str, *, confidence: float, min_confidence: float, model_used: str,
    prompt_tokens: int, completion_tokens: int,
) -> Answer:  # fmt: skip
    """The answer a local engine gives, or a refusal: a model unsure of itself below the
    optional ``LOCAL_MIN_CONFIDENCE`` gate, or one that wrote nothing of its own."""
    if confidence < min_confidence:
        raise ProviderError(f"local answer refused: confidence {confidence:.2f} < {min_confidence}")
    text = own_reply(generated)
    if not text:
        raise ProviderError("local model produced an empty answer")
    return Answer(
        text=text,
        model_used=model_used,
        source=AnswerSource.LOCAL,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
    )
