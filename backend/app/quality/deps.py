"""What routes ask of quality, by type (``app/api/deps.py`` says why)."""

from typing import Annotated

from fastapi import Depends

from app.api.deps import provided
from app.quality.evaluation import ModelEvaluator

EvaluatorDep = Annotated[ModelEvaluator, Depends(provided(ModelEvaluator))]
