"""What routes ask of monitoring, by type (``app/api/deps.py`` says why)."""

from typing import Annotated

from fastapi import Depends

from app.api.deps import provided
from app.monitoring.health import HealthChecker
from app.monitoring.metrics import Metrics

MetricsDep = Annotated[Metrics, Depends(provided(Metrics))]
HealthDep = Annotated[HealthChecker, Depends(provided(HealthChecker))]
