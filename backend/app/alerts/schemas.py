"""Body of an alert."""

from datetime import datetime

from app.api.schemas import EmptyWhenNull, Schema


class AlertEntry(Schema):
    id: int
    kind: str
    severity: str
    title: str
    details: EmptyWhenNull
    deliveries: EmptyWhenNull
    repeats: int
    created_at: datetime
    last_seen_at: datetime
