"""What every local engine does the same way around generation: the prompt it renders from
the service's context, and the reply it keeps from what the model wrote.

Both engines must prompt exactly as the model was trained (``training/fine_tuning.py``):
the tokenizer's chat template when it has one, otherwise the service's plain template.
"""

from app.answering.prompt import PLAIN_ROLE_LABELS, PromptContext, render_plain

#: Where a plain-template model starts writing the resident's next turn.
NEXT_TURN = f"\n{PLAIN_ROLE_LABELS['user']}:"


def render_prompt(tokenizer, context: PromptContext) -> str:
    messages = context.messages()
    if getattr(tokenizer, "chat_template", None):
        return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    return render_plain(messages)


def own_reply(generated: str) -> str:
    """A plain-template model may run on into the next turn; keep only its own reply."""
    return generated.split(NEXT_TURN)[0].strip()
