"""What routes ask of the verified answers, by type (``app/api/deps.py`` says why)."""

from typing import Annotated

from fastapi import Depends

from app.api.deps import provided
from app.verified_answers.index import VerifiedAnswerIndex
from app.verified_answers.service import VerifiedAnswers

VerifiedAnswersDep = Annotated[VerifiedAnswers, Depends(provided(VerifiedAnswers))]
IndexDep = Annotated[VerifiedAnswerIndex, Depends(provided(VerifiedAnswerIndex))]
