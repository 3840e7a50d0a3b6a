"""Art. 13: revocation is final, frees the subfield and does not by itself recover money."""

from __future__ import annotations

from decimal import Decimal

import pytest

from aggregates.errors import InvalidInput, RuleViolation
from aggregates.programme import Driver, act
from aggregates.values import RevocationGround, Role


def revoke(app, pid, on="2024-03-01"):
    app.revoke(pid, act(Role.BUREAU, on, "长科发〔2024〕5号"), ground=RevocationGround.CANNOT_FULFIL_DUTIES,
               reasons="依托单位破产重组")


def test_art13_revoking_a_funded_platform_keeps_the_money_paid(memory_registry):
    drv = Driver(memory_registry).to("funded")
    revoke(memory_registry, drv.pid)
    platform = drv.platform
    assert platform.status == "revoked"
    assert platform.disbursed == Decimal("1000000.00") and platform.recovered == Decimal("0.00")
    assert [type(e).__name__ for e in memory_registry.stream(drv.pid)][-1] == "Revoked"


def test_art13_recovery_is_a_separate_act_up_to_what_was_paid(memory_registry):
    drv = Driver(memory_registry).to("funded")
    revoke(memory_registry, drv.pid)
    with pytest.raises(InvalidInput):
        memory_registry.recover_funds(drv.pid, act(Role.FINANCE, "2024-04-01"), amount=Decimal("1"), reasons="无文号")
    memory_registry.recover_funds(drv.pid, act(Role.FINANCE, "2024-04-01", "长财〔2024〕1号"),
                                  amount=Decimal("400000.00"), reasons="退回部分经费")
    with pytest.raises(RuleViolation) as err:
        memory_registry.recover_funds(drv.pid, act(Role.FINANCE, "2024-04-02", "长财〔2024〕2号"),
                                      amount=Decimal("600000.01"), reasons="超额")
    assert err.value.code == "recovery_exceeds_disbursed" and "600000.00" in err.value.message
    memory_registry.recover_funds(drv.pid, act(Role.FINANCE, "2024-04-02", "长财〔2024〕2号"),
                                  amount=Decimal("600000.00"), reasons="退回剩余经费")
    assert drv.platform.recovered == Decimal("1000000.00")


def test_art13_revocation_is_final(memory_registry):
    drv = Driver(memory_registry).to("recognized")
    revoke(memory_registry, drv.pid)
    with pytest.raises(RuleViolation) as err:
        memory_registry.fund(drv.pid, act(Role.FINANCE, "2024-03-02", "doc"))
    assert err.value.code == "wrong_stage"
    with pytest.raises(RuleViolation):
        revoke(memory_registry, drv.pid, on="2024-03-03")


def test_art13_revocation_before_funding_releases_the_commitment(memory_registry):
    drv = Driver(memory_registry).to("under_construction")
    revoke(memory_registry, drv.pid, on="2023-03-01")
    events = list(memory_registry.stream(drv.pid))
    assert events[-1].released_amount == Decimal("1000000.00")
    assert drv.platform.committed == Decimal("0.00")


def test_art13_an_application_cannot_be_revoked(memory_registry):
    drv = Driver(memory_registry).to("approved")
    with pytest.raises(RuleViolation) as err:
        revoke(memory_registry, drv.pid, on="2022-09-05")
    assert err.value.article == "Art. 13"
