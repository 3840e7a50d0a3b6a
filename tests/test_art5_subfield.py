"""Art. 5: one platform per subfield from approval on, "in principle" (原则上)."""

from __future__ import annotations

import threading

import pytest

from aggregates.errors import ConcurrentModification, RuleViolation
from aggregates.programme import Driver, act
from aggregates.seat import SubfieldSeat
from aggregates.values import RevocationGround, Role, TerminationGround


def seat(app, subfield="智能芯片"):
    return app.repository.get(SubfieldSeat.create_id(subfield))


def test_art5_second_approval_in_a_held_subfield_is_refused(memory_registry):
    first = Driver(memory_registry).to("approved")
    second = Driver(memory_registry).to("inspected")
    with pytest.raises(RuleViolation) as err:
        second.to("approved")
    assert (err.value.code, err.value.article, err.value.policy) == ("subfield_taken", "Art. 5", "长科发〔2021〕36号")
    assert second.platform.status == "inspected"
    assert seat(memory_registry).holder == str(first.pid)


def test_art5_applications_in_a_held_subfield_are_allowed_until_approval(memory_registry):
    Driver(memory_registry).to("approved")
    assert Driver(memory_registry).to("inspected").platform.status == "inspected"


def test_art5_written_exception_admits_a_second_platform_visibly(memory_registry):
    first = Driver(memory_registry).to("approved")
    second = Driver(memory_registry).to("approved", exception="产业规模大，需两家平台错位发展（党组会纪要）")
    held = seat(memory_registry)
    assert held.holder == str(first.pid) and held.exception_holders == [str(second.pid)]
    occupied = [e for e in memory_registry.stream(held.id) if type(e).__name__ == "Occupied"]
    assert occupied[-1].exception.startswith("产业规模大")
    assert second.platform.approval["subfield_exception"].startswith("产业规模大")


@pytest.mark.parametrize("end", ["withdraw", "terminate", "revoke"])
def test_art5_an_ended_platform_frees_its_subfield(memory_registry, end):
    first = Driver(memory_registry).to("notified")
    if end == "withdraw":
        memory_registry.withdraw(first.pid, act(Role.APPLICANT, "2022-10-20", "撤回函"), reasons="战略调整")
    elif end == "terminate":
        memory_registry.terminate(first.pid, act(Role.BUREAU, "2022-10-20", "终止通知"),
                                  ground=TerminationGround.TASK_BOOK_NOT_SIGNED, reasons="未签订任务书")
    else:
        memory_registry.revoke(first.pid, act(Role.BUREAU, "2022-10-20", "撤销决定"),
                               ground=RevocationGround.SERIOUS_ADVERSE_IMPACT, reasons="严重不良影响")
    assert seat(memory_registry).holder is None
    second = Driver(memory_registry).to("approved")
    assert seat(memory_registry).holder == str(second.pid)


def test_art5_exception_holder_becomes_holder_when_the_holder_leaves(memory_registry):
    first = Driver(memory_registry).to("approved")
    second = Driver(memory_registry).to("approved", exception="书面说明")
    memory_registry.withdraw(first.pid, act(Role.APPLICANT, "2022-09-05", "撤回函"), reasons="退出")
    held = seat(memory_registry)
    assert held.holder == str(second.pid) and held.exception_holders == []


def test_art5_concurrent_approvals_in_one_subfield_admit_exactly_one(registry):
    drivers = [Driver(registry, subfield="智慧金融").to("inspected") for _ in range(8)]
    barrier = threading.Barrier(len(drivers))
    outcomes: list[str] = []
    lock = threading.Lock()

    def approve(drv: Driver) -> None:
        barrier.wait()
        try:
            drv.to("approved")
            result = "approved"
        except RuleViolation as exc:
            result = exc.code
        except ConcurrentModification:
            result = "conflict"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=approve, args=(drv,)) for drv in drivers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("approved") == 1, outcomes
    assert set(outcomes) <= {"approved", "subfield_taken"}  # what a lone request gets; never "conflict"
    statuses = [drv.platform.status for drv in drivers]
    assert statuses.count("approved") == 1 and statuses.count("inspected") == 7
    winner = next(drv for drv in drivers if drv.platform.status == "approved")
    assert seat(registry, "智慧金融").holder == str(winner.pid)


def test_art5_an_exception_is_refused_where_none_is_needed(memory_registry):
    drv = Driver(memory_registry, subfield="空天智能").to("inspected")
    with pytest.raises(RuleViolation) as err:
        drv.to("approved", exception="不需要的例外说明")
    assert (err.value.code, err.value.article) == ("exception_not_needed", "Art. 5")
    assert drv.platform.status == "inspected"
