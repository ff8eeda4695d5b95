"""What routes ask of answering, by type (``app/api/deps.py`` says why)."""

from typing import Annotated

from fastapi import Depends

from app.answering.pipeline import AnswerPipeline
from app.answering.turns import Turns
from app.api.deps import provided

TurnsDep = Annotated[Turns, Depends(provided(Turns))]
PipelineDep = Annotated[AnswerPipeline, Depends(provided(AnswerPipeline))]
