import pytest

from tests.support.speech import require_festival


@pytest.fixture(scope="session")
def whisper_dir(tmp_path_factory) -> str:
    """The bundled Whisper put together once for the run (the app does it under DATA_DIR)."""
    pytest.importorskip("faster_whisper")
    from app.voice.recognition import bundled_whisper_dir

    require_festival()
    return str(bundled_whisper_dir(tmp_path_factory.mktemp("asr")))
