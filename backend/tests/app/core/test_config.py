from pathlib import Path

import pytest
from pydantic import ValidationError

from app.core.config import BUNDLED_EMBEDDER, Settings
from app.core.paths import BACKEND_DIR


def test_defaults_are_the_seeds():
    settings = Settings(_env_file=None)
    assert settings.database_url is None
    assert settings.use_local_model is False
    assert settings.min_rating_threshold == 4
    assert settings.retraining_threshold == 3.5
    assert settings.evaluation_schedule_days == 7
    assert settings.llm_model == "gpt-4o-mini"
    assert settings.embedding_model == BUNDLED_EMBEDDER
    assert settings.data_dir == BACKEND_DIR / "data"
    assert settings.port == 8000
    assert settings.paid_llm_configured is False


def test_environment_overrides_defaults(monkeypatch):
    monkeypatch.setenv("USE_LOCAL_MODEL", "true")
    monkeypatch.setenv("MIN_RATING_THRESHOLD", "5")
    monkeypatch.setenv("EMERGENT_LLM_KEY", "sk-test")
    settings = Settings(_env_file=None)
    assert settings.use_local_model is True
    assert settings.min_rating_threshold == 5
    assert settings.llm_api_key == "sk-test"
    assert settings.paid_llm_configured is True


def test_openai_api_key_is_accepted_when_emergent_key_is_absent():
    assert Settings(_env_file=None, OPENAI_API_KEY="sk-2").llm_api_key == "sk-2"


def test_empty_values_mean_unset():
    settings = Settings(_env_file=None, DATABASE_URL="", EMERGENT_LLM_KEY="")
    assert settings.database_url is None
    assert settings.paid_llm_configured is False


def test_relative_data_dir_is_relative_to_backend():
    assert Settings(_env_file=None, DATA_DIR="var/db").data_dir == BACKEND_DIR / "var" / "db"
    assert Settings(_env_file=None, DATA_DIR="/srv/x").data_dir == Path("/srv/x")


def test_env_file_is_read(tmp_path, monkeypatch):
    env_file = tmp_path / ".env"
    env_file.write_text("LLM_MODEL=qwen2.5\nRETRAINING_THRESHOLD=3.0\n")
    settings = Settings(_env_file=env_file)
    assert settings.llm_model == "qwen2.5"
    assert settings.retraining_threshold == 3.0


def test_env_example_documents_every_setting():
    example = (BACKEND_DIR / ".env.example").read_text()
    for field in Settings.model_fields.values():
        assert f"{field.alias}=" in example, field.alias


def test_a_short_admin_key_is_refused_with_a_message_saying_how_to_make_one():
    import pytest
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="at least 16 characters"):
        Settings(_env_file=None, ADMIN_API_KEY="secret")
    assert Settings(_env_file=None, ADMIN_API_KEY="s" * 16).admin_api_key == "s" * 16
    assert Settings(_env_file=None, ADMIN_API_KEY="").admin_api_key is None, "empty is unset"


def test_a_longest_shed_wait_below_the_shortest_is_refused_naming_both():
    with pytest.raises(ValidationError, match="SHED_RETRY_AFTER_MAX_MS \\(400\\) is below"):
        Settings(_env_file=None, SHED_RETRY_AFTER_MS="500", SHED_RETRY_AFTER_MAX_MS="400")
    assert Settings(_env_file=None, SHED_RETRY_AFTER_MS="500", SHED_RETRY_AFTER_MAX_MS="500")
