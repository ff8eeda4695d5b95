"""What routes ask of the model registry, by type (``app/api/deps.py`` says why)."""

from typing import Annotated

from fastapi import Depends

from app.api.deps import provided
from app.model_versions.service import LocalModelManager
from app.model_versions.switching import ManualSwitch

LocalModelsDep = Annotated[LocalModelManager, Depends(provided(LocalModelManager))]
ManualSwitchDep = Annotated[ManualSwitch, Depends(provided(ManualSwitch))]
