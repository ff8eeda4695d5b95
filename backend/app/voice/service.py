"""A spoken question as text: the recording checked and decoded, then recognised.

Nothing here touches the database: a recording that cannot be a question is refused before
anything is logged, and what is logged is the transcript (scrubbed like typed text by the
exporter), with the recogniser's confidence beside it.
"""

import base64
import importlib.util
import logging
from dataclasses import dataclass

from app.core.config import Settings
from app.core.errors import AudioRejectedError, ServiceUnavailableError
from app.voice.audio import Recording, decode
from app.voice.recognition import BUNDLED_PARTS, SpeechRecognizer, Transcript, WhisperRecognizer
from app.voice.synthesis import SpeechCache, SpeechFailedRecentlyError, SpeechSynthesizer

logger = logging.getLogger(__name__)

INSTALL_HINT = "pip install -r backend/requirements_voice.txt"


@dataclass(frozen=True)
class HeardQuestion:
    transcript: Transcript
    #: What the recogniser heard, for the archive (``STORE_AUDIO``).
    recording: Recording


class SpeechInput:
    def __init__(self, settings: Settings, recognizer: SpeechRecognizer | None) -> None:
        self.settings = settings
        self.recognizer = recognizer

    def hear(self, data: bytes, filename: str) -> HeardQuestion:
        """The transcript of ``data``; AudioRejectedError (4xx) for a recording that holds
        no question, ServiceUnavailableError (503) when recognition cannot run here."""
        if self.recognizer is None:
            raise ServiceUnavailableError("Распознавание речи выключено (ASR_ENGINE=off)")
        try:
            recording = decode(
                data,
                filename,
                max_bytes=self.settings.max_audio_bytes,
                max_seconds=self.settings.max_audio_seconds,
            )
            return HeardQuestion(self.recognizer.transcribe(recording), recording)
        except AudioRejectedError:
            raise
        except ImportError as error:
            logger.error("speech recognition is not installed: %s", error)
            raise ServiceUnavailableError(
                f"Распознавание речи не установлено на сервере: {INSTALL_HINT}"
            ) from error
        except Exception as error:
            logger.exception("speech recognition failed")
            raise ServiceUnavailableError(
                "Распознавание речи временно недоступно, напишите вопрос текстом"
            ) from error

    @property
    def status(self) -> str:
        """For ``health``, without loading a model: disabled, healthy, or unavailable (what
        to install is logged at start-up, see :meth:`missing`)."""
        if self.recognizer is None:
            return "disabled"
        return "unavailable" if self.missing() else "healthy"

    def missing(self) -> str | None:
        """What recognition lacks on this machine, as the command that installs it."""
        if not isinstance(self.recognizer, WhisperRecognizer):
            return None
        needed = ["faster_whisper"]
        if self.recognizer.model_spec is None:
            needed += list(BUNDLED_PARTS)
        if any(importlib.util.find_spec(name) is None for name in needed):
            return INSTALL_HINT
        return None


class SpeechOutput:
    """Answers read aloud, each text synthesised once (``SpeechCache``)."""

    def __init__(self, settings: Settings, synthesizer: SpeechSynthesizer | None) -> None:
        self.synthesizer = synthesizer
        self.cache = SpeechCache(settings.data_dir / "speech", synthesizer) if synthesizer else None

    @property
    def status(self) -> str:
        if self.synthesizer is None:
            return "disabled"
        return "healthy" if self.synthesizer.available() else "unavailable"

    def speak(self, text: str) -> bytes:
        """WAV bytes of ``text``; ServiceUnavailableError (503) when no engine can speak."""
        if self.cache is None:
            raise ServiceUnavailableError("Озвучивание ответов выключено (TTS_ENGINE=off)")
        if not self.synthesizer.available():
            raise ServiceUnavailableError(
                "Озвучивание не установлено на сервере: apt-get install festival festvox-ru "
                "(или TTS_ENGINE=espeak с espeak-ng)"
            )
        try:
            return self.cache.speech(text)
        except SpeechFailedRecentlyError as error:
            raise ServiceUnavailableError(
                f"Озвучивание временно недоступно: повторите через {error.seconds_left:.0f} с"
            ) from error
        except Exception as error:
            logger.exception("speech synthesis failed")
            raise ServiceUnavailableError("Озвучивание временно недоступно") from error

    def inline(self, text: str) -> str | None:
        """``text`` spoken, as base64 for a JSON answer; None when speech cannot be made
        (the text answer still goes out; the speech endpoint says why)."""
        try:
            return base64.b64encode(self.speak(text)).decode("ascii")
        except ServiceUnavailableError:
            return None
