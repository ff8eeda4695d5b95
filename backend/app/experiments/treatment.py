"""What an experiment's arms change for one question: the model providers (a model arm:
another local version, or none) and settings (a configuration arm). The pipeline answers
with a variant of itself carrying them (``AnswerPipeline.treated``)."""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from app.db.models import ExperimentKind
from app.experiments.service import ServingArm
from app.llm.base import AnswerProvider

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Treatment:
    #: The arms the answer is given in (recorded with the log).
    arms: tuple[ServingArm, ...] = ()
    #: The providers of a model arm, cheapest first; None keeps the service's own.
    providers: Callable[[], list[AnswerProvider]] | None = None
    #: Settings field names and values of a configuration arm.
    overrides: dict[str, Any] = field(default_factory=dict)


def treatment_of(
    arms: list[ServingArm],
    local_version: Callable[[int], AnswerProvider | None],
    paid: AnswerProvider | None,
) -> Treatment | None:
    """The treatment of ``arms``. A model arm whose version cannot be loaded here is left
    out (logged): its answers would not be that model's, so they must not count for it."""
    applied, providers, overrides = [], None, {}
    for arm in arms:
        if arm.kind == ExperimentKind.CONFIG:
            overrides |= arm.overrides
            applied.append(arm)
            continue
        local = local_version(arm.model_version_id) if arm.model_version_id else None
        if arm.model_version_id and local is None:
            logger.error("experiment arm %s: model version %s unavailable; arm not applied",
                         arm.name, arm.model_version_id)  # fmt: skip
            continue
        chain = [p for p in (local, paid) if p is not None]
        providers = chain.copy
        applied.append(arm)
    if not applied:
        return None
    return Treatment(tuple(applied), providers, overrides)
