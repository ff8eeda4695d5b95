"""What residents said is personal data: kept only with ``STORE_AUDIO=true``, played only to
operators, and deleted after ``AUDIO_RETENTION_DAYS`` — the dialog itself stays."""

import io
import wave
from datetime import UTC, datetime, timedelta

import pytest

pytest.importorskip("faster_whisper")

from sqlalchemy import func, select, update

from app.db.models import VoiceLog, VoiceRecording
from tests.support.dialog import OPERATOR_HEADERS, OPERATOR_KEY, say
from tests.support.speech import spoken

QUESTION = "Как часто моют подъезд?"


@pytest.fixture(scope="module")
def question_audio() -> bytes:
    return spoken(QUESTION, rate=8_000, fmt="ogg")


def recording_of(client, log_id: int, headers=OPERATOR_HEADERS):
    return client.get(f"/api/voice/logs/{log_id}/recording", headers=headers)


def listed(client, log_id: int) -> dict:
    items = client.get("/api/voice/logs", headers=OPERATOR_HEADERS).json()["items"]
    return next(item for item in items if item["log_id"] == log_id)


def seconds_of(wav_bytes: bytes) -> tuple[float, int, int]:
    with wave.open(io.BytesIO(wav_bytes)) as wav:
        return wav.getnframes() / wav.getframerate(), wav.getframerate(), wav.getnchannels()


def test_by_default_nothing_a_resident_said_is_kept(
    make_client, make_settings, whisper_dir, question_audio, database
):
    client = make_client(make_settings(ADMIN_API_KEY=OPERATOR_KEY, ASR_MODEL=whisper_dir))

    answer = say(client, question_audio, "private-1", filename="q.ogg").json()

    refused = recording_of(client, answer["log_id"])
    assert refused.status_code == 404
    assert "STORE_AUDIO" in refused.json()["detail"]
    assert listed(client, answer["log_id"])["has_recording"] is False
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(VoiceRecording)) == 0


def test_a_kept_recording_plays_to_operators_only(
    make_client, make_settings, whisper_dir, question_audio
):
    client = make_client(
        make_settings(ADMIN_API_KEY=OPERATOR_KEY, ASR_MODEL=whisper_dir, STORE_AUDIO="true")
    )
    answer = say(client, question_audio, "kept-1", filename="q.ogg").json()

    played = recording_of(client, answer["log_id"])
    assert played.status_code == 200, played.text
    assert played.headers["content-type"] == "audio/wav"
    assert played.headers["cache-control"] == "no-store"
    seconds, rate, channels = seconds_of(played.content)
    assert (rate, channels) == (16_000, 1), "what the recogniser heard, as any browser plays it"
    assert 1.0 < seconds < 5.0
    assert listed(client, answer["log_id"])["has_recording"] is True

    resident = {"X-Feedback-Token": answer["feedback_token"]}
    assert recording_of(client, answer["log_id"], headers=resident).status_code == 401
    stranger = {"Authorization": "Bearer not-the-key"}
    assert recording_of(client, answer["log_id"], headers=stranger).status_code == 401
    typed = client.post("/api/voice/process", json={"message": QUESTION}).json()
    assert recording_of(client, typed["log_id"]).status_code == 404
    assert recording_of(client, 10**9).status_code == 404


def test_a_recording_past_its_days_is_not_served_and_the_schedule_deletes_it(
    make_client, make_settings, whisper_dir, question_audio, database, embedder
):
    from app.container import build_services
    from worker.schedule import run_schedule

    settings = make_settings(
        ADMIN_API_KEY=OPERATOR_KEY,
        ASR_MODEL=whisper_dir,
        STORE_AUDIO="true",
        AUDIO_RETENTION_DAYS="7",
    )
    client = make_client(settings)
    old = say(client, question_audio, "old-1", filename="q.ogg").json()
    fresh = say(client, question_audio, "fresh-1", filename="q.ogg").json()
    with database.transaction() as session:
        session.execute(
            update(VoiceRecording)
            .where(VoiceRecording.log_id == old["log_id"])
            .values(created_at=datetime.now(UTC) - timedelta(days=7, minutes=1))
        )

    assert recording_of(client, old["log_id"]).status_code == 404, "expired, though not purged"
    assert listed(client, old["log_id"])["has_recording"] is False

    services = build_services(settings, embedder=embedder)
    try:
        assert run_schedule(services)["recordings_purged"] == 1
    finally:
        services.close()
    with database.session() as session:
        kept = session.scalars(select(VoiceRecording.log_id)).all()
        transcript = session.scalar(
            select(VoiceLog.user_message).where(VoiceLog.id == old["log_id"])
        )
    assert kept == [fresh["log_id"]]
    assert transcript == old["transcript"], "the dialog stays; only the voice goes"
    assert recording_of(client, fresh["log_id"]).status_code == 200
