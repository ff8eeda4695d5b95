"""The local model's registry and switching, with a stand-in engine (no weights to load):
a version is loaded and probed before it answers, the switch is all or nothing, rollback
goes back to the version active before, and a version that cannot load or answer leaves the
current model answering. The same paths with a real fine-tuned model are in
tests/e2e/test_local_model_cycle.py."""

import pytest
from sqlalchemy import select

from app.alerts.service import Alerts
from app.db.models import Alert, AnswerSource, ModelStatus, ModelVersion
from app.llm.base import Answer, ProviderError
from app.llm.prompt import PromptContext
from app.model_versions.service import (
    LocalModelManager,
    ModelLoadError,
    ModelVersionNotFoundError,
    mark_active,
)
from app.model_versions.switching import ManualSwitch


class StandInModel:
    """Answers with the name of the directory it was "loaded" from."""

    def __init__(self, path: str, *, answers: bool = True) -> None:
        self.path, self.answers, self.min_confidence = path, answers, 0.4
        self.model_used = f"stand-in:{path}"

    def answer(self, context: PromptContext) -> Answer:
        if not self.answers:
            raise ProviderError("the model returned nothing")
        return Answer(f"ответ {self.path}", self.model_used, AnswerSource.LOCAL)


def stand_in_loader(path: str, _settings) -> StandInModel:
    if path.startswith("missing"):
        raise OSError(f"no model at {path}")
    return StandInModel(path, answers=not path.startswith("mute"))


@pytest.fixture
def local_settings(make_settings):
    return make_settings(USE_LOCAL_MODEL="true")


@pytest.fixture
def manager(local_settings, database) -> LocalModelManager:
    return LocalModelManager(local_settings, database, loader=stand_in_loader)


@pytest.fixture
def register(database):
    def add(name: str, path: str | None = None) -> int:
        with database.transaction() as session:
            row = ModelVersion(name=name, base_model="tiny", path=path or name)
            session.add(row)
            session.flush()
            return row.id

    return add


def status_of(database, version_id: int) -> str:
    with database.session() as session:
        return session.get(ModelVersion, version_id).status


def answer_of(manager: LocalModelManager) -> str:
    return manager.provider.answer(PromptContext("Как часто моют подъезд?")).text


def test_activating_a_version_makes_it_answer_and_retires_the_one_before(
    manager, register, database
):
    first, second = register("v1"), register("v2")
    manager.activate(first)
    assert (manager.version, answer_of(manager), manager.status) == ("v1", "ответ v1", "healthy")
    manager.activate(second)
    assert answer_of(manager) == "ответ v2"
    assert status_of(database, first) == ModelStatus.RETIRED
    assert status_of(database, second) == ModelStatus.ACTIVE


def test_the_probe_runs_without_the_confidence_gate_and_the_gate_is_restored(manager, register):
    manager.activate(register("v1"))
    assert manager.provider.min_confidence == 0.4


def test_rollback_returns_to_the_version_active_before(manager, register, database):
    first, second = register("v1"), register("v2")
    manager.activate(first)
    manager.activate(second)
    restored = manager.rollback()
    assert (restored.id, manager.version) == (first, "v1")
    assert status_of(database, first) == ModelStatus.ACTIVE
    assert status_of(database, second) == ModelStatus.RETIRED


def test_rollback_with_no_version_before_is_a_404_naming_why(manager, register):
    manager.activate(register("v1"))
    with pytest.raises(ModelVersionNotFoundError, match="нет предыдущей"):
        manager.rollback()
    assert manager.version == "v1"


@pytest.mark.parametrize("broken_path", ["missing-weights", "mute-model"])
def test_a_version_that_cannot_load_or_answer_leaves_the_current_one_answering(
    manager, register, database, broken_path
):
    working, broken = register("v1"), register("v2", broken_path)
    manager.activate(working)
    with pytest.raises(ModelLoadError, match=broken_path):
        manager.activate(broken)
    assert (manager.version, answer_of(manager), manager.status) == ("v1", "ответ v1", "healthy")
    assert status_of(database, working) == ModelStatus.ACTIVE
    assert status_of(database, broken) == ModelStatus.CANDIDATE


def test_an_unknown_version_is_not_found(manager):
    with pytest.raises(ModelVersionNotFoundError, match="404404"):
        manager.activate(404404)


def test_a_process_follows_the_registry_when_another_activates_a_version(
    manager, register, database
):
    first, second = register("v1"), register("v2")
    manager.activate(first)
    assert manager.sync_with_registry() is False  # nothing changed
    mark_active(database, second)  # the retraining worker promoted v2
    assert manager.sync_with_registry() is True
    assert answer_of(manager) == "ответ v2"


def test_a_broken_version_activated_elsewhere_is_not_followed(manager, register, database):
    manager.activate(register("v1"))
    mark_active(database, register("v2", "missing-weights"))
    assert manager.sync_with_registry() is False
    assert answer_of(manager) == "ответ v1"


def test_start_up_loads_the_active_version_or_says_it_failed(local_settings, database, register):
    nothing_active = LocalModelManager(local_settings, database, loader=stand_in_loader)
    nothing_active.load_configured()
    assert (nothing_active.status, nothing_active.provider) == ("failed", None)
    mark_active(database, register("v1"))
    started = LocalModelManager(local_settings, database, loader=stand_in_loader)
    started.load_configured()
    assert (started.status, started.version) == ("healthy", "v1")


def test_an_experiment_arm_gets_its_version_and_none_when_it_cannot_load(manager, register):
    manager.activate(register("v1"))
    candidate, broken = register("v2"), register("v3", "missing-weights")
    assert manager.provider_for(candidate).answer(PromptContext("?")).text == "ответ v2"
    assert manager.provider_for(broken) is None
    assert manager.provider_for(404404) is None
    assert manager.version == "v1"  # arms never switch the model everyone gets


def alerts_raised(database) -> list[tuple[str, str]]:
    with database.session() as session:
        return [(a.kind, a.title) for a in session.scalars(select(Alert).order_by(Alert.id))]


@pytest.fixture
def stopped_for() -> list[str]:
    """The reasons canaries were asked to stop with."""
    return []


@pytest.fixture
def switch(manager, database, local_settings, stopped_for):
    def stop_canaries(reason: str) -> list[int]:
        stopped_for.append(reason)
        return [17] if "v2" in reason else []

    return ManualSwitch(
        local_models=manager,
        alerts=Alerts(database, local_settings, channels={}),
        stop_canaries=stop_canaries,
    )


def test_switching_by_hand_ends_open_canaries_and_says_so(switch, register, database, stopped_for):
    switch.activate(register("v1"))
    assert alerts_raised(database) == []  # no canary was open
    switch.activate(register("v2"))
    assert stopped_for == [
        "Оператор включил модель v1 вручную",
        "Оператор включил модель v2 вручную",
    ]
    assert alerts_raised(database) == [
        ("experiment_decided", "Канарейка остановлена: Оператор включил модель v2 вручную")
    ]


def test_rolling_back_by_hand_is_announced(switch, register, database):
    switch.activate(register("v1"))
    switch.activate(register("v2"))
    assert switch.rollback().name == "v1"
    assert alerts_raised(database)[-1] == ("model_rolled_back", "Откат на модель v1")
