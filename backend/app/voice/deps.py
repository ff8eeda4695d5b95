"""What routes ask of voice, by type (``app/api/deps.py`` says why)."""

from typing import Annotated

from fastapi import Depends

from app.api.deps import provided
from app.voice.recordings import RecordingArchive
from app.voice.service import SpeechOutput

RecordingsDep = Annotated[RecordingArchive, Depends(provided(RecordingArchive))]
SpeechOutputDep = Annotated[SpeechOutput, Depends(provided(SpeechOutput))]
