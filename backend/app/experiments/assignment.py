"""Which arm a conversation is in: a stable hash of the session id, so a resident stays in
one arm for the whole conversation (and across replicas, with nothing stored).

The hash is salted with the experiment's id, so being in the first arm of one experiment
says nothing about the next. A session id is the client's claim: a script can pick ids that
land in the arm it wants. That only chooses what *it* is told; its ratings still count as
one client in the decision (``app/experiments/decision.py``).
"""

import hashlib
from collections.abc import Sequence


def position(experiment_id: int, session_id: str) -> float:
    """A number in [0, 1), uniform over session ids, fixed for (experiment, session)."""
    digest = hashlib.sha256(f"{experiment_id}:{session_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def assign(experiment_id: int, session_id: str, shares: Sequence[tuple[str, float]]) -> str:
    """The arm of ``session_id``: arms take consecutive slices of [0, 1) by their shares
    (normalised; an arm with share 0 gets nobody)."""
    total = sum(share for _, share in shares)
    if total <= 0:
        raise ValueError("no arm has a share of traffic")
    point = position(experiment_id, session_id) * total
    edge = 0.0
    for name, share in shares:
        edge += share
        if point < edge:
            return name
    return next(name for name, share in reversed(shares) if share > 0)
