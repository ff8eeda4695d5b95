"""Who can make a residents' answer served, and who can take it back: one rule for the
cache, the prompt examples and the operators' listing.

* **Operators outrank residents.** An operator's correction, or a residents' answer an
  operator approved, is served at once; no resident's rating silences it (residents' low
  ratings of it go to the review queue instead).
* **Residents count by client, not by session id.** A residents' answer needs
  ``VERIFY_MIN_SESSIONS`` distinct clients (``app/access/identity.py``) more approving it
  than refusing it. Approval and withdrawal weigh the same: each distinct client counts
  once, either way, so one victim's refusal cancels one attacker's approval.
* **Grounding.** A residents' answer carrying a phone, card or account number, link or
  e-mail the company never published (``grounding.py``) waits for an operator.
"""

from dataclasses import dataclass

from app.db.models import VerifiedKind


@dataclass(frozen=True)
class Support:
    """The distinct clients whose dialogs approved and refused one answer."""

    approving: frozenset[str] = frozenset()
    refusing: frozenset[str] = frozenset()

    @property
    def net(self) -> int:
        """Approving clients minus refusing ones; a client who did both counts as approving
        (it was served this answer for a question it did not fit as well)."""
        return len(self.approving) - len(self.refusing - self.approving)


@dataclass(frozen=True)
class Standing:
    """Whether an answer is served (and may be a prompt example), and why not."""

    served: bool
    reason: str
    #: Residents approved it enough, but it carries contact details: an operator decides.
    waits_for_operator: bool = False


def standing(
    kind: str,
    *,
    reviewed: bool,
    support: Support,
    min_clients: int,
    ungrounded: frozenset[str] = frozenset(),
) -> Standing:
    if kind == VerifiedKind.CORRECTED:
        return Standing(True, "written by an operator")
    if reviewed:
        return Standing(True, "approved by an operator")
    if support.net < min_clients:
        return Standing(
            False,
            f"{len(support.approving)} clients approve, {len(support.refusing - support.approving)}"
            f" refuse: needs {min_clients} more approving than refusing",
        )
    if ungrounded:
        details = ", ".join(sorted(ungrounded))
        return Standing(False, f"contact details the company never published: {details}", True)
    return Standing(True, f"approved by {len(support.approving)} distinct clients")
