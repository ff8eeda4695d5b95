"""A resident's recording as 16 kHz mono samples, or a clear reason it cannot be one.

Browsers record webm/opus (Safari mp4/aac), phones ogg, mp3 or m4a, telephony bridges 8 kHz
wav: PyAV (FFmpeg's decoders, in a wheel) reads all of them and resamples to what Whisper
expects. Everything a resident can get wrong is an :class:`AudioRejectedError` with a message
in Russian: the route answers 4xx and nothing is logged as a question.

A recording is bounded before work is spent on it, because a few kilobytes can claim hours:

- **Formats allowed, by content.** The container is named from the file's first bytes and
  FFmpeg is told to open exactly that demuxer; its own probing (which also knows SDP, HLS and
  concat playlists — formats that open network sockets or other files) is never asked. The
  codec must be one a device records speech in.
- **Duration, as decoded.** Seconds are counted frame by frame at the recording's own rate,
  *before* resampling, and decoding stops the moment they pass ``MAX_AUDIO_SECONDS``: a
  FLAC of constant frames or a WAV declaring a 1 Hz rate is refused after decoding a few
  frames, not after expanding into gigabytes of samples. Rates a microphone cannot have
  (below 8 kHz) are refused before any frame is decoded.
"""

import io
from dataclasses import dataclass

import numpy as np

from app.core.errors import AudioRejectedError, AudioTooLargeError, UnsupportedAudioError

SAMPLE_RATE = 16_000
#: Root-mean-square level below which a recording holds no speech (about -50 dBFS): a
#: muted microphone or an empty line.
SILENCE_RMS = 0.003
#: Telephony's 8 kHz is the lowest rate speech is recorded at; 192 kHz the highest any
#: recorder offers. Outside them a file is not a recording of a question.
MIN_SOURCE_RATE = 8_000
MAX_SOURCE_RATE = 192_000
MAX_CHANNELS = 8
UNREADABLE = "Не удалось прочитать аудио: поддерживаются webm/opus, ogg, wav, mp3, m4a и flac"

#: Codecs speech is recorded in (FFmpeg's decoder names).
SPEECH_CODECS = frozenset(
    {
        "opus", "libopus", "vorbis", "libvorbis", "flac", "mp3", "mp3float", "aac", "alac",
        "pcm_s16le", "pcm_s16be", "pcm_s24le", "pcm_s32le", "pcm_f32le", "pcm_f64le",
        "pcm_u8", "pcm_mulaw", "pcm_alaw", "adpcm_ima_wav", "adpcm_ms", "gsm_ms",
    }
)  # fmt: skip


@dataclass(frozen=True)
class Recording:
    samples: np.ndarray
    #: The bytes as sent: a remote recogniser gets the original file.
    data: bytes
    filename: str


def declared_as_audio(content_type: str | None) -> bool:
    """Whether a part's declared media type may hold a recording. Browsers declare
    ``audio/webm`` (``video/webm`` in some), telephony bridges often nothing or
    ``application/octet-stream``; an image or a document is refused before it is read."""
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    return kind in {"", "application/octet-stream", "video/webm", "video/mp4", "video/ogg"} or (
        kind.startswith("audio/")
    )


def container_of(data: bytes) -> str | None:
    """FFmpeg's demuxer for ``data``, named from its signature; None for anything that is not
    a container speech is recorded in."""
    head = data[:12]
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "matroska"  # webm is matroska
    if head.startswith(b"OggS"):
        return "ogg"
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return "wav"
    if head.startswith(b"fLaC"):
        return "flac"
    if head[4:8] == b"ftyp":
        return "mp4"  # m4a, Safari's recordings
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "mp3"
    return None


def decode(data: bytes, filename: str, *, max_bytes: int, max_seconds: float) -> Recording:
    """Check and decode ``data``; raise :class:`AudioRejectedError` for anything not a
    short recording with sound in it."""
    if not data:
        raise AudioRejectedError("Аудиофайл пуст")
    if len(data) > max_bytes:
        raise AudioTooLargeError(
            f"Аудиофайл слишком большой: {len(data)} байт, допускается не более {max_bytes}"
        )
    container = container_of(data)
    if container is None:
        raise UnsupportedAudioError(UNREADABLE)
    samples = _samples(data, container, max_seconds)
    seconds = len(samples) / SAMPLE_RATE
    if seconds < 0.2 or float(np.sqrt(np.mean(np.square(samples)))) < SILENCE_RMS:
        raise AudioRejectedError("В записи не слышно речи: повторите вопрос погромче")
    return Recording(samples, data, filename or "audio")


def too_long(max_seconds: float) -> AudioRejectedError:
    return AudioRejectedError(f"Запись слишком длинная: допускается не более {max_seconds:g} с")


def _samples(data: bytes, container_format: str, max_seconds: float) -> np.ndarray:
    """Mono float32 at 16 kHz, decoded no further than ``max_seconds``."""
    import av  # PyAV, installed with voice (faster-whisper's decoder)

    try:
        with av.open(io.BytesIO(data), format=container_format, mode="r") as container:
            if not container.streams.audio:
                raise UnsupportedAudioError(UNREADABLE)
            stream = container.streams.audio[0]
            _check_stream(stream.codec_context)
            pieces = _decoded(container, stream, max_seconds)
    except AudioRejectedError:
        raise
    except Exception as error:  # PyAV raises a dozen kinds for files that are not audio
        raise UnsupportedAudioError(UNREADABLE) from error
    if not pieces:
        raise UnsupportedAudioError(UNREADABLE)
    return np.concatenate(pieces).astype(np.float32, copy=False)


def _check_stream(codec) -> None:
    if codec.name not in SPEECH_CODECS:
        raise UnsupportedAudioError(UNREADABLE)
    if not MIN_SOURCE_RATE <= (codec.sample_rate or 0) <= MAX_SOURCE_RATE:
        raise UnsupportedAudioError(
            f"Частота дискретизации {codec.sample_rate} Гц не похожа на запись речи: "
            f"допускается от {MIN_SOURCE_RATE} до {MAX_SOURCE_RATE} Гц"
        )
    if (codec.channels or 0) > MAX_CHANNELS:
        raise UnsupportedAudioError(f"Слишком много каналов: не более {MAX_CHANNELS}")


def _decoded(container, stream, max_seconds: float) -> list[np.ndarray]:
    """The stream resampled piece by piece; refused the moment its decoded length (at its
    own rate, before resampling) passes ``max_seconds``."""
    import av

    resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
    pieces: list[np.ndarray] = []
    seconds = 0.0
    for frame in container.decode(stream):
        if not MIN_SOURCE_RATE <= frame.sample_rate <= MAX_SOURCE_RATE:
            raise UnsupportedAudioError(UNREADABLE)  # a rate changed mid-stream
        seconds += frame.samples / frame.sample_rate
        if seconds > max_seconds:
            raise too_long(max_seconds)
        frame.pts = None  # timestamps of a damaged file must not make the resampler pad
        pieces += [piece.to_ndarray().reshape(-1) for piece in resampler.resample(frame)]
    pieces += [piece.to_ndarray().reshape(-1) for piece in resampler.resample(None)]
    return pieces
