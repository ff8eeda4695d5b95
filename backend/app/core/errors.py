"""Domain errors. Services raise these; ``app.api.errors`` maps each to one HTTP status.

Messages are Russian because they reach residents through the chat page as they are.
"""


class DomainError(Exception):
    """Base of every error a caller can cause or should be told about."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class MalformedRequestError(DomainError):
    """The request cannot even be read as what it claims to be (400)."""


class InvalidInputError(DomainError):
    """The request is well-formed JSON but its content cannot be accepted."""


class NotFoundError(DomainError):
    """The request names something that does not exist."""


class ConflictError(DomainError):
    """The request contradicts what is already stored (a duplicate, say)."""


class LogNotFoundError(NotFoundError):
    def __init__(self, log_id: object) -> None:
        super().__init__(f"Запись диалога {log_id} не найдена")


class VerifiedAnswerNotFoundError(NotFoundError):
    def __init__(self, answer_id: object) -> None:
        super().__init__(f"Проверенный ответ {answer_id} не найден")


class FeedbackNotAllowedError(DomainError):
    """A rating from someone other than the client that got the answer: neither the token
    ``process`` gave that conversation, nor (without a token) that client's address."""

    def __init__(self) -> None:
        super().__init__(
            "Оценку может поставить только тот, кто получил ответ: передайте feedback_token "
            "из ответа /process (поле тела или заголовок X-Feedback-Token) или оцените с того "
            "же устройства"
        )


class RateLimitedError(DomainError):
    """Too many requests from one address or conversation; ``retry_after`` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"Слишком много запросов, повторите через {retry_after} с")
        self.retry_after = retry_after


class ServiceUnavailableError(DomainError):
    """A dependency (database, embedder) is down; the caller may retry later."""


class SpeechTokenMissingError(DomainError):
    """``/speech`` with neither the answer's feedback token nor operator credentials (401)."""

    def __init__(self) -> None:
        super().__init__(
            "Нужен feedback_token ответа (параметр feedback_token или заголовок "
            "X-Feedback-Token) или ключ оператора"
        )


class SpeechTokenWrongError(DomainError):
    """``/speech`` with a feedback token of another answer or conversation: 401 like a
    missing one (no valid credentials), but saying what is wrong with the one given."""

    def __init__(self) -> None:
        super().__init__(
            "Этот feedback_token не от этого ответа: озвучить ответ может только разговор, "
            "который его получил"
        )


class AudioRejectedError(InvalidInputError):
    """A recording that cannot be a question: silent, unreadable, too long (422)."""


class UnsupportedAudioError(AudioRejectedError):
    """Not audio in a format the service reads (415)."""


class AudioTooLargeError(AudioRejectedError):
    """Over ``MAX_AUDIO_BYTES`` (413)."""
