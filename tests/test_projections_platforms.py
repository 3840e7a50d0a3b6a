"""Platforms (平台列表与详情) and deadlines (期限): filters, pagination, the stored summary, and
overdue flags from business dates and today in Asia/Shanghai."""

from __future__ import annotations

import json
from datetime import date

import pytest
from freezegun import freeze_time

import cohorts
from aggregates.programme import Driver, Programme, host_unit
from aggregates.values import Role
from projections import queries as Q
from projections.db import make_engine
from projections.runner import ReadModelRunner
from projections.views import summarize


@pytest.fixture
def cohort(registry):
    with freeze_time("2026-06-01T02:00:00Z"):
        outcomes = cohorts.cohort(Programme(registry), 0)
    engine = make_engine(registry.store)
    ReadModelRunner(registry, engine).catch_up()
    yield registry, engine, outcomes
    engine.dispose()


def test_list_filters_and_pages(cohort) -> None:
    app, engine, outcomes = cohort
    with engine.connect() as conn:
        everything = Q.list_platforms(conn, limit=500)["items"]
        funded = Q.list_platforms(conn, status="funded")["items"]
        pages, cursor = [], None
        while True:
            page = Q.list_platforms(conn, limit=5, cursor=cursor)
            pages += page["items"]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        one = everything[0]
        by_host = Q.list_platforms(conn, host_credit_code=one["host_unit"]["credit_code"].lower())["items"]
        by_subfield = Q.list_platforms(conn, subfield=one["subfield"])["items"]
        with pytest.raises(Q.InvalidCursor):
            Q.list_platforms(conn, cursor="garbage!")
    assert len(everything) == 12 and pages == everything
    assert set(everything[0]) == {"id", "name", "subfield", "host_unit", "status", "version"}
    assert {p["id"] for p in funded} == {str(p) for k in ("funded", "recovered", "funded_change") for p in outcomes[k]}
    assert [p["id"] for p in by_host] == [one["id"]]
    assert one["id"] in {p["id"] for p in by_subfield}


def test_detail_is_the_summary_of_the_aggregate(cohort) -> None:
    app, engine, outcomes = cohort
    for outcome, pids in outcomes.items():
        for pid in pids:
            with engine.connect() as conn:
                stored = Q.get_platform(conn, pid)
            assert stored == json.loads(json.dumps(summarize(app.get_platform(pid)), ensure_ascii=False)), outcome
    [pid] = outcomes["funded_change"]
    detail = summarize(app.get_platform(pid))
    assert detail["host_unit"]["name"] == "新名称有限公司"  # the approved unit-name change (Art. 11)
    assert detail["major_changes"][0]["decision"] == "approved"
    assert detail["review"] == {"experts": 5, "result": detail["review"]["result"], "method": "trimmed_mean"}
    assert detail["publicity"]["end_date"] == "2022-10-10" and detail["funding"]["disbursed"] == "1000000.00"
    assert detail["task_book"]["acceptance_due"] == "2023-11-30"
    assert detail["objections"] == [{"objection_id": "1", "received_on": "2023-04-03", "admissible": False,
                                     "outcome": "dismissed"}]
    assert "张三" not in json.dumps(detail, ensure_ascii=False)
    assert app.get_platform(pid).objections["1"]["objector_name"] == "张三"  # kept in the record
    with engine.connect() as conn:
        assert Q.get_platform(conn, "00000000-0000-0000-0000-000000000000") is None


@freeze_time("2022-09-30T02:00:00Z")
def test_art8_6_objections_are_listed_in_number_order_without_identities(registry) -> None:
    """Each objection is a row of its own in the read model; the detail lists them by number
    (objection 10 after 9), with the outcome a resolution recorded, and no objector's identity."""
    drv = Driver(registry).to("in_publicity")
    for n in range(11):
        registry.object(drv.pid, drv.act(Role.PUBLIC, "2022-09-30"), objector_name=f"市民{n}", contact="138",
                        content="有疑问")
    registry.resolve_objection(drv.pid, "10", drv.act(Role.BUREAU, "2022-09-30"), upheld=False,
                               handling_opinion="经核实不成立", vice_mayor_decision_ref="长政批〔2022〕1号")
    engine = make_engine(registry.store)
    ReadModelRunner(registry, engine).catch_up()
    with engine.connect() as conn:
        detail = Q.get_platform(conn, drv.pid)
    engine.dispose()
    assert [o["objection_id"] for o in detail["objections"]] == [str(n) for n in range(1, 12)]
    assert detail["objections"][9] == {"objection_id": "10", "received_on": "2022-09-30", "admissible": True,
                                       "outcome": "dismissed"}
    assert detail == json.loads(json.dumps(summarize(registry.get_platform(drv.pid)), ensure_ascii=False))
    assert "市民" not in json.dumps(detail, ensure_ascii=False)


def test_deadlines_and_overdue(registry) -> None:
    with freeze_time("2023-11-29T17:00:00Z"):  # 01:00 on 2023-11-30 in Shanghai, still 11-29 in UTC
        prog = Programme(registry)
        # period 2022-11-01..2023-10-31, apply for acceptance by 2023-11-30
        building = prog.to("under_construction", subfield="智能芯片", name="在建平台", host_unit=host_unit("甲"))
        listed = prog.to("approved", subfield="智能算力", name="公示平台", host_unit=host_unit("乙"))
        prog.publicize([listed], "B2", on="2023-11-27", start="2023-11-27")
    engine = make_engine(registry.store)
    ReadModelRunner(registry, engine).catch_up()
    with engine.connect() as conn:
        on_due = Q.deadlines(conn, date(2023, 11, 30))["items"]
        after = Q.deadlines(conn, date(2023, 12, 1))["items"]
    by_kind = {d["kind"]: d for d in on_due}
    assert by_kind["acceptance_due"]["due_date"] == "2023-11-30" and not by_kind["acceptance_due"]["overdue"]
    assert by_kind["publicity_end"]["due_date"] == "2023-12-01" and not by_kind["publicity_end"]["overdue"]
    assert {d["kind"]: d["overdue"] for d in after} == {"acceptance_due": True, "publicity_end": False}
    with freeze_time("2023-12-02T02:00:00Z"):
        prog.apply_for_acceptance(building, on="2023-11-30", summary="完成")
    ReadModelRunner(registry, engine).catch_up()
    with engine.connect() as conn:
        assert [d["kind"] for d in Q.deadlines(conn, date(2023, 12, 2))["items"]] == ["publicity_end"]
    engine.dispose()
