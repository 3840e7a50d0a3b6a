"""Art. 9(1): the deadline watch records each missed acceptance deadline exactly once, on both
stores: when it runs twice, when it restarts (even before the read models have seen its last
record), when two run at once, and as it runs in the processes of the README (`platforms serve`
on SQLite, `platforms projections run` on PostgreSQL, two of them at once and restarted).

A pass is driven with the day the test gives it (the watch owns the clock); the processes run
on the real one, against deadlines of 2023.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from aggregates.application import RegistryApp
from aggregates.programme import INDICATORS, Driver, act
from aggregates.store import StoreConfig
from aggregates.values import Role
from api_client import HOST, make_api
from projections.db import make_engine
from projections.deadline_watch import DeadlineWatch
from projections.runner import ReadModelRunner
from support import migrated, wait_until

ROOT = Path(__file__).resolve().parents[1]


def _misses(app: RegistryApp, pid) -> list:
    return [e for e in app.stream(pid) if type(e).__name__ == "AcceptanceDeadlineMissed"]


def _watch(app: RegistryApp, engine: sa.Engine, today: date) -> DeadlineWatch:
    return DeadlineWatch(app, engine, today=lambda: today)


def _period_to(app: RegistryApp, period_start: date, subfield: str) -> Driver:
    drv = Driver(app, subfield=subfield).to("notified")
    app.sign_task_book(drv.pid, act(Role.BUREAU, "2022-11-01", "任务书"), indicators=list(INDICATORS),
                       period_start=period_start)
    return drv


def test_art9_1_watch_records_each_miss_once_on_its_day(registry):
    in_time = Driver(registry, subfield="智能芯片").to("acceptance_applied")  # applied 2023-11-20
    thursday = Driver(registry, subfield="智能传感器").to("under_construction")  # due Thu 2023-11-30
    weekend = _period_to(registry, date(2022, 11, 17), "智能算力")  # due Sat 2023-12-16 → Mon 2023-12-18
    pending = _period_to(registry, date(2025, 12, 16), "智能终端")  # due in 2027: no schedule loaded
    engine = make_engine(registry.store)
    runner = ReadModelRunner(registry, engine)
    runner.catch_up()
    try:
        assert _watch(registry, engine, date(2023, 11, 30)).tick() == []  # the deadline day itself
        watch = _watch(registry, engine, date(2023, 12, 1))
        assert watch.tick() == [thursday.pid]
        assert watch.tick() == []  # twice on one day, the read model not caught up: still once
        runner.catch_up()
        assert watch.tick() == []
        assert _watch(registry, engine, date(2023, 12, 18)).tick() == []  # Monday: still in time
        assert _watch(registry, engine, date(2023, 12, 19)).tick() == [weekend.pid]
        runner.catch_up()
        assert _watch(registry, engine, date(2027, 6, 1)).tick() == []  # pending: never guessed
        assert [len(_misses(registry, d.pid)) for d in (in_time, thursday, weekend, pending)] == [0, 1, 1, 0]
        assert [e.act.business_date for d in (thursday, weekend) for e in _misses(registry, d.pid)] == [
            date(2023, 12, 1), date(2023, 12, 19)]
    finally:
        engine.dispose()


def test_art9_1_a_restarted_watch_does_not_record_again(store_url):
    app = RegistryApp(StoreConfig(store_url))
    drv = Driver(app).to("under_construction")
    engine = make_engine(app.store)
    ReadModelRunner(app, engine).catch_up()
    assert _watch(app, engine, date(2023, 12, 1)).tick() == [drv.pid]
    app.close()
    # A new process: its read models have not seen the record yet, the domain has.
    again = RegistryApp(StoreConfig(store_url))
    try:
        assert _watch(again, engine, date(2023, 12, 2)).tick() == []
        assert len(_misses(again, drv.pid)) == 1
    finally:
        again.close()
        engine.dispose()


def test_art9_1_two_watches_at_once_record_one_miss(store_url):
    seed = RegistryApp(StoreConfig(store_url))
    pids = [Driver(seed, subfield=s).to("under_construction").pid for s in ("智能芯片", "智能传感器", "智能算力")]
    engine = make_engine(seed.store)
    ReadModelRunner(seed, engine).catch_up()
    seed.close()
    apps = [RegistryApp(StoreConfig(store_url)) for _ in range(2)]  # two processes' registries
    barrier = threading.Barrier(2)
    found: list[list] = [[], []]

    def run(i: int) -> None:
        watch = _watch(apps[i], engine, date(2023, 12, 1))
        barrier.wait()
        found[i] = watch.tick()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    try:
        assert sorted(found[0] + found[1]) == sorted(pids)  # each recorded by one of them
        assert [len(_misses(apps[0], pid)) for pid in pids] == [1, 1, 1]
    finally:
        for app in apps:
            app.close()
        engine.dispose()


# ------------------------------------------------------------------ through the processes
@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_art9_1_serving_app_records_the_miss_and_the_bureau_terminates(store_url, tmp_path):
    """`platforms serve` on SQLite: the miss appears in /deadlines and the platform without
    anyone asking; termination needs a ground and a document, which the ledger's release carries."""
    a, container = make_api(store_url, tmp_path, deadline_watch=None)  # as `platforms serve` runs
    missed = Driver(container.app, subfield="智能芯片").to("under_construction")  # due 2023-11-30
    admitted = Driver(container.app, subfield="智能传感器").to("under_construction", code=HOST)
    try:
        with a.client:
            def shown():
                items = a.get("/deadlines", "bureau").json()["items"]
                return [i for i in items if i["missed_on"]] if len(
                    [i for i in items if i["missed_on"]]) == 2 else None

            rows = wait_until(shown)
            assert {(r["platform_id"], r["due_date"], r["missed_on"], r["overdue"]) for r in rows} == {
                (str(d.pid), "2023-11-30", "2023-12-01", True) for d in (missed, admitted)}
            detail = a.get(f"/platforms/{missed.pid}", "bureau").json()
            assert detail["status"] == "under_construction"
            assert detail["deadlines"]["acceptance_missed_on"] == "2023-12-01"

            path = f"/platforms/{missed.pid}/termination"
            body = {"ground": "acceptance_deadline_missed", "document_ref": "长科发〔2023〕98号",
                    "reasons": "执行期满一个月内未提出验收申请", "business_date": "2023-12-15"}
            for field in ("ground", "document_ref"):
                r = a.post(path, "bureau", {k: v for k, v in body.items() if k != field})
                assert r.status_code == 422 and r.json()["field"] == field, r.json()
            r = a.post(path, "bureau", {**body, "ground": "because"})
            assert r.status_code == 422 and r.json()["field"] == "ground"
            r = a.post(path, "bureau", body)
            assert r.status_code == 200, r.json()
            assert r.json()["termination"] == {"ground": "acceptance_deadline_missed",
                                               "document_ref": "长科发〔2023〕98号",
                                               "reasons": "执行期满一个月内未提出验收申请",
                                               "terminated_on": "2023-12-15"}
            ledger = a.get("/funding-ledger", "finance").json()["entries"]
            release = [e for e in ledger if e["platform_id"] == str(missed.pid) and e["kind"] == "release"]
            assert [(e["amount"], e["document_ref"]) for e in release] == [("1000000.00", "长科发〔2023〕98号")]

            # The other: a late application admitted, then reviewed as any other.
            r = a.post(f"/platforms/{admitted.pid}/late-acceptance-admission", "bureau",
                       {"justification": "第三方检测机构出具报告延误", "document_ref": "长科函〔2023〕7号",
                        "business_date": "2023-12-05"})
            assert r.status_code == 200 and r.json()["late_acceptance"]["admitted_on"] == "2023-12-05"
            r = a.post(f"/platforms/{admitted.pid}/acceptance-application", "applicant",
                       {"summary": "逾期申请，已获准", "business_date": "2023-12-06"})
            assert r.status_code == 200 and r.json()["acceptance"]["late_admitted"] is True, r.json()
            assert a.get("/deadlines", "bureau").json()["items"] == []  # applied, and the other terminated
    finally:
        container.close()


