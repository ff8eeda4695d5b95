"""Body of the seed's self-learning status."""

from pydantic import BaseModel


class LearningStatus(BaseModel):
    total_interactions: int
    avg_rating: float | None
    positive_ratings_count: int
    negative_ratings_count: int
    current_model: str
    requires_retraining: bool
    rated_interactions: int
    retraining_reasons: list[str]
    #: The decision looks at the last RETRAINING_WINDOW_DAYS, like check_retraining.
    decision_window_days: int
    window_metrics: dict
    #: The most recent evaluate_model run (a model_metrics row), if any.
    latest_metrics: dict | None
