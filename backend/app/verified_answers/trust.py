"""Who can make a residents' answer served, and who can take it back: one rule for the
cache, the prompt examples and the operators' listing.

* **Operators outrank residents.** An operator's correction, or a residents' answer an
  operator approved, is served at once; no resident's rating silences it (residents' low
  ratings of it go to the review queue instead).
* **Residents count by client, not by session id.** A residents' answer needs
  ``VERIFY_MIN_SESSIONS`` of approval weight more than refusal weight, summed over
  distinct clients (``app/access/identity.py``). A client weighs what its strongest word
  on the answer weighs: 1 for a rating, ``IMPLICIT_EVIDENCE_WEIGHT`` (0.5) for what its
  dialog said (thanks, a re-ask, a request for a person). So one client is never enough,
  however it talks: with ratings it takes two clients, with thanks alone four. Approval and
  refusal weigh alike: one victim's refusal cancels one attacker's approval of equal weight.
* **Examples before serving.** An answer that ``VERIFY_MIN_SESSIONS`` more distinct
  clients approved than refused, whatever the weight of their word, may be shown to the
  paid model as an example while it gathers the weight to be served: no single client
  puts anything into a prompt, one victim's refusal cancels one attacker's approval here
  too, and the model still answers in its own words, beside the company's facts.
* **Grounding.** A residents' answer carrying a phone, card or account number, link or
  e-mail the company never published (``grounding.py``) waits for an operator.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field

from app.db.models import VerifiedKind


@dataclass(frozen=True)
class Support:
    """The distinct clients whose dialogs approved and refused one answer, each with the
    weight of its strongest evidence either way."""

    approving: Mapping[str, float] = field(default_factory=dict)
    refusing: Mapping[str, float] = field(default_factory=dict)

    @property
    def approving_clients(self) -> int:
        return len(self.approving)

    @property
    def refusing_clients(self) -> int:
        """A client who did both counts as approving (it was served this answer for a
        question it did not fit as well)."""
        return len(self.refusing.keys() - self.approving.keys())

    @property
    def approval(self) -> float:
        return round(sum(self.approving.values()), 3)

    @property
    def refusal(self) -> float:
        return round(
            sum(w for client, w in self.refusing.items() if client not in self.approving), 3
        )

    @property
    def net(self) -> float:
        """Approval weight minus refusal weight."""
        return round(self.approval - self.refusal, 3)


@dataclass(frozen=True)
class Standing:
    """Whether an answer is served, whether it may be a prompt example, and why not."""

    served: bool
    reason: str
    #: Residents approved it enough, but it carries contact details: an operator decides.
    waits_for_operator: bool = False
    #: May be shown to a model as an example: every served answer, and one that distinct
    #: clients approved more than refused without the weight to be served yet.
    teaches: bool = False


def standing(
    kind: str,
    *,
    reviewed: bool,
    support: Support,
    min_clients: int,
    ungrounded: frozenset[str] = frozenset(),
) -> Standing:
    if kind == VerifiedKind.CORRECTED:
        return Standing(True, "written by an operator", teaches=True)
    if reviewed:
        return Standing(True, "approved by an operator", teaches=True)
    if ungrounded:
        details = ", ".join(sorted(ungrounded))
        waits = support.net >= min_clients
        return Standing(False, f"contact details the company never published: {details}", waits)
    if support.net < min_clients:
        teaches = support.approving_clients - support.refusing_clients >= min_clients
        return Standing(
            False,
            f"{support.approving_clients} clients approve (weight {support.approval:g}), "
            f"{support.refusing_clients} refuse (weight {support.refusal:g}): needs "
            f"{min_clients} more approval than refusal"
            + ("; a prompt example meanwhile" if teaches else ""),
            teaches=teaches,
        )
    clients = support.approving_clients
    return Standing(
        True, f"approved by {clients} distinct clients (weight {support.approval:g})", teaches=True
    )
