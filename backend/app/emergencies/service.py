"""The emergency desk: detect, answer with the emergency entry, tell an operator at once.

The answer is a fixed text (no cache, no model, nothing that could be another topic's
answer or a guess); the alert is raised on the desk's own thread so that a slow alert
channel never delays the resident's answer. Alerts of one kind repeat into one (the alert
service's dedup window): a script sending «пахнет газом» in a loop costs a counter, not
an operator's evening.
"""

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from threading import BoundedSemaphore
from types import MappingProxyType

import numpy as np

from app.alerts.service import Alerts
from app.emergencies.answers import EmergencyAnswers
from app.emergencies.detector import Detection, EmergencyDetector

logger = logging.getLogger(__name__)

ALERT_KIND = "emergency"

#: Alerts waiting for the desk's thread; past this, new ones are dropped (logged): they
#: would repeat an alert of the same kind raised moments before.
MAX_PENDING_ALERTS = 32
TITLES = MappingProxyType(
    {
        "gas": "Жилец сообщает о запахе газа",
        "fire": "Жилец сообщает о пожаре или дыме",
        "flood": "Жилец сообщает о затоплении или прорыве трубы",
        "lift": "Жилец сообщает, что человек застрял в лифте",
        "electricity": "Жилец сообщает об искрящей проводке или ударе током",
        "person": "Жилец сообщает, что человеку плохо",
    }
)


@dataclass(frozen=True)
class EmergencyReply:
    detection: Detection
    text: str


class EmergencyDesk:
    def __init__(
        self, detector: EmergencyDetector, answers: EmergencyAnswers, alerts: Alerts | None
    ) -> None:
        self.detector = detector
        self.answers = answers
        self.alerts = alerts
        self._sender = ThreadPoolExecutor(max_workers=1, thread_name_prefix="emergency-alerts")
        self._pending = BoundedSemaphore(MAX_PENDING_ALERTS)

    def reply(self, question: str, vector: np.ndarray | None) -> EmergencyReply | None:
        try:
            detection = self.detector.detect(question, vector)
        except Exception:  # a text the analyser chokes on is not an emergency it can see
            logger.exception("emergency detection failed; answering as usual")
            return None
        if detection is None:
            return None
        return EmergencyReply(detection, self.answers.answer(detection.kind))

    def urgent(self, question: str) -> bool:
        """Words alone, in about a millisecond: may this question pass a full replica?"""
        try:
            return self.detector.detect(question) is not None
        except Exception:
            logger.exception("emergency detection failed; the question is shed as usual")
            return False

    def alert(self, reply: EmergencyReply, question: str, log_id: int | None) -> None:
        if self.alerts is None:
            return
        if not self._pending.acquire(blocking=False):
            logger.warning("emergency alert dropped: %d already waiting", MAX_PENDING_ALERTS)
            return
        details = {"question": question, "log_id": log_id, "detected_by": reply.detection.by}
        title = TITLES.get(reply.detection.kind, "Аварийное сообщение жильца")
        self._sender.submit(self._raise, title, details)

    def _raise(self, title: str, details: dict) -> None:
        try:
            self.alerts.raise_alert(ALERT_KIND, title, details)
        except Exception:
            logger.exception("emergency alert failed: %s", title)
        finally:
            self._pending.release()

    def close(self) -> None:
        self._sender.shutdown(wait=True)
