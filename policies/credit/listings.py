"""The listings a subject may be on: the hub's own serious-dishonesty list, the mining
abnormal-operation list, and the court's list of dishonest judgment debtors (pulled)."""

from __future__ import annotations

LISTINGS = ("SERIOUS_DISHONESTY", "ABNORMAL_OPERATION", "DISHONEST_JUDGMENT_DEBTOR")

NAMES = {
    "SERIOUS_DISHONESTY": "严重失信主体名单",
    "ABNORMAL_OPERATION": "矿业权人勘查开采信息公示异常名录",
    "DISHONEST_JUDGMENT_DEBTOR": "失信被执行人名单",
}
