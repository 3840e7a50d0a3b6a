"""Publicity list (公示名单, Art. 8(6)): windows from the working-day calendar, open/closed,
objection counts and outcomes, and never an objector's identity."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from freezegun import freeze_time

from aggregates.calendar import WorkingDayCalendar
from aggregates.programme import Programme, host_unit
from projections import queries as Q
from projections.db import make_engine
from projections.runner import ReadModelRunner
from support import migrated

CAL_2027 = Path(__file__).parent / "data" / "calendar-2027.json"


def _approved(prog: Programme, n: int, subfields: list[str]) -> list:
    return [prog.to("approved", subfield=subfields[k], name=f"平台{k}", host_unit=host_unit(f"单位{k}"))
            for k in range(n)]


def test_national_day_window_and_objections(registry) -> None:
    with freeze_time("2022-10-11T02:00:00Z"):  # 10:00 on 2022-10-11 in Asia/Shanghai
        prog = Programme(registry)
        a, b, c = _approved(prog, 3, ["智能芯片", "智能传感器", "智能算力"])
        prog.publicize([a, b, c], "长科公示〔2022〕1号", start="2022-09-29")
        o1 = prog.object(a, on="2022-10-08")  # Saturday, but a make-up working day (调休): in the window
        prog.resolve(a, o1, upheld=False, on="2022-10-10")
        o2 = prog.object(b, on="2022-10-09")  # Sunday, also a make-up working day
        prog.resolve(b, o2, upheld=True, on="2022-10-10")  # the approval is rescinded
        prog.object(c, on="2022-10-10")  # the last day, not yet resolved
        prog.object(c, on="2022-10-11")  # after the window closed: recorded, late
    engine = make_engine(registry.store)
    ReadModelRunner(registry, engine).catch_up()
    with engine.connect() as conn:
        during = Q.publicity_list(conn, open_only=True, today=date(2022, 10, 10))
        after = Q.publicity_list(conn, open_only=True, today=date(2022, 10, 11))
        closed = Q.publicity_list(conn, open_only=False, today=date(2022, 10, 11))
        before = Q.publicity_list(conn, open_only=False, today=date(2022, 9, 28))
    [batch] = during["items"]
    assert (batch["start_date"], batch["first_day"], batch["end_date"]) == ("2022-09-29", "2022-09-29", "2022-10-10")
    assert batch["open"] and not batch["pending"] and batch["media"] == "长沙晚报"
    assert after["items"] == []
    assert closed["items"][0]["open"] is False and closed["items"][0]["state"] == "closed"
    assert before["items"][0]["state"] == "upcoming"
    lines = {p["id"]: p for p in batch["platforms"]}
    assert [p["id"] for p in batch["platforms"]] == [str(a), str(b), str(c)]
    assert (lines[str(a)]["objections"], lines[str(a)]["outcome"]) == (1, "dismissed")
    assert (lines[str(b)]["objections"], lines[str(b)]["outcome"]) == (1, "upheld")
    late = lines[str(c)]
    assert (late["objections"], late["late_objections"], late["outcome"]) == (2, 1, "pending")
    text = json.dumps(closed, ensure_ascii=False)
    assert "张三" not in text and "138-0000-0000" not in text and "质疑" not in text
    engine.dispose()


def test_window_in_an_unloaded_year_is_pending_until_loaded(tmp_path) -> None:
    from aggregates.application import RegistryApp
    from aggregates.store import StoreConfig

    url = migrated(f"sqlite:///{tmp_path / 'e.sqlite3'}")
    with freeze_time("2026-12-28T02:00:00Z"):
        app = RegistryApp(StoreConfig(url))
        prog = Programme(app)
        [pid] = _approved(prog, 1, ["智能芯片"])
        # Starts 2026-12-31: the fifth working day lies in 2027, whose schedule is not loaded.
        prog.publicize([pid], "长科公示〔2026〕9号", on="2026-12-28", start="2026-12-31")
    engine = make_engine(app.store)
    ReadModelRunner(app, engine).catch_up()
    cal_2027 = WorkingDayCalendar.from_file(CAL_2027)
    with engine.connect() as conn:
        without = Q.publicity_list(conn, False, date(2026, 12, 31), calendar=WorkingDayCalendar())
        loaded = Q.publicity_list(conn, False, date(2026, 12, 31), calendar=cal_2027)
        summary = Q.get_platform(conn, pid)
        deadlines_pending = Q.deadlines(conn, date(2026, 12, 31), calendar=WorkingDayCalendar())
        deadlines_loaded = Q.deadlines(conn, date(2027, 2, 1), calendar=cal_2027)
    [b] = without["items"]
    assert b["end_date"] is None and b["pending"] and b["open"]
    assert summary["publicity"]["end_date"] is None and summary["deadlines"]["publicity_end"] is None
    expected_last = cal_2027.publicity_window(date(2026, 12, 31), 5, True)[1]
    assert loaded["items"][0]["end_date"] == expected_last.isoformat() and not loaded["items"][0]["pending"]
    [d] = deadlines_pending["items"]
    assert d["kind"] == "publicity_end" and d["pending"] and d["due_date"] is None and not d["overdue"]
    [d] = deadlines_loaded["items"]
    assert d["due_date"] == expected_last.isoformat() and d["overdue"]
    engine.dispose()
    app.close()


def test_pagination_newest_first(memory_registry, tmp_path) -> None:
    from aggregates.application import RegistryApp
    from aggregates.store import StoreConfig

    with freeze_time("2022-10-11T02:00:00Z"):
        app = RegistryApp(StoreConfig(migrated(f"sqlite:///{tmp_path / 'p.sqlite3'}")))
        prog = Programme(app)
        pids = _approved(prog, 3, ["智能芯片", "智能传感器", "智能算力"])
        for i, pid in enumerate(pids):
            prog.publicize([pid], f"B{i}", start="2022-09-29")
    engine = make_engine(app.store)
    ReadModelRunner(app, engine).catch_up()
    with engine.connect() as conn:
        first = Q.publicity_list(conn, False, date(2022, 10, 1), limit=2)
        second = Q.publicity_list(conn, False, date(2022, 10, 1), limit=2, cursor=first["next_cursor"])
    assert [b["batch_ref"] for b in first["items"]] == ["B2", "B1"]
    assert [b["batch_ref"] for b in second["items"]] == ["B0"] and second["next_cursor"] is None
    engine.dispose()
    app.close()


