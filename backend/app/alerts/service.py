"""Alerts: stored in the database, then sent to every configured channel.

Channels: the structured log (always), a generic JSON webhook (``ALERT_WEBHOOK_URL``) and any
apprise URLs (``ALERT_URLS``: Telegram, e-mail, Slack …). The same kind and title again
within ``ALERT_DEDUP_MINUTES`` is folded into the stored alert (its ``repeats`` count grows)
and not sent again. Each channel is tried ``ALERT_RETRIES`` times with a short back-off;
a channel that still fails is recorded on the alert, and never raises into the caller:
a retraining job must not fail because Telegram was down.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.db.database import Database
from app.db.models import Alert

logger = logging.getLogger("app.alerts")

KINDS = MappingProxyType(
    {
        "quality_drop": "warning",
        "emergency": "error",
        "retraining_started": "info",
        "retraining_finished": "info",
        "retraining_failed": "error",
        "model_promoted": "info",
        "model_rejected": "warning",
        "model_rolled_back": "warning",
        "answer_verified": "info",
        "answer_held": "warning",
        "canary_started": "info",
        "canary_promoted": "info",
        "canary_rolled_back": "warning",
        "experiment_decided": "info",
        "experiment_arm_stopped": "warning",
    }
)


@dataclass(frozen=True)
class AlertOutcome:
    alert_id: int
    deduplicated: bool
    deliveries: dict[str, str]


Channel = Callable[[dict[str, Any]], None]


def webhook_channel(url: str, timeout: float = 5.0) -> Channel:
    def send(payload: dict[str, Any]) -> None:
        response = httpx.post(url, json=payload, timeout=timeout)
        response.raise_for_status()

    return send


def apprise_channel(urls: list[str]) -> Channel:
    import apprise

    notifier = apprise.Apprise()
    for url in urls:
        if not notifier.add(url):
            raise ValueError(f"ALERT_URLS: apprise does not understand {url!r}")

    def send(payload: dict[str, Any]) -> None:
        body = payload["title"]
        if payload.get("details"):
            body += "\n" + "\n".join(f"{k}: {v}" for k, v in payload["details"].items())
        if not notifier.notify(title=f"VasDom: {payload['kind']}", body=body):
            raise RuntimeError("apprise reported a failed notification")

    return send


def configured_channels(settings: Settings) -> dict[str, Channel]:
    channels: dict[str, Channel] = {}
    if settings.alert_webhook_url:
        channels["webhook"] = webhook_channel(settings.alert_webhook_url)
    urls = [u.strip() for u in (settings.alert_urls or "").split(",") if u.strip()]
    if urls:
        channels["apprise"] = apprise_channel(urls)
    return channels


class Alerts:
    def __init__(
        self,
        database: Database,
        settings: Settings,
        channels: dict[str, Channel] | None = None,
        backoff_seconds: float = 0.5,
    ) -> None:
        self.database = database
        self.dedup_window = timedelta(minutes=settings.alert_dedup_minutes)
        self.retries = settings.alert_retries
        self.channels = configured_channels(settings) if channels is None else channels
        self.backoff_seconds = backoff_seconds

    def raise_alert(self, kind: str, title: str, details: dict | None = None) -> AlertOutcome:
        severity = KINDS.get(kind, "info")
        now = datetime.now(UTC)
        with self.database.transaction() as session:
            earlier = session.scalar(
                select(Alert)
                .where(
                    Alert.kind == kind,
                    Alert.title == title,
                    Alert.last_seen_at >= now - self.dedup_window,
                )
                .order_by(Alert.id.desc())
                .limit(1)
                .with_for_update()
            )
            if earlier is not None:
                earlier.repeats += 1
                earlier.last_seen_at = now
                logger.info("alert %s repeated (%d): %s", kind, earlier.repeats, title)
                return AlertOutcome(earlier.id, True, dict(earlier.deliveries or {}))
            alert = Alert(kind=kind, severity=severity, title=title, details=details or {})
            session.add(alert)
            session.flush()
            alert_id = alert.id
        payload = {
            "id": alert_id,
            "kind": kind,
            "severity": severity,
            "title": title,
            "details": details or {},
            "created_at": now.isoformat(),
        }
        log = logger.error if severity == "error" else logger.warning
        log("alert %s: %s", kind, title, extra={"alert": payload})
        deliveries = {"log": "delivered"} | {
            name: self._deliver(name, channel, payload) for name, channel in self.channels.items()
        }
        with self.database.transaction() as session:
            session.get(Alert, alert_id).deliveries = deliveries
        return AlertOutcome(alert_id, False, deliveries)

    def _deliver(self, name: str, channel: Channel, payload: dict) -> str:
        error: Exception | None = None
        for attempt in range(1, self.retries + 1):
            try:
                channel(payload)
                return "delivered"
            except Exception as failure:  # any channel error is recorded, never raised
                error = failure
                logger.warning("alert channel %s failed (attempt %d): %s", name, attempt, failure)
                if attempt < self.retries:
                    time.sleep(self.backoff_seconds * attempt)
        return f"failed: {error}"


def recent_alerts(session: Session, limit: int) -> list[Alert]:
    """Newest first."""
    return list(session.scalars(select(Alert).order_by(Alert.id.desc()).limit(limit)))


def alert_quality_drop(alerts: Alerts, reasons: list[str], details: dict) -> AlertOutcome:
    """The alert both ``evaluate_model``/``check_retraining`` and the schedule raise. Its
    title is the same whatever the figures, so a drop that persists (2.91 today, 2.89
    tomorrow) is one alert per dedup window; the crossed thresholds are in its details."""
    return alerts.raise_alert(
        "quality_drop", "Качество ответов ниже порога", {"reasons": reasons} | details
    )
