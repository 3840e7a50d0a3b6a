"""Subfield registry (细分领域登记, Art. 4-5): the policy's 18 subfields, the holder and its
stage, exception holders, and the history of holders."""

from __future__ import annotations

from freezegun import freeze_time

from aggregates.programme import Programme, host_unit
from projections import queries as Q
from projections.db import make_engine
from projections.runner import ReadModelRunner
from support import migrated


def test_holders_exceptions_and_history(registry) -> None:
    with freeze_time("2022-10-11T02:00:00Z"):
        prog = Programme(registry)
        first = prog.to("approved", subfield="智能芯片", name="芯片一号", host_unit=host_unit("甲公司"))
        second = prog.to("approved", subfield="智能芯片", exception="国家战略急需，经党组会研究同意", name="芯片二号",
                         host_unit=host_unit("乙公司"))
        # The holder withdraws: the exception holder becomes the ordinary holder (Art. 5).
        prog.withdraw(first, on="2022-09-10", reasons="撤回")
    engine = make_engine(registry.store)
    ReadModelRunner(registry, engine).catch_up()
    with engine.connect() as conn:
        reg = Q.subfield_registry(conn, registry.policies.latest())
    items = {i["name"]: i for i in reg["items"]}
    assert len(reg["items"]) == 18 and reg["policy"] == "长科发〔2021〕36号"
    chips = items["智能芯片"]
    assert chips["holder"]["id"] == str(second) and chips["holder"]["status"] == "approved"
    assert chips["holder"]["host_unit"]["name"] == "乙公司"
    assert chips["exception_holders"] == []
    assert [(h["id"], h["exception"], h["from_date"], h["to_date"]) for h in chips["history"]] == [
        (str(first), None, "2022-09-01", "2022-09-10"),
        (str(second), "国家战略急需，经党组会研究同意", "2022-09-01", None),
    ]
    assert chips["history"][0]["status"] == "withdrawn"
    assert items["智慧政务平台"] == {"name": "智慧政务平台", "admission": None, "holder": None, "exception_holders": [],
                                "history": []}
    engine.dispose()


def test_exception_holder_listed_beside_holder(memory_registry, tmp_path) -> None:
    from aggregates.application import RegistryApp
    from aggregates.store import StoreConfig

    with freeze_time("2022-10-11T02:00:00Z"):
        app = RegistryApp(StoreConfig(migrated(f"sqlite:///{tmp_path / 's.sqlite3'}")))
        prog = Programme(app)
        a = prog.to("approved", subfield="智能终端", name="A", host_unit=host_unit("甲"))
        b = prog.to("approved", subfield="智能终端", exception="例外", name="B", host_unit=host_unit("乙"))
    engine = make_engine(app.store)
    ReadModelRunner(app, engine).catch_up()
    with engine.connect() as conn:
        items = {i["name"]: i for i in Q.subfield_registry(conn, app.policies.latest())["items"]}
    assert items["智能终端"]["holder"]["id"] == str(a)
    assert [h["id"] for h in items["智能终端"]["exception_holders"]] == [str(b)]
    engine.dispose()
    app.close()
