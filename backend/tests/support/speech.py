"""Real recordings for voice tests: Russian spoken by Festival (Debian's ``festival`` +
``festvox-ru``), re-encoded with PyAV into what browsers and phones send."""

import io
import shutil
from fractions import Fraction

import numpy as np
import pytest

#: Container and codec of each format a resident's device records.
FORMATS = {
    "wav": ("wav", "pcm_s16le"),
    "webm": ("webm", "libopus"),
    "ogg": ("ogg", "libopus"),
    "mp3": ("mp3", "libmp3lame"),
}


def require_festival() -> None:
    if shutil.which("text2wave") is None:
        pytest.skip("speech tests need Debian's festival and festvox-ru (make test installs them)")


def spoken(text: str, *, rate: int = 16_000, fmt: str = "wav") -> bytes:
    """``text`` read aloud by Festival (as the service reads answers: ``festival_text``),
    resampled to ``rate`` and encoded as ``fmt``."""
    from app.voice.synthesis import FestivalSynthesizer

    require_festival()
    samples, source_rate = _read_wav(FestivalSynthesizer().synthesize(text))
    return encode(samples, source_rate, rate=rate, fmt=fmt)


def encode(samples: np.ndarray, source_rate: int, *, rate: int, fmt: str) -> bytes:
    """Mono int16 ``samples`` as a file of ``fmt`` at ``rate`` Hz."""
    import av

    container_format, codec = FORMATS[fmt]
    out = io.BytesIO()
    with av.open(out, "w", format=container_format) as container:
        stream = container.add_stream(codec, rate=rate)
        stream.layout = "mono"
        resampler = av.AudioResampler(format=stream.format.name, layout="mono", rate=rate)
        frames = _frames(samples, source_rate)
        resampled = [piece for frame in frames for piece in resampler.resample(frame)]
        for frame in [*resampled, *resampler.resample(None)]:
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return out.getvalue()


def _frames(samples: np.ndarray, rate: int, size: int = 4096):
    """The samples as frames of ``size``: FFmpeg's filter graph refuses one frame holding a
    long recording (ENOMEM past ~10 s)."""
    import av

    for start in range(0, len(samples), size):
        frame = av.AudioFrame.from_ndarray(
            samples[start : start + size].reshape(1, -1).astype(np.int16),
            format="s16",
            layout="mono",
        )
        frame.sample_rate = rate
        frame.time_base = Fraction(1, rate)
        frame.pts = start
        yield frame


def _read_wav(data: bytes) -> tuple[np.ndarray, int]:
    import wave

    with wave.open(io.BytesIO(data)) as reader:
        rate = reader.getframerate()
        samples = np.frombuffer(reader.readframes(reader.getnframes()), dtype=np.int16)
    return samples, rate


def silence(seconds: float = 2.0, rate: int = 16_000) -> bytes:
    return encode(np.zeros(int(seconds * rate), np.int16), rate, rate=rate, fmt="wav")


def noise(seconds: float = 2.0, rate: int = 16_000) -> bytes:
    """Loud white noise: sound, but no speech in it."""
    generator = np.random.default_rng(5)
    samples = generator.normal(0, 6000, int(seconds * rate)).clip(-32768, 32767)
    return encode(samples.astype(np.int16), rate, rate=rate, fmt="wav")
