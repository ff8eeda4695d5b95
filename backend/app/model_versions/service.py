"""The local model the service answers with, and switching it without a restart.

A new version is loaded and asked a probe question *before* it replaces the current one;
the switch is one reference assignment, so a request in flight finishes with the model it
started with and the next one gets the new model. A version that fails to load or to answer
leaves the current model in place and says why.
"""

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.core.errors import InvalidInputError, NotFoundError
from app.db.database import Database
from app.db.models import ModelStatus, ModelVersion
from app.llm.base import AnswerProvider
from app.llm.prompt import PromptContext
from app.model_versions.engines import load_local_provider

logger = logging.getLogger(__name__)

PROBE_QUESTION = "Как часто моют подъезд?"


class ModelVersionNotFoundError(NotFoundError):
    def __init__(self, version: object) -> None:
        super().__init__(f"Версия модели {version} не найдена")


class ModelLoadError(InvalidInputError):
    """The version could not be loaded or did not answer; the current model stays."""


@dataclass(frozen=True)
class LoadedModel:
    provider: AnswerProvider
    version: str
    path: str


def mark_active(database: Database, version_id: int) -> ModelVersion:
    """Make ``version_id`` the active row and retire the one before, in one transaction.
    Processes that answer follow the registry (``sync_with_registry``)."""
    with database.transaction() as session:
        if session.get(ModelVersion, version_id) is None:
            raise ModelVersionNotFoundError(version_id)
        session.execute(
            update(ModelVersion)
            .where(ModelVersion.status == ModelStatus.ACTIVE, ModelVersion.id != version_id)
            .values(status=ModelStatus.RETIRED)
        )
        session.execute(
            update(ModelVersion)
            .where(ModelVersion.id == version_id)
            .values(status=ModelStatus.ACTIVE, activated_at=datetime.now(UTC))
        )
        return session.get(ModelVersion, version_id, populate_existing=True)


def list_versions(session: Session) -> list[ModelVersion]:
    """The registry, newest first."""
    return list(session.scalars(select(ModelVersion).order_by(ModelVersion.created_at.desc())))


class LocalModelManager:
    def __init__(
        self,
        settings: Settings,
        database: Database,
        loader: Callable[[str, Settings], AnswerProvider] = load_local_provider,
    ) -> None:
        self.settings = settings
        self.database = database
        #: Builds the provider for a model directory (tests pass their own engine).
        self._loader = loader
        self._loaded: LoadedModel | None = None
        self._switch = threading.Lock()  # one load at a time; answering never waits on it
        #: ``disabled``, ``healthy`` (loaded and answered the probe) or ``failed``.
        self.status = "disabled"
        #: Versions an experiment's arms answer with, besides the active one (None: failed).
        self._arm_models: dict[int, LoadedModel | None] = {}

    @property
    def provider(self) -> AnswerProvider | None:
        loaded = self._loaded
        return loaded.provider if loaded else None

    @property
    def version(self) -> str | None:
        loaded = self._loaded
        return loaded.version if loaded else None

    def load_configured(self) -> None:
        """At start-up: ``LOCAL_MODEL_PATH``, else the active registered version."""
        if not self.settings.use_local_model:
            return
        path = self.settings.local_model_path
        version = None
        if path is None:
            with self.database.session() as session:
                active = session.scalars(
                    select(ModelVersion).where(ModelVersion.status == ModelStatus.ACTIVE)
                ).first()
            if active is None:
                logger.error("USE_LOCAL_MODEL=true but no LOCAL_MODEL_PATH and no active version")
                self.status = "failed"
                return
            path, version = active.path, active.name
        try:
            self._loaded = self._load(path, version)
            self.status = "healthy"
        except ModelLoadError:
            logger.exception("local model at %s could not be used", path)
            self.status = "failed"

    def _load(self, path: str, version: str | None) -> LoadedModel:
        started = time.monotonic()
        try:
            provider = self._loader(path, self.settings)
            loaded_at = time.monotonic()
            gate, provider.min_confidence = provider.min_confidence, 0.0
            provider.answer(PromptContext(PROBE_QUESTION))  # does it answer at all?
            provider.min_confidence = gate
        except Exception as error:
            raise ModelLoadError(
                f"Модель из {path} не загружена ({type(error).__name__}: {error}); "
                "продолжает работать прежняя"
            ) from error
        answered_at = time.monotonic()
        engine = getattr(provider, "engine", "transformers")
        logger.info(
            "local model %s loaded with %s in %.2f s, first answer in %.2f s",
            path, engine, loaded_at - started, answered_at - loaded_at,
        )  # fmt: skip
        return LoadedModel(provider, version or provider.model_used, path)

    def provider_for(self, version_id: int) -> AnswerProvider | None:
        """The provider of ``version_id`` for an experiment's arm: the active model when it
        is that version, else loaded once (and probed) and kept; None when it cannot be."""
        if version_id not in self._arm_models:
            with self._switch:
                if version_id not in self._arm_models:
                    self._arm_models[version_id] = self._arm_model(version_id)
        kept = self._arm_models[version_id]
        return kept.provider if kept else None

    def _arm_model(self, version_id: int) -> LoadedModel | None:
        with self.database.session() as session:
            row = session.get(ModelVersion, version_id)
            if row is None:
                return None
            path, name = row.path, row.name
        active = self._loaded
        if active is not None and active.version == name:
            return active
        try:
            return self._load(path, name)
        except ModelLoadError:
            logger.exception("experiment arm's model %s could not be loaded", name)
            return None

    def activate(self, version_id: int) -> ModelVersion:
        """Load the version, then make it the one answering and the active row."""
        with self._switch:
            with self.database.session() as session:
                target = session.get(ModelVersion, version_id)
                if target is None:
                    raise ModelVersionNotFoundError(version_id)
                path, name = target.path, target.name
            loaded = self._load(path, name)
            activated = mark_active(self.database, version_id)
            self._loaded = loaded  # the switch: one assignment
            self.status = "healthy"
            logger.info("local model %s activated", name)
            return activated

    def sync_with_registry(self) -> bool:
        """Follow the registry when another process (the retraining worker, another
        replica) changed the active version; True when the model was switched. A version
        that fails to load is logged and the current model keeps answering."""
        if not self.settings.use_local_model or self.settings.local_model_path:
            return False
        with self.database.session() as session:
            active = session.scalars(
                select(ModelVersion).where(ModelVersion.status == ModelStatus.ACTIVE)
            ).first()
            if active is None or active.name == self.version:
                return False
            path, name = active.path, active.name
        with self._switch:
            if name == self.version:
                return False
            try:
                self._loaded = self._load(path, name)
            except ModelLoadError:
                logger.exception("active version %s could not be loaded; keeping %s", name,
                                 self.version)  # fmt: skip
                return False
            self.status = "healthy"
            logger.info("local model %s loaded: it became active in the registry", name)
            return True

    def rollback(self) -> ModelVersion:
        """Back to the version that was active before the current one."""
        with self.database.session() as session:
            previous = session.scalars(
                select(ModelVersion)
                .where(
                    ModelVersion.status == ModelStatus.RETIRED,
                    ModelVersion.activated_at.is_not(None),
                )
                .order_by(ModelVersion.activated_at.desc())
            ).first()
            if previous is None:
                raise ModelVersionNotFoundError("для отката (нет предыдущей активной версии)")
            previous_id = previous.id
        return self.activate(previous_id)
