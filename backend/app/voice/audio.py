"""A resident's recording as 16 kHz mono samples, or a clear reason it cannot be one.

Browsers record webm/opus, phones ogg or mp3, telephony bridges 8 kHz wav: PyAV (FFmpeg's
decoders, in a wheel) reads all of them and resamples to what Whisper expects. Everything a
resident can get wrong is an :class:`AudioRejectedError` with a message in Russian: the route
answers 4xx and nothing is logged as a question.
"""

import io
from dataclasses import dataclass

import numpy as np

from app.core.errors import AudioRejectedError, AudioTooLargeError, UnsupportedAudioError

SAMPLE_RATE = 16_000
#: Root-mean-square level below which a recording holds no speech (about -50 dBFS): a
#: muted microphone or an empty line.
SILENCE_RMS = 0.003
UNREADABLE = "Не удалось прочитать аудио: поддерживаются webm/opus, ogg, wav и mp3"


@dataclass(frozen=True)
class Recording:
    samples: np.ndarray
    #: The bytes as sent: a remote recogniser gets the original file.
    data: bytes
    filename: str


def decode(data: bytes, filename: str, *, max_bytes: int, max_seconds: float) -> Recording:
    """Check and decode ``data``; raise :class:`AudioRejectedError` for anything not a
    short recording with sound in it."""
    if not data:
        raise AudioRejectedError("Аудиофайл пуст")
    if len(data) > max_bytes:
        raise AudioTooLargeError(
            f"Аудиофайл слишком большой: {len(data)} байт, допускается не более {max_bytes}"
        )
    samples = _samples(data)
    seconds = len(samples) / SAMPLE_RATE
    if seconds > max_seconds:
        raise AudioRejectedError(
            f"Запись слишком длинная: {seconds:.1f} с, допускается не более {max_seconds:g} с"
        )
    if seconds < 0.2 or float(np.sqrt(np.mean(np.square(samples)))) < SILENCE_RMS:
        raise AudioRejectedError("В записи не слышно речи: повторите вопрос погромче")
    return Recording(samples, data, filename or "audio")


def _samples(data: bytes) -> np.ndarray:
    """Mono float32 at 16 kHz, whatever the container and codec."""
    from faster_whisper.audio import decode_audio  # PyAV inside; imported with voice only

    try:
        samples = decode_audio(io.BytesIO(data), sampling_rate=SAMPLE_RATE)
    except Exception as error:  # PyAV raises a dozen kinds for files that are not audio
        raise UnsupportedAudioError(UNREADABLE) from error
    if samples.size == 0:
        raise UnsupportedAudioError(UNREADABLE)
    return np.asarray(samples, dtype=np.float32)
