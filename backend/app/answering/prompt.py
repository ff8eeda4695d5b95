"""What the model is told: instructions, company facts, approved examples, the dialog so far.

Resident text never sits in the system position: past approved dialogs go in as few-shot
user/assistant pairs and the session's turns as the conversation itself, so a resident
cannot rewrite the instructions by what they type.
"""

from dataclasses import dataclass, field
from types import MappingProxyType

SYSTEM_PROMPT = (
    "Ты — вежливый помощник компании «ВасДом», которая убирает подъезды многоквартирных "
    "домов. Отвечай жильцам и управляющим компаниям по-русски, коротко и по делу. Опирайся "
    "на факты компании ниже и на одобренные ответы из примеров; если точного ответа нет, "
    "честно скажи об этом и предложи связаться с диспетчерской. Не выдумывай цены, даты и "
    "телефоны."
)
EXAMPLES_NOTE = (
    "Следующие пары вопрос–ответ — одобренные ответы на похожие вопросы жильцов. "
    "Используй их факты, если они подходят к новому вопросу."
)


@dataclass(frozen=True)
class ApprovedExample:
    """A past dialog whose answer was rated well or corrected by an operator."""

    log_id: str
    question: str
    answer: str
    similarity: float
    #: Written by an operator: shown before answers that were only rated well.
    corrected: bool = False


@dataclass(frozen=True)
class KnowledgeSnippet:
    title: str
    content: str
    similarity: float


@dataclass(frozen=True)
class Turn:
    question: str
    answer: str


@dataclass(frozen=True)
class PromptContext:
    """Everything gathered for one question, before any model is chosen."""

    question: str
    history: list[Turn] = field(default_factory=list)
    examples: list[ApprovedExample] = field(default_factory=list)
    knowledge: list[KnowledgeSnippet] = field(default_factory=list)

    def messages(self) -> list[dict[str, str]]:
        """Chat messages in the OpenAI format, ready for any chat model."""
        system = SYSTEM_PROMPT
        if self.knowledge:
            facts = "\n".join(f"- {s.title}: {s.content}" for s in self.knowledge)
            system += f"\n\nФакты компании:\n{facts}"
        if self.examples:
            system += f"\n\n{EXAMPLES_NOTE}"
        messages = [{"role": "system", "content": system}]
        for example in self.examples:
            messages.append({"role": "user", "content": example.question})
            messages.append({"role": "assistant", "content": example.answer})
        for turn in self.history:
            messages.append({"role": "user", "content": turn.question})
            messages.append({"role": "assistant", "content": turn.answer})
        messages.append({"role": "user", "content": self.question})
        return messages


# Template for causal LMs without a chat template (DialoGPT/GPT-2 style). Fine-tuning
# renders training dialogs with the same function, so train and serve see one format.
PLAIN_ROLE_LABELS = MappingProxyType({"system": "Инструкция", "user": "Жилец", "assistant": "Бот"})


def render_plain(messages: list[dict[str, str]], *, add_generation_prompt: bool = True) -> str:
    lines = [f"{PLAIN_ROLE_LABELS[m['role']]}: {m['content']}" for m in messages]
    if add_generation_prompt:
        lines.append(f"{PLAIN_ROLE_LABELS['assistant']}:")
    return "\n".join(lines)
