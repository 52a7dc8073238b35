"""The listings a subject may be on: the hub's own serious-dishonesty list, the mining
abnormal-operation list, and the court's list of dishonest judgment debtors (pulled)."""

from __future__ import annotations

LISTINGS = ("SERIOUS_DISHONESTY", "ABNORMAL_OPERATION", "DISHONEST_JUDGMENT_DEBTOR")
