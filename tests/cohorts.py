"""Cohorts of platforms with every kind of ending (模拟项目计划), for the read-model tests and the
projection benchmark (``bench/bench_projections.py``), with known answers for the ledger.

A cohort goes through Art. 8-9 together on the 2022 round's dates (:mod:`aggregates.programme`)
with the endings mixed in: not accepted, inspection failed, objection upheld, withdrawn,
unqualified, revoked, funded, funds recovered, funded after a major change. No test module:
imported by the tests that need cohorts and by the benchmark.
"""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from aggregates.application import RegistryApp
from aggregates.credit_code import with_check_character
from aggregates.errors import NotFound
from aggregates.programme import Programme, host_unit
from aggregates.values import ChangeKind

# The outcomes a cohort cycles through (one platform each, in this order, then repeat).
OUTCOMES = ("funded", "funded", "funded", "recovered", "not_accepted", "inspection_failed", "rescinded",
            "withdrawn_approved", "unqualified", "revoked", "funded_change", "withdrawn_early")
GRANT = Decimal("1000000.00")
RECOVERED = Decimal("250000.50")  # part of a grant: fen survive the sums


def batch_ref(index: int) -> str:
    """The publicity batch of cohort ``index``."""
    return f"长科公示〔2022〕{index + 1}号"


def cohort(programme: Programme, index: int, size: int = len(OUTCOMES)) -> dict[str, list[UUID]]:
    """Cohort ``index`` through every stage; returns the platforms' ids by outcome."""
    p, app = programme, programme.app
    subfields = app.policies.latest().subfields
    out: dict[str, list[UUID]] = {}
    platforms = []
    for k in range(size):
        outcome = OUTCOMES[k % len(OUTCOMES)]
        subfield = subfields[(index * size + k) % len(subfields)]
        # Host units numbered by cohort, so that a log generated in several runs has no two alike.
        host = host_unit(f"依托单位-{index}-{k}有限公司", with_check_character(f"91430100MA{index * size + k:07d}"))
        pid = p.apply(subfield, name=f"平台-{index}-{k}", host_unit=host)
        out.setdefault(outcome, []).append(pid)
        platforms.append((pid, outcome, subfield))
    publicized = []
    for pid, outcome, subfield in platforms:
        if outcome == "withdrawn_early":
            p.withdraw(pid, on="2022-03-03")
            continue
        if outcome == "not_accepted":
            p.intake(pid, accepted=False, reasons="材料不全")
            continue
        p.intake(pid)
        p.score(pid)
        p.inspect(pid, passed=outcome != "inspection_failed")
        if outcome == "inspection_failed":
            continue
        p.approve(pid, exception="重点产业急需，经党组会研究同意" if app.subfield_held(subfield) else None)
        if outcome == "withdrawn_approved":
            p.withdraw(pid, on="2022-09-10", reasons="资金不足", ref=f"撤回函-{pid.hex[:8]}")
            continue
        publicized.append((pid, outcome))
    if publicized:
        p.publicize([pid for pid, _ in publicized], batch_ref(index))
    for pid, outcome in publicized:
        if outcome == "rescinded":
            objection = p.object(pid, on="2022-10-08")  # a make-up working day inside the window
            p.resolve(pid, objection, upheld=True, on="2022-10-10")
            continue
        p.notify(pid)
        p.sign_task_book(pid)
        if outcome == "funded_change":
            p.change(pid, ChangeKind.UNIT_NAME, "新名称有限公司", description="更名", reported_on="2023-03-01",
                     decided_on="2023-03-15")
            objection = p.object(pid, on="2023-04-03")  # after the window: late, recorded only
            p.resolve(pid, objection, upheld=False, on="2023-04-03")
        if outcome == "unqualified":
            p.apply_for_acceptance(pid)
            p.review_acceptance(pid, qualified=False, ref=f"验收纪要-{pid.hex[:8]}")
            continue
        if outcome == "revoked":
            p.revoke(pid, on="2023-06-01", ref="长科发〔2023〕20号", reasons="严重不良影响")
            continue
        p.apply_for_acceptance(pid)
        p.review_acceptance(pid)
        p.recognize(pid)
        p.fund(pid, amount=GRANT)
        if outcome == "recovered":
            p.recover(pid, RECOVERED, on="2024-03-01", ref="长财追〔2024〕1号", reasons="部分资金未按规定使用")
    return out


def cohorts_recorded(app: RegistryApp) -> int:
    """How many cohorts the log already holds (each publicizes one batch), so that a generator
    can resume: the first index whose batch does not exist, by bisection."""

    def exists(index: int) -> bool:
        try:
            app.get_batch(batch_ref(index))
            return True
        except NotFound:
            return False

    low, high = 0, 1
    while exists(high - 1):
        low, high = high, high * 2
    while low < high:  # the first missing index lies in [low, high)
        mid = (low + high) // 2
        if exists(mid):
            low = mid + 1
        else:
            high = mid
    return low


def expected_cohort_money(outcomes: dict[str, list[UUID]]) -> dict[str, Decimal]:
    """Known answers for one cohort's ledger (Art. 8(5), 9(3), 13): what each ending commits,
    releases, disburses and recovers."""
    n = {k: len(v) for k, v in outcomes.items()}
    committed = GRANT * sum(n.get(k, 0) for k in ("funded", "recovered", "rescinded", "withdrawn_approved",
                                                   "unqualified", "revoked", "funded_change"))
    released = GRANT * sum(n.get(k, 0) for k in ("rescinded", "withdrawn_approved", "unqualified", "revoked"))
    disbursed = GRANT * sum(n.get(k, 0) for k in ("funded", "recovered", "funded_change"))
    recovered = RECOVERED * n.get("recovered", 0)
    return {"committed": committed, "released": released, "disbursed": disbursed, "recovered": recovered,
            "outstanding_commitments": committed - released - disbursed}
