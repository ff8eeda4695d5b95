"""An OpenAI-compatible door for other front-ends and telephony bridges:
``POST /v1/chat/completions`` answers with the self-learning bot — the same identity, rate
limits, pipeline and logs as ``process`` (:class:`app.answering.turns.Turns`).

The question is the last user message; the conversation is ``user`` (or the
``X-Session-Id`` header). The answer carries ``log_id``, ``feedback_token``,
``session_id``, ``answer_source`` and ``conversation_token`` beside the standard fields, so
a bridge can pass on ratings (``POST /api/voice/feedback``) and keep the conversation.
Streaming is not offered: answers are short and often come from the cache at once.
"""

import time
from typing import Annotated, Literal

from fastapi import APIRouter, BackgroundTasks, Header
from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator, model_validator

from app.access.deps import ClientAddressDep, FeedbackTokensDep, IdentityDep
from app.answering.deps import TurnsDep
from app.answering.schemas import MESSAGE_HARD_LIMIT
from app.answering.turns import Question
from app.api.schemas import NOT_BLANK, PLAIN_TEXT, error_responses
from app.core.errors import InvalidInputError
from app.db.models import AnswerSource

router = APIRouter(prefix="/v1", tags=["openai-compatible"])


def carries_text() -> dict:
    """JSON Schema of "this content carries text": a non-blank string, or parts with a text
    part."""
    return {
        "anyOf": [
            {"type": "string", "pattern": NOT_BLANK},
            {
                "type": "array",
                "contains": {
                    "type": "object",
                    "properties": {
                        "type": {"const": "text"},
                        "text": {"type": "string", "pattern": NOT_BLANK},
                    },
                    "required": ["type", "text"],
                },
            },
        ]
    }


#: Parts of one message: a question with a picture or two, not a document.
MAX_CONTENT_PARTS = 10


class ContentPart(BaseModel):
    """One part of a message's content. Text parts are read; other kinds (images, audio)
    are passed over: the bot answers text."""

    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={
            "if": {"properties": {"type": {"const": "text"}}, "required": ["type"]},
            "then": {"properties": {"text": {"type": "string"}}, "required": ["text"]},
        },
    )

    type: str = Field(max_length=64)
    text: str | None = Field(default=None, max_length=MESSAGE_HARD_LIMIT, pattern=PLAIN_TEXT)

    @model_validator(mode="after")
    def _text_part_holds_text(self) -> "ContentPart":
        if self.type == "text" and self.text is None:
            raise ValueError("часть с type: text должна содержать строку text")
        return self


class ChatMessage(BaseModel):
    """A turn of the conversation. A user turn must say something in text: it may be the
    question the bot answers."""

    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={
            "if": {"properties": {"role": {"const": "user"}}, "required": ["role"]},
            "then": {"properties": {"content": carries_text()}, "required": ["content"]},
        },
    )

    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: (
        Annotated[str, Field(max_length=MESSAGE_HARD_LIMIT, pattern=PLAIN_TEXT)]
        | Annotated[list[ContentPart], Field(max_length=MAX_CONTENT_PARTS)]
        | None
    ) = None

    @property
    def text(self) -> str:
        if isinstance(self.content, str):
            return self.content.strip()
        parts = self.content or []
        return " ".join(p.text for p in parts if p.type == "text" and p.text).strip()

    @model_validator(mode="after")
    def _user_turn_says_something(self) -> "ChatMessage":
        if self.role == "user" and not self.text:
            raise ValueError("сообщение пользователя (role: user) должно содержать текст")
        return self


class ChatCompletionRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    model: str = Field(default="vasdom", max_length=200, description="Не влияет на ответ")
    messages: list[ChatMessage] = Field(
        min_length=1,
        max_length=200,
        description="Бот отвечает на последнее сообщение пользователя (role: user); "
        f"его текст — не длиннее {MESSAGE_HARD_LIMIT} символов",
        json_schema_extra={
            "contains": {
                "type": "object",
                "properties": {"role": {"const": "user"}},
                "required": ["role"],
            }
        },
    )
    user: str | None = Field(
        default=None, max_length=128, pattern=PLAIN_TEXT, description="Идентификатор разговора"
    )
    stream: StrictBool = Field(
        default=False,
        description="Потоковая выдача не предлагается: ответы короткие",
        json_schema_extra={"enum": [False]},
    )

    @field_validator("messages")
    @classmethod
    def _someone_asks(cls, messages: list[ChatMessage]) -> list[ChatMessage]:
        if not any(message.role == "user" for message in messages):
            raise ValueError("нет сообщения пользователя (role: user) с текстом")
        return messages

    @field_validator("stream")
    @classmethod
    def _no_streaming(cls, stream: bool) -> bool:
        if stream:
            raise ValueError("потоковая выдача (stream) не поддерживается: ответы короткие")
        return stream


class ChatChoiceMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class ChatChoice(BaseModel):
    index: int = 0
    message: ChatChoiceMessage
    finish_reason: Literal["stop"] = "stop"


class ChatUsage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ChatCompletionResponse(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[ChatChoice]
    usage: ChatUsage
    log_id: int = Field(description="Запись диалога (для /api/voice/feedback)")
    feedback_token: str
    session_id: str
    answer_source: AnswerSource
    conversation_token: str | None = None


def question_of(body: ChatCompletionRequest) -> str:
    """The last user message: earlier turns are already in the conversation's log."""
    text = [m for m in body.messages if m.role == "user"][-1].text
    if len(text) > MESSAGE_HARD_LIMIT:
        raise InvalidInputError(f"Сообщение длиннее {MESSAGE_HARD_LIMIT} символов")
    return text


@router.post(
    "/chat/completions",
    response_model=ChatCompletionResponse,
    responses=error_responses(413, 422, 429, 503),
    summary="Ответ бота в формате OpenAI Chat Completions",
)
def chat_completions(
    body: ChatCompletionRequest,
    turns: TurnsDep,
    tokens: FeedbackTokensDep,
    identity: IdentityDep,
    client: ClientAddressDep,
    background: BackgroundTasks,
    x_session_id: str | None = Header(default=None, max_length=128, pattern=PLAIN_TEXT),
    x_conversation_token: str | None = Header(default=None, max_length=64),
) -> ChatCompletionResponse:
    question = Question(body.user or x_session_id, None, message=question_of(body))
    log, _ = turns.take(client, background, question, x_conversation_token)
    bound = log.conversation_bound
    return ChatCompletionResponse(
        id=f"chatcmpl-{log.id}",
        created=int(time.time()),
        model=log.model_used,
        choices=[ChatChoice(message=ChatChoiceMessage(content=log.ai_response))],
        usage=ChatUsage(
            prompt_tokens=log.prompt_tokens or 0,
            completion_tokens=log.completion_tokens or 0,
            total_tokens=(log.prompt_tokens or 0) + (log.completion_tokens or 0),
        ),
        log_id=log.id,
        feedback_token=tokens.issue(log.id, log.session_id),
        session_id=log.session_id,
        answer_source=log.answer_source,
        conversation_token=identity.conversation_token(log.session_id) if bound else None,
    )
