"""Text to speech: one protocol, three engines (``TTS_ENGINE``), answers cached on disk.

* ``festival`` (default): Debian's ``festival`` with ``festvox-ru``, the MSU Russian voice;
  about a second a sentence on 2 cores, intelligible.
* ``espeak``: ``espeak-ng -v ru``, faster and more robotic; the fallback where Festival's
  Russian voice is not installed.
* ``openai``: any OpenAI-compatible ``/v1/audio/speech`` (``TTS_BASE_URL``,
  ``TTS_API_KEY``, ``TTS_MODEL``, ``TTS_VOICE``) — Piper or Silero behind such a server too.

Answers served from the cache repeat word for word, so their speech is cached by text and
engine under ``DATA_DIR/speech/``: the second resident to hear an answer costs nothing.
"""

import hashlib
import re
import shutil
import struct
import subprocess
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from types import MappingProxyType
from typing import Protocol

from app.core.config import Settings

FESTIVAL_VOICE = "(voice_msu_ru_nsh_clunits)"
SYNTHESIS_TIMEOUT_SECONDS = 60
WAV_HEADER_BYTES = 44


class SpeechSynthesizer(Protocol):
    name: str

    def available(self) -> bool: ...

    def synthesize(self, text: str) -> bytes:
        """WAV bytes of ``text`` read aloud."""
        ...


#: Signs Festival's Russian voice reads as words.
_SIGNS_AS_WORDS = MappingProxyType({
    "%": " процентов", "₽": " рублей", "№": " номер ", "&": " и ", "+": " плюс ", "@": " собака ",
})  # fmt: skip
#: Signs that stop it dead (its letter-to-sound rules have no rule for them and it writes
#: an empty file): quotes, brackets, slashes, arrows … are read as a short pause.
_UNREADABLE = re.compile(r"[«»„“”\"'()\[\]{}*/\\|~^_<>©®™→←;]")
_DASH = re.compile(r"\s*[—–]\s*")
_TIME = re.compile(r"(\d):(\d)")
_PAUSES = ",.!?:"
#: Latin letters, which the Russian voice has no rules for either (a site's address), as
#: they would be read in Russian.
_LATIN_SOUNDS = MappingProxyType({
    "a": "а", "b": "б", "c": "к", "d": "д", "e": "е", "f": "ф", "g": "г", "h": "х", "i": "и",
    "j": "дж", "k": "к", "l": "л", "m": "м", "n": "н", "o": "о", "p": "п", "q": "к", "r": "р",
    "s": "с", "t": "т", "u": "у", "v": "в", "w": "в", "x": "кс", "y": "и", "z": "з",
})  # fmt: skip
_LATIN = str.maketrans(
    dict(_LATIN_SOUNDS) | {k.upper(): v.upper() for k, v in _LATIN_SOUNDS.items()}
)
_DOT_IN_WORD = re.compile(r"(?<=\w)\.(?=\w)")


def festival_text(text: str) -> str:
    """``text`` as Festival's Russian voice can read it: 8:00 as «8 00», a dash as a pause,
    signs as words, Latin letters as Russian ones, and the signs it cannot read at all left
    out."""
    for sign, words in _SIGNS_AS_WORDS.items():
        text = text.replace(sign, words)
    text = _TIME.sub(r"\1 \2", text.replace("…", "."))
    text = _DOT_IN_WORD.sub(" точка ", text).translate(_LATIN)
    text = _DASH.sub(", ", text)
    return _punctuation_on_words(_UNREADABLE.sub(" ", text))


def _punctuation_on_words(text: str) -> str:
    """A mark standing alone (``Жилец , спросил``) also stops Festival: each goes onto the
    word before it, one mark per word; a lone hyphen is a pause too."""
    words: list[str] = []
    for token in text.split():
        if any(character.isalnum() for character in token):
            words.append(token)
            continue
        mark = next((c for c in token.replace("-", ",") if c in _PAUSES), "")
        if words and mark and words[-1][-1] not in _PAUSES:
            words[-1] += mark
    return " ".join(words)


class FestivalSynthesizer:
    name = "festival"

    def available(self) -> bool:
        return shutil.which("text2wave") is not None

    def synthesize(self, text: str) -> bytes:
        with tempfile.TemporaryDirectory() as folder:
            source, target = Path(folder) / "text.txt", Path(folder) / "speech.wav"
            # UTF-8 works; KOI8-R input fails
            source.write_text(festival_text(text), encoding="utf-8")
            subprocess.run(
                ["text2wave", "-eval", FESTIVAL_VOICE, str(source), "-o", str(target)],
                check=True, capture_output=True, timeout=SYNTHESIS_TIMEOUT_SECONDS,
            )  # fmt: skip
            wav = target.read_bytes()
        if len(wav) <= WAV_HEADER_BYTES:  # Festival exits 0 with an empty file
            raise RuntimeError(f"Festival wrote no speech for {text[:80]!r}")
        return with_true_sizes(wav)