def _wait_for_following(proc: subprocess.Popen) -> None:
    """Until ``projections run`` says it follows the log (its watches have started)."""
    assert proc.stdout is not None
    while b"following the log" not in (line := proc.stdout.readline()):
        assert line, "projections run exited"


@pytest.mark.postgres
def test_art9_1_two_projection_runner_processes_record_the_miss_once_on_postgres(postgres_url, tmp_path):
    from support import drop_schema, fresh_schema

    url, schema = fresh_schema(postgres_url)
    app = RegistryApp(StoreConfig(url))
    try:
        drv = Driver(app).to("under_construction")  # due 2023-11-30
        env = {**os.environ, "PLATFORMS_DATABASE_URL": url, "PLATFORMS_VAR_DIR": str(tmp_path / "var"),
               "PLATFORMS_DEADLINE_CHECK_SECONDS": "0.2", "PYTHONPATH": str(ROOT / "src"),
               "PYTHONUNBUFFERED": "1"}

        def runner() -> subprocess.Popen:
            return subprocess.Popen([sys.executable, "-c", "from api.cli import app; app()", "projections", "run"],
                                    env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

        def stop(procs: list[subprocess.Popen]) -> None:
            for proc in procs:
                proc.send_signal(signal.SIGTERM)
            for proc in procs:
                out, _ = proc.communicate(timeout=60)
                assert proc.returncode == 0, out.decode(errors="replace")

        procs = [runner(), runner()]  # two at once, on a schema without read-model tables yet
        try:
            for proc in procs:
                _wait_for_following(proc)
            wait_until(lambda: _misses(app, drv.pid))
            engine = make_engine(app.store)
            t = sa.table("rm_deadlines", sa.column("platform_id"), sa.column("missed_on"))
            with engine.connect() as conn:  # both have passed it since, the read model has it
                wait_until(lambda: conn.execute(sa.select(t.c.missed_on).where(
                    t.c.platform_id == str(drv.pid))).scalar() == date(2023, 12, 1))
            engine.dispose()
        finally:
            stop(procs)
        procs = [runner()]  # restarted
        try:
            _wait_for_following(procs[0])
            time.sleep(1.0)  # its watch passes at once, then every 0.2 s
        finally:
            stop(procs)
        assert [e.act.business_date for e in _misses(app, drv.pid)] == [date(2023, 12, 1)]
    finally:
        app.close()
        drop_schema(postgres_url, schema)


# ------------------------------------------------------------------ read models of an older release
def test_a_read_model_lacking_a_new_column_is_rebuilt_when_its_store_is_adopted(tmp_path):
    from aggregates.migrations import migrate

    app = RegistryApp(StoreConfig(migrated(f"sqlite:///{tmp_path / 'events.sqlite3'}")))
    drv = Driver(app).to("under_construction")
    app.record_acceptance_deadline_missed(drv.pid, today=date(2023, 12, 1))
    engine = make_engine(app.store)
    ReadModelRunner(app, engine).catch_up()
    with engine.begin() as conn:  # the deadlines table as a release before migrations made it
        conn.execute(sa.text("ALTER TABLE rm_deadlines DROP COLUMN missed_on"))
        conn.execute(sa.text("ALTER TABLE rm_deadlines DROP COLUMN late_admitted_on"))
        conn.execute(sa.text("DROP TABLE alembic_version"))
    migrate(app.store)
    ReadModelRunner(app, engine).catch_up()
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT missed_on FROM rm_deadlines")).scalar() in (date(2023, 12, 1),
                                                                                       "2023-12-01")
    engine.dispose()
    app.close()
