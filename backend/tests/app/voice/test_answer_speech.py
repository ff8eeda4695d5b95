"""Answers read aloud: ``GET /api/voice/logs/{log_id}/speech`` gives playable audio to the
conversation that got the answer (its feedback token) and to operators, nobody else."""

import base64
import io
import shutil
import wave

import pytest

from app.voice.synthesis import SpeechCache, SpeechFailedRecentlyError
from tests.support.dialog import OPERATOR_HEADERS, ask
from tests.support.speech import require_festival


def duration(audio: bytes) -> float:
    with wave.open(io.BytesIO(audio)) as reader:
        return reader.getnframes() / reader.getframerate()


@pytest.mark.parametrize("engine", ["festival", "espeak"])
def test_the_resident_who_got_an_answer_hears_it_and_the_second_time_costs_nothing(
    make_client, make_settings, engine
):
    require_festival()
    if engine == "espeak" and shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (make test installs it)")
    client = make_client(make_settings(ADMIN_API_KEY="test-operator-key", TTS_ENGINE=engine))
    answer = ask(client, "Как позвонить диспетчеру?", "listener-1")
    path = f"/api/voice/logs/{answer['log_id']}/speech"

    first = client.get(path, params={"feedback_token": answer["feedback_token"]})

    assert first.status_code == 200, first.text
    assert first.headers["content-type"] == "audio/wav"
    assert duration(first.content) > 1.0, "a sentence of speech, not an empty file"
    cached = client.get(path, headers={"X-Feedback-Token": answer["feedback_token"]})
    assert cached.content == first.content
    assert len(list((client.app.state.services.settings.data_dir / "speech").rglob("*.wav"))) == 1


def test_only_its_conversation_and_operators_may_hear_an_answer(client):
    answer = ask(client, "Когда моют окна?", "listener-2")
    other = ask(client, "Когда моют окна?", "listener-3")
    path = f"/api/voice/logs/{answer['log_id']}/speech"

    missing = client.get(path)
    wrong = client.get(path, params={"feedback_token": other["feedback_token"]})

    assert missing.status_code == 401 and "feedback_token" in missing.json()["detail"]
    assert wrong.status_code == 401
    assert "не от этого ответа" in wrong.json()["detail"], "a wrong token is not a missing key"
    assert client.get(path, headers=OPERATOR_HEADERS).status_code == 200
    assert client.get("/api/voice/logs/999999/speech", headers=OPERATOR_HEADERS).status_code == 404


def test_with_speech_switched_off_the_answer_is_a_clear_503(make_client, make_settings):
    client = make_client(make_settings(ADMIN_API_KEY="test-operator-key", TTS_ENGINE="off"))
    answer = ask(client, "Когда моют окна?", "listener-4")
    response = client.get(f"/api/voice/logs/{answer['log_id']}/speech",
                          params={"feedback_token": answer["feedback_token"]})  # fmt: skip
    assert response.status_code == 503 and "TTS_ENGINE=off" in response.json()["detail"]


def test_process_returns_the_spoken_answer_inline_when_asked(make_client, make_settings):
    require_festival()
    client = make_client(make_settings(ADMIN_API_KEY="test-operator-key"))
    asked = {"message": "Как позвонить диспетчеру?", "speak": True}
    response = client.post("/api/voice/process", json=asked)
    assert response.status_code == 200, response.text
    assert duration(base64.b64decode(response.json()["speech_wav_base64"])) > 1.0
    plain = client.post("/api/voice/process", json={"message": "Как позвонить диспетчеру?"})
    assert plain.json()["speech_wav_base64"] is None, "only when asked: it costs a synthesis"


def test_festival_reads_answers_written_with_signs_its_russian_voice_has_no_rules_for():
    """Quotes, dashes, brackets, «8:00», ₽, %, @ and Latin letters each made Festival write
    an empty file; the service reads them as pauses and words, so every such answer is
    heard in full."""
    from app.voice.synthesis import FestivalSynthesizer, festival_text

    require_festival()
    answer = (
        "Уборка ТСЖ «Рассвет» — 4800 ₽/мес. (скидка 5%), диспетчер с 8:00 до 20:00 - звоните… "
        "Или пишите: info@vasdom.ru"
    )

    assert festival_text(answer) == (
        "Уборка ТСЖ Рассвет, 4800 рублей мес. скидка 5 процентов, диспетчер с 8 00 до 20 00, "
        "звоните. Или пишите: инфо собака васдом точка ру"
    )
    assert duration(FestivalSynthesizer().synthesize(answer)) > 3.0


def test_residents_asking_for_speech_pay_from_their_clients_rate_limit(make_client, make_settings):
    client = make_client(
        make_settings(ADMIN_API_KEY="test-operator-key", RATE_LIMIT_CLIENT_PER_MINUTE="3")
    )
    answer = ask(client, "Когда моют окна?", "listener-5")
    path = f"/api/voice/logs/{answer['log_id']}/speech"

    guesses = [client.get(path, params={"feedback_token": "x" * 22}) for _ in range(4)]

    assert [g.status_code for g in guesses] == [401, 401, 401, 429]
    assert client.get(path, headers=OPERATOR_HEADERS).status_code != 429, "operators are not"


class BrokenEngine:
    name = "broken"

    def __init__(self) -> None:
        self.runs = 0

    def available(self) -> bool:
        return True

    def synthesize(self, text: str) -> bytes:
        self.runs += 1
        raise RuntimeError("festival crashed")


def test_a_failed_synthesis_is_not_run_again_for_the_same_text_until_the_hold_ends(tmp_path):
    engine, now = BrokenEngine(), [100.0]
    cache = SpeechCache(tmp_path, engine, clock=lambda: now[0])

    with pytest.raises(RuntimeError, match="festival crashed"):
        cache.speech("Уборка по вторникам.")
    for _ in range(5):
        with pytest.raises(SpeechFailedRecentlyError):
            cache.speech("Уборка по вторникам.")
    assert engine.runs == 1
    with pytest.raises(RuntimeError, match="festival crashed"):
        cache.speech("Другой ответ.")  # another text is tried
    now[0] += SpeechCache.FAILURE_HOLD_SECONDS + 1
    with pytest.raises(RuntimeError, match="festival crashed"):
        cache.speech("Уборка по вторникам.")
    assert engine.runs == 3
