"""The line formats of exported training data, and their validation.

* ``chat`` (default): ``{"messages": [system, user, assistant], "meta": {...}}`` — the
  conversational format of TRL's SFTTrainer and of OpenAI fine-tuning.
* ``prompt_completion``: ``{"prompt": ..., "completion": ...}`` rendered with the plain
  template the service uses for models without a chat template.
* preference pairs: ``{"prompt": [user], "chosen": [assistant], "rejected": [assistant]}``
  — TRL's conversational DPO format.
"""

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

FORMATS = ("chat", "prompt_completion")


class Message(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Literal["system", "user", "assistant"]
    content: str = Field(min_length=1)


class ChatSample(BaseModel):
    model_config = ConfigDict(extra="forbid")

    messages: list[Message] = Field(min_length=2)
    meta: dict = Field(default_factory=dict)


class PromptCompletionSample(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prompt: str = Field(min_length=1)
    completion: str = Field(min_length=1)
    meta: dict = Field(default_factory=dict)


class PreferencePair(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prompt: list[Message] = Field(min_length=1)
    chosen: list[Message] = Field(min_length=1)
    rejected: list[Message] = Field(min_length=1)
    meta: dict = Field(default_factory=dict)


SCHEMAS: dict[str, type[BaseModel]] = {
    "chat": ChatSample,
    "prompt_completion": PromptCompletionSample,
    "pairs": PreferencePair,
}


def validate_file(path: Path, kind: str) -> list[str]:
    """Every problem found, as ``line N: message``; an empty list means the file is valid."""
    schema = SCHEMAS[kind]
    problems = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            try:
                schema.model_validate(json.loads(line))
            except json.JSONDecodeError as error:
                problems.append(f"line {number}: not JSON ({error.msg})")
            except ValidationError as error:
                problems.append(f"line {number}: {error.errors()[0]['msg']}")
    return problems
