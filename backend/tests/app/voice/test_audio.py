"""A recording is bounded before work is spent on it: formats by content, duration as
decoded, sample rates a microphone can have. Hostile files are refused at once and cheaply."""

import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

from app.core.errors import AudioRejectedError, UnsupportedAudioError
from app.voice.audio import container_of, decode
from tests.support.hostile_audio import bound_udp_ports, flac_bomb, sdp_file, wav_bomb
from tests.support.speech import encode

MAX_BYTES = 5_000_000


def tone(seconds: float, rate: int = 16_000) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (np.sin(2 * np.pi * 220 * t) * 8_000).astype(np.int16)


@pytest.mark.parametrize("fmt", ["wav", "webm", "ogg", "mp3"])
def test_each_format_a_device_records_in_is_read(fmt):
    data = encode(tone(2.0), 16_000, rate=8_000 if fmt == "wav" else 16_000, fmt=fmt)

    recording = decode(data, "question", max_bytes=MAX_BYTES, max_seconds=30)

    assert 1.9 <= len(recording.samples) / 16_000 <= 2.2


def test_the_container_is_named_by_the_files_content_not_by_ffmpegs_probe():
    assert container_of(encode(tone(0.5), 16_000, rate=16_000, fmt="webm")) == "matroska"
    assert container_of(encode(tone(0.5), 16_000, rate=16_000, fmt="ogg")) == "ogg"
    assert container_of(flac_bomb(200)) == "flac"
    assert container_of(sdp_file(5004)) is None
    assert container_of(b"#EXTM3U\n#EXT-X-VERSION:3\n") is None  # an HLS playlist
    assert container_of(b"ffconcat version 1.0\nfile /etc/passwd\n") is None


def test_a_codec_nobody_records_speech_in_is_refused_even_in_an_allowed_container():
    import io

    import av

    out = io.BytesIO()
    with av.open(out, "w", format="matroska") as container:
        stream = container.add_stream("mp2", rate=16_000)
        stream.layout = "mono"
        frame = av.AudioFrame.from_ndarray(tone(1.0).reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = 16_000
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            container.mux(packet)

    with pytest.raises(UnsupportedAudioError):
        decode(out.getvalue(), "question", max_bytes=MAX_BYTES, max_seconds=30)


def test_a_duration_bomb_is_refused_as_too_long_after_decoding_only_what_the_limit_allows():
    bomb = flac_bomb(MAX_BYTES)  # claims about 2.9 million seconds at 8 kHz

    started = time.perf_counter()
    with pytest.raises(AudioRejectedError, match="не более 30 с"):
        decode(bomb, "question", max_bytes=MAX_BYTES, max_seconds=30)
    assert time.perf_counter() - started < 5  # the old decoder would run for hours, not seconds


def test_a_sample_rate_no_microphone_has_is_refused_before_decoding():
    with pytest.raises(UnsupportedAudioError, match="1 Гц"):
        decode(wav_bomb(8_000, rate=1), "question", max_bytes=MAX_BYTES, max_seconds=30)


PEAK_MEMORY_SCRIPT = textwrap.dedent(
    """
    import resource, sys
    from app.voice.audio import decode
    from tests.support.hostile_audio import flac_bomb, wav_bomb
    from tests.support.speech import encode
    import numpy as np

    def peak_mb():
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    speech = encode((np.sin(np.arange(48000) / 8) * 8000).astype(np.int16), 16000,
                    rate=16000, fmt="wav")
    decode(speech, "warm-up", max_bytes=5_000_000, max_seconds=30)
    before = peak_mb()
    for bomb in (flac_bomb(10_500), wav_bomb(8_000, rate=1), wav_bomb(8_000, rate=8_000)):
        try:
            decode(bomb, "bomb", max_bytes=5_000_000, max_seconds=30)
        except Exception:
            pass
    print(peak_mb() - before)
    """
)


def test_decoding_the_bombs_the_attack_used_grows_the_process_by_megabytes_not_gigabytes():
    # Its own process: the peak resident size is per process and never goes down.
    run = subprocess.run(
        [sys.executable, "-c", PEAK_MEMORY_SCRIPT], capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    growth_mb = float(run.stdout.strip().splitlines()[-1])
    assert growth_mb < 50, f"decoding the bombs grew the process by {growth_mb:.0f} MB"


def test_an_sdp_file_uploaded_as_audio_is_refused_at_once_and_opens_no_socket(client):
    port = 47_104
    assert port not in bound_udp_ports()
    seen: set[int] = set()
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            seen.update(bound_udp_ports() & {port, port + 1})
            time.sleep(0.01)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        started = time.perf_counter()
        response = client.post(
            # Declared as audio, as an attacker would: only the content tells.
            "/api/voice/process",
            files={"audio": ("question.wav", sdp_file(port), "audio/wav")},
        )
        seconds = time.perf_counter() - started
        time.sleep(0.1)
    finally:
        done.set()
        watcher.join()

    assert seen == set(), f"UDP ports {seen} were bound while the upload was read"
    assert response.status_code == 415, response.text
    assert seconds < 5  # FFmpeg's RTP demuxer waited 20 s for packets


def test_a_part_declared_as_an_image_is_refused_before_it_is_read(client):
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64

    response = client.post("/api/voice/process", files={"audio": ("audio.png", png, "image/png")})

    assert response.status_code == 415
    assert "image/png" in response.json()["detail"]


def test_the_schema_names_the_media_types_a_recording_may_be_sent_as(client):
    form = client.get("/openapi.json").json()["paths"]["/api/voice/process"]["post"]["requestBody"][
        "content"
    ]["multipart/form-data"]

    assert "audio/webm" in form["encoding"]["audio"]["contentType"]
    assert form["schema"]["properties"]["audio"]["minLength"] == 1