class EspeakSynthesizer:
    name = "espeak"

    def available(self) -> bool:
        return shutil.which("espeak-ng") is not None

    def synthesize(self, text: str) -> bytes:
        done = subprocess.run(
            ["espeak-ng", "-v", "ru", "--stdout", text],
            check=True, capture_output=True, timeout=SYNTHESIS_TIMEOUT_SECONDS,
        )  # fmt: skip
        return with_true_sizes(done.stdout)


class OpenAISpeech:
    def __init__(self, base_url: str | None, api_key: str | None, model: str, voice: str):
        from openai import OpenAI

        self.model, self.voice = model, voice
        self.name = f"openai:{model}:{voice}"
        self.client = OpenAI(base_url=base_url, api_key=api_key or "unset", max_retries=0)

    def available(self) -> bool:
        return True

    def synthesize(self, text: str) -> bytes:
        response = self.client.audio.speech.create(
            model=self.model, voice=self.voice, input=text, response_format="wav"
        )
        return response.read()


def with_true_sizes(wav: bytes) -> bytes:
    """Festival and espeak-ng may write a streaming header (sizes 0 or -1): players and
    Python's ``wave`` then read no audio. Set the RIFF and data sizes to what follows."""
    marker = wav.find(b"data", 12)
    if not wav.startswith(b"RIFF") or marker < 0:
        return wav
    fixed = bytearray(wav)
    fixed[4:8] = struct.pack("<I", len(wav) - 8)
    fixed[marker + 4 : marker + 8] = struct.pack("<I", len(wav) - marker - 8)
    return bytes(fixed)


class SpeechFailedRecentlyError(RuntimeError):
    """The engine failed on this text moments ago: not tried again until the hold ends."""

    def __init__(self, seconds_left: float) -> None:
        super().__init__(f"synthesis of this text failed; next try in {seconds_left:.0f} s")
        self.seconds_left = seconds_left


class SpeechCache:
    """Synthesised answers on disk, by engine and text (written beside, then renamed).

    A failure is remembered too, for ``FAILURE_HOLD_SECONDS``: a text the engine cannot
    read (or an engine that is broken) would otherwise cost a Festival run of a second or
    more on every request for it — work anyone holding the answer's token could repeat."""

    FAILURE_HOLD_SECONDS = 60.0
    #: Failures remembered at most (the oldest forgotten first).
    MAX_FAILURES = 1_000

    def __init__(
        self,
        folder: Path,
        synthesizer: SpeechSynthesizer,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.folder = folder
        self.synthesizer = synthesizer
        self.clock = clock
        self._failed: OrderedDict[Path, float] = OrderedDict()
        self._failed_lock = threading.Lock()

    def path_of(self, text: str) -> Path:
        key = hashlib.sha256(f"{self.synthesizer.name}\n{text}".encode()).hexdigest()
        return self.folder / key[:2] / f"{key}.wav"

    def speech(self, text: str) -> bytes:
        path = self.path_of(text)
        if path.exists():
            return path.read_bytes()
        self._refuse_if_failed_recently(path)
        try:
            audio = self.synthesizer.synthesize(text)
        except Exception:
            with self._failed_lock:
                self._failed[path] = self.clock()
                self._failed.move_to_end(path)
                while len(self._failed) > self.MAX_FAILURES:
                    self._failed.popitem(last=False)
            raise
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        partial.write_bytes(audio)
        partial.replace(path)
        return audio

    def _refuse_if_failed_recently(self, path: Path) -> None:
        with self._failed_lock:
            failed_at = self._failed.get(path)
            if failed_at is None:
                return
            left = failed_at + self.FAILURE_HOLD_SECONDS - self.clock()
            if left <= 0:
                del self._failed[path]
                return
        raise SpeechFailedRecentlyError(left)


def build_synthesizer(settings: Settings) -> SpeechSynthesizer | None:
    """The configured engine; None when speech output is switched off."""
    if settings.tts_engine == "off":
        return None
    if settings.tts_engine == "openai":
        return OpenAISpeech(
            settings.tts_base_url, settings.tts_api_key, settings.tts_model, settings.tts_voice
        )
    if settings.tts_engine == "espeak":
        return EspeakSynthesizer()
    return FestivalSynthesizer()
