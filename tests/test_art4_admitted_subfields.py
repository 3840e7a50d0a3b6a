"""Art. 4's "等": a subfield beyond the 18 listed is admitted by the bureau's recorded decision
(with its document), after which it is applied for like the others, one platform each (Art. 5),
and the subfield registry lists it. On both stores: the admission is an aggregate of its own that
an application reads in its unit of work."""

from __future__ import annotations

from datetime import date

import pytest
from freezegun import freeze_time

from aggregates.errors import InvalidInput, RuleViolation
from aggregates.programme import Driver, Programme, act
from aggregates.values import Role
from projections import queries as Q
from projections.db import make_engine
from projections.runner import ReadModelRunner

POLICY = "长科发〔2021〕36号"
NEW = "具身智能"


def test_art4_unlisted_subfield_is_refused_until_the_bureau_admits_it(registry) -> None:
    with pytest.raises(InvalidInput) as err:
        Programme(registry).apply(NEW)
    assert (err.value.code, err.value.field) == ("unknown_subfield", "subfield")
    with pytest.raises(InvalidInput) as missing_ref:
        registry.admit_subfield(act(Role.BUREAU, "2022-02-15"), name=NEW, reasons="产业急需")
    assert missing_ref.value.code == "reference_required"

    result = registry.admit_subfield(act(Role.BUREAU, "2022-02-15", "长科发〔2022〕8号"), name=f" {NEW} ",
                                     reasons="具身智能产业急需，经局党组会研究增列")
    assert result.extra == {"policy": POLICY, "subfield": NEW}
    assert registry.admitted_subfields(POLICY) == (NEW,)
    assert registry.subfield_admission(POLICY, NEW) == {
        "subfield": NEW, "reasons": "具身智能产业急需，经局党组会研究增列", "document_ref": "长科发〔2022〕8号",
        "admitted_on": date(2022, 2, 15)}

    drv = Driver(registry, subfield=NEW).to("approved")
    assert drv.platform.subfield == NEW


def test_art4_a_listed_or_already_admitted_subfield_is_not_admitted_again(registry) -> None:
    registry.admit_subfield(act(Role.BUREAU, "2022-02-15", "长科发〔2022〕8号"), name="智能(工业)软件测评", reasons="")
    for name in ("智能芯片", "智能（工业）软件测评"):  # listed; admitted, in full-width brackets
        with pytest.raises(RuleViolation) as err:
            registry.admit_subfield(act(Role.BUREAU, "2022-02-16", "长科发〔2022〕9号"), name=name, reasons="")
        assert (err.value.code, err.value.article, err.value.policy) == ("subfield_already_listed", "Art. 4", POLICY)


def test_art5_applies_to_an_admitted_subfield(registry) -> None:
    registry.admit_subfield(act(Role.BUREAU, "2022-02-15", "长科发〔2022〕8号"), name=NEW, reasons="增列")
    first = Driver(registry, subfield=NEW).to("approved")
    second = Driver(registry, subfield=NEW).to("inspected")
    with pytest.raises(RuleViolation) as err:
        second.to("approved")
    assert (err.value.code, err.value.article) == ("subfield_taken", "Art. 5")
    assert str(first.pid) in err.value.message
    assert registry.subfield_held(NEW)
    second.to("approved", exception="国家战略急需，经党组会研究同意")
    assert second.platform.status == "approved"


def test_art4_the_subfield_registry_lists_an_admitted_subfield(registry) -> None:
    with freeze_time("2022-10-11T02:00:00Z"):
        registry.admit_subfield(act(Role.BUREAU, "2022-02-15", "长科发〔2022〕8号"), name=NEW, reasons="增列")
        holder = Driver(registry, subfield=NEW).to("approved")
    engine = make_engine(registry.store)
    ReadModelRunner(registry, engine).catch_up()
    with engine.connect() as conn:
        reg = Q.subfield_registry(conn, registry.policies.latest())
    engine.dispose()
    items = {i["name"]: i for i in reg["items"]}
    assert len(reg["items"]) == 19 and reg["items"][-1]["name"] == NEW
    assert items[NEW]["admission"] == {"document_ref": "长科发〔2022〕8号", "reasons": "增列",
                                       "admitted_on": "2022-02-15"}
    assert items[NEW]["holder"]["id"] == str(holder.pid)
    assert items["智能芯片"]["admission"] is None
