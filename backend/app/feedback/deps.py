"""What routes ask of feedback, by type (``app/api/deps.py`` says why)."""

from typing import Annotated

from fastapi import Depends

from app.api.deps import provided
from app.feedback.service import Ratings
from app.records.learning_queue import LearningQueue

RatingsDep = Annotated[Ratings, Depends(provided(Ratings))]
LearningQueueDep = Annotated[LearningQueue, Depends(provided(LearningQueue))]
