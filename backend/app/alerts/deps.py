"""What routes ask of alerts, by type (``app/api/deps.py`` says why)."""

from typing import Annotated

from fastapi import Depends

from app.alerts.service import Alerts
from app.api.deps import provided

AlertsDep = Annotated[Alerts, Depends(provided(Alerts))]
