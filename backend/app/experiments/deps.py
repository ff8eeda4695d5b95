"""What routes ask of experiments, by type (``app/api/deps.py`` says why)."""

from typing import Annotated

from fastapi import Depends

from app.api.deps import provided
from app.experiments.service import Experiments

ExperimentsDep = Annotated[Experiments, Depends(provided(Experiments))]
