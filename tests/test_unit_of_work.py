"""A command reads aggregates only through its unit of work, by construction: its decide step
holds no way to the application, its repository or the store, so no read can escape the
group commit's check that the command saw the state it would have seen alone
(aggregates.unit_of_work, aggregates.committer)."""

from __future__ import annotations

import contextlib
import types
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import get_type_hints

import pytest
from eventsourcing.application import Application, Repository
from eventsourcing.persistence import EventStore, Recorder

from aggregates.application import CommandResult, RegistryApp
from aggregates.committer import Committer
from aggregates.errors import DomainError
from aggregates.programme import Driver, act
from aggregates.values import ChangeKind, RevocationGround, Role, TerminationGround

# What a decide step must not hold: each one reads aggregates bypassing the unit of work.
STORE_SIDE = (Application, Repository, EventStore, Recorder, Committer)


def _reachable(root: object) -> Iterator[object]:
    """Everything ``root`` can reach: closures, defaults, bound objects, containers, attributes."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, (str, bytes, int, float, type, types.ModuleType)):
            continue
        seen.add(id(obj))
        yield obj
        if isinstance(obj, types.FunctionType):
            for cell in obj.__closure__ or ():
                with contextlib.suppress(ValueError):  # a cell not yet filled
                    stack.append(cell.cell_contents)
            stack.extend(obj.__defaults__ or ())
            stack.extend((obj.__kwdefaults__ or {}).values())
        elif isinstance(obj, types.MethodType):
            stack.extend((obj.__self__, obj.__func__))
        elif isinstance(obj, dict):
            stack.extend([*obj.keys(), *obj.values()])
        elif isinstance(obj, (list, tuple, set, frozenset)):
            stack.extend(obj)
        elif hasattr(obj, "__dict__"):
            stack.extend(vars(obj).values())


def _commands() -> set[str]:
    return {name for name, f in vars(RegistryApp).items()
            if isinstance(f, types.FunctionType) and get_type_hints(f).get("return") is CommandResult}


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_no_decide_step_can_read_an_aggregate_but_through_its_unit_of_work(registry, monkeypatch) -> None:
    decide_steps: dict[str, object] = {}
    run = registry.committer.run

    def spy(command):
        decide_steps[command.name] = command.decide
        return run(command)

    monkeypatch.setattr(registry.committer, "run", spy)
    pid = Driver(registry).to("funded").pid
    bureau, finance = act(Role.BUREAU, "2024-01-10"), act(Role.FINANCE, "2024-01-10")
    for command in (
        lambda: registry.object(pid, bureau, objector_name="市民", contact="x", content="异议"),
        lambda: registry.resolve_objection(pid, "1", bureau, upheld=False, handling_opinion="驳回",
                                           vice_mayor_decision_ref="副市长〔2024〕1号"),
        lambda: registry.report_change(pid, act(Role.APPLICANT, "2024-01-10"), kind=ChangeKind.GOALS,
                                       description="调整", new_value="新目标"),
        lambda: registry.decide_change(pid, "1", bureau, approved=True, reasons="同意"),
        lambda: registry.revoke(pid, bureau, ground=RevocationGround.SERIOUS_ADVERSE_IMPACT, reasons="严重不良影响"),
        lambda: registry.recover_funds(pid, finance, amount=Decimal("1.00"), reasons="追回"),
        lambda: registry.withdraw(pid, act(Role.APPLICANT, "2024-01-10"), reasons="撤回"),
        lambda: registry.terminate(pid, bureau, ground=TerminationGround.FORCE_MAJEURE, reasons="终止"),
        lambda: registry.renew_certificate(pid, bureau, number="GR2", valid_until=date(2030, 1, 1)),
        lambda: registry.admit_subfield(act(Role.BUREAU, "2023-01-10", "长科发〔2023〕1号"), name="具身智能",
                                        reasons="增列"),
        lambda: registry.record_score_sheets(pid, act(Role.SERVICE_AGENCY, "2024-01-10", "评审会"), [
            {"expert_id": "e", "expert_name": "专家", "affiliation": None, "scores": {}}]),
        lambda: registry.record_acceptance_deadline_missed(pid, today=date(2024, 1, 10)),
        lambda: registry.admit_late_acceptance(pid, bureau, justification="逾期说明"),
        lambda: registry.start_import(bureau, archive_sha256="0" * 64, lines=1),
        lambda: registry.abandon_import(bureau, archive_sha256="0" * 64, reasons="无法续导"),
        lambda: registry.complete_import(bureau, archive_sha256="0" * 64, platforms={}, batches={}, acts=0),
    ):
        with contextlib.suppress(DomainError):  # a refusal still ran the decide step
            command()
    assert set(decide_steps) == _commands(), "every command of RegistryApp is checked"
    for name, decide in decide_steps.items():
        escapes = [type(o).__name__ for o in _reachable(decide) if isinstance(o, STORE_SIDE)]
        assert escapes == [], f"the decide step of {name} can read around its unit of work"
