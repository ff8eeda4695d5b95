"""An operator switching the local model by hand (activate a version, roll back): the model
changes for everyone at once, any open canary stops deciding (it is ended, no winner) and
operators are told.

Canaries belong to experiments, which sit above this folder (they compare model versions),
so the container hands in how to stop them."""

from collections.abc import Callable
from dataclasses import dataclass

from app.alerts.service import Alerts
from app.db.models import ModelVersion
from app.model_versions.service import LocalModelManager


@dataclass(frozen=True, kw_only=True)
class ManualSwitch:
    local_models: LocalModelManager
    alerts: Alerts
    #: Ends the open canaries with the given reason; returns their experiment ids.
    stop_canaries: Callable[[str], list[int]]

    def activate(self, version_id: int) -> ModelVersion:
        activated = self.local_models.activate(version_id)
        self._end_canaries(f"Оператор включил модель {activated.name} вручную")
        return activated

    def rollback(self) -> ModelVersion:
        restored = self.local_models.rollback()
        self._end_canaries(f"Оператор вернул модель {restored.name}")
        self.alerts.raise_alert(
            "model_rolled_back", f"Откат на модель {restored.name}", {"version_id": restored.id}
        )
        return restored

    def _end_canaries(self, reason: str) -> None:
        stopped = self.stop_canaries(reason)
        if stopped:
            self.alerts.raise_alert(
                "experiment_decided",
                f"Канарейка остановлена: {reason}",
                {"experiment_ids": stopped},
            )
