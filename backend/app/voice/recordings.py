"""What residents said, kept for operators to listen to — only when asked to, and not for long.

A voice is personal data, so nothing is kept unless ``STORE_AUDIO=true``, and what is kept
(the 16 kHz mono WAV the recogniser heard, one per log) is served for
``AUDIO_RETENTION_DAYS`` and then deleted by the worker's schedule. A recording past its
days is never served, even before the purge has run. Switching ``STORE_AUDIO`` off stops
new recordings; the old ones still age out.
"""

import io
import wave
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.db.database import Database
from app.db.models import VoiceRecording
from app.voice.audio import SAMPLE_RATE


def as_wav(samples: np.ndarray, rate: int = SAMPLE_RATE) -> bytes:
    """16-bit PCM WAV: every browser plays it, whatever the resident's phone recorded."""
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm.tobytes())
    return buffer.getvalue()


class RecordingArchive:
    def __init__(self, database: Database, settings: Settings) -> None:
        self.database = database
        self.enabled = settings.store_audio
        self.retention = timedelta(days=settings.audio_retention_days)

    def _kept(self, now: datetime):
        """Within its days: the one rule serving, listing and purging share."""
        return VoiceRecording.created_at > now - self.retention

    def keep(self, log_id: int, samples: np.ndarray) -> None:
        """Store what was heard for ``log_id`` (after the response: a resident waits for
        nothing); does nothing unless ``STORE_AUDIO`` is on."""
        if not self.enabled:
            return
        with self.database.transaction() as session:
            session.add(
                VoiceRecording(
                    log_id=log_id, wav=as_wav(samples), seconds=len(samples) / SAMPLE_RATE
                )
            )

    def wav(self, session: Session, log_id: int, now: datetime) -> bytes | None:
        """The recording of ``log_id`` while it is within its days, else None."""
        return session.scalar(
            select(VoiceRecording.wav).where(VoiceRecording.log_id == log_id, self._kept(now))
        )

    def held_for(self, session: Session, log_ids: list[int], now: datetime) -> set[int]:
        """Which of ``log_ids`` have a recording that can still be played."""
        if not log_ids:
            return set()
        return set(
            session.scalars(
                select(VoiceRecording.log_id).where(
                    VoiceRecording.log_id.in_(log_ids), self._kept(now)
                )
            )
        )

    def purge_expired(self, session: Session, now: datetime) -> int:
        """Delete the recordings past their days; the logs and their transcripts stay."""
        result = session.execute(delete(VoiceRecording).where(~self._kept(now)))
        return result.rowcount or 0
