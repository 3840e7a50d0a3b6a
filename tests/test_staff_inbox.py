"""Each role's inbox on the staff workbench (/staff/): what awaits the person signed in, oldest
first, with its deadline, from the read models; an expert never sees an application of the
expert's own unit (Art. 8(3) recusal), the host unit's or a co-builder's."""

from __future__ import annotations

import re

import sqlalchemy as sa

from aggregates.programme import Driver, act, host_unit
from aggregates.values import Role
from api.users import users_table
from api_client import EXPERT_AFFILIATIONS, HOST, OTHER_HOST, Api
from staff_client import Staff, platform_ids, section


def _scores(api: Api) -> dict[str, int]:
    policy = api.container.app.policies.get("长科发〔2021〕36号")
    return {c.criterion: c.max_points - 3 for c in policy.rubric}


def test_service_agency_receives_applications_oldest_first_and_reviews_acceptance(api: Api) -> None:
    app = api.container.app
    newer = Driver(app, subfield="智能芯片", years=1).to("applied").pid
    older = Driver(app, subfield="智能传感器").to("applied").pid
    acceptance = Driver(app, subfield="智能算力").to("acceptance_applied").pid
    accepted = Driver(app, subfield="智能终端").to("accepted").pid
    staff = Staff(api)
    staff.settle()
    page = staff.sign_in("service_agency")
    applied = section(page, "applied")
    assert platform_ids(applied) == [str(older), str(newer)]
    assert "2022年3月1日" in applied and "2023年3月1日" in applied
    assert platform_ids(section(page, "acceptance_applied")) == [str(acceptance)]
    assert str(accepted) not in page
    assert f'href="/staff/platforms/{older}"' in applied


def test_art8_3_an_expert_never_sees_an_application_of_their_own_unit(api: Api) -> None:
    """expert1's unit co-builds one platform, expert_conflicted's unit hosts another: each sees
    the open applications but those; once scored, an application leaves the expert's inbox."""
    app = api.container.app
    mine = EXPERT_AFFILIATIONS[0]  # expert1's unit
    hosted = Driver(app, subfield="智能芯片").to("accepted", host_unit=host_unit(code=HOST)).pid
    co_built = Driver(app, subfield="智能传感器").to(
        "accepted", co_builders=[{"name": "某研究院", "credit_code": mine}]).pid
    plain = Driver(app, subfield="智能算力").to("accepted").pid
    staff = Staff(api)
    staff.settle()
    to_score = section(staff.sign_in("expert1"), "to_score")
    assert set(platform_ids(to_score)) == {str(hosted), str(plain)}
    assert "没有登记所在单位" not in to_score
    assert not re.search(r'href="/staff/platforms/[0-9a-f-]{36}"', to_score)  # experts read no dossier (as in the API)
    assert f'href="/staff/platforms/{plain}/acts/scores"' in to_score  # but score from here

    app.score(plain, _scores(api), "同意", mine, act(Role.EXPERT, "2022-04-15", who="expert1"))
    staff.settle()
    assert platform_ids(section(staff.get("/staff/").text, "to_score")) == [str(hosted)]

    staff.logout()
    conflicted = section(staff.sign_in("expert_conflicted"), "to_score")
    assert set(platform_ids(conflicted)) == {str(co_built), str(plain)}


def test_an_expert_without_a_recorded_affiliation_is_told(api: Api) -> None:
    Driver(api.container.app).to("accepted")
    with api.container.users.engine.begin() as conn:  # an account from before affiliations were required
        conn.execute(sa.update(users_table).where(users_table.c.username == "expert2").values(credit_code=None))
    staff = Staff(api)
    staff.settle()
    to_score = section(staff.sign_in("expert2"), "to_score")
    assert "没有登记所在单位" in to_score and len(platform_ids(to_score)) == 1


def test_bureau_inbox_lists_each_step_awaiting_it(api: Api) -> None:
    app = api.container.app
    reviewed = Driver(app, subfield="智能芯片").to("reviewed").pid
    inspected = Driver(app, subfield="智能传感器").to("inspected").pid
    publicity = Driver(app, subfield="智能算力").to("in_publicity").pid
    app.object(publicity, act(Role.PUBLIC, "2022-09-30", who="public"), objector_name="欧阳测试者",
               contact="13912345678", content="反映该平台申报材料中的开放服务企业数量与实际情况不符，请予核实。")
    notified = Driver(app, subfield="智能终端").to("notified").pid
    overdue = Driver(app, subfield="智慧金融").to("under_construction").pid
    qualified = Driver(app, subfield="智慧政务平台").to("qualified").pid
    staff = Staff(api)
    staff.settle()
    page = staff.sign_in("bureau")
    assert platform_ids(section(page, "reviewed")) == [str(reviewed)]
    assert platform_ids(section(page, "inspected")) == [str(inspected)]
    objections = section(page, "objections")
    assert platform_ids(objections) == [str(publicity)] and "第 1 号异议" in objections
    notices = section(page, "notices")  # its window closed on 2022-10-10
    assert platform_ids(notices) == [str(publicity)] and "2022年10月10日" in notices
    assert platform_ids(section(page, "notified")) == [str(notified)]
    assert platform_ids(section(page, "qualified")) == [str(qualified)]
    late = section(page, "overdue")  # the acceptance application was due 2023-11-30
    assert platform_ids(late) == [str(overdue)] and "2023年11月30日" in late and "已逾期" in late


def test_bureau_sees_major_changes_to_decide(api: Api) -> None:
    from aggregates.values import ChangeKind

    app = api.container.app
    pid = Driver(app).to("under_construction").pid
    app.report_change(pid, act(Role.APPLICANT, "2022-12-01", who="applicant-1"), kind=ChangeKind.PRINCIPAL,
                      description="负责人调动", new_value="李四")
    staff = Staff(api)
    staff.settle()
    changes = section(staff.sign_in("bureau"), "changes")
    assert platform_ids(changes) == [str(pid)] and "2022年12月1日" in changes


def test_finance_sees_recognitions_awaiting_the_grant(api: Api) -> None:
    app = api.container.app
    recognized = Driver(app, subfield="智能芯片").to("recognized").pid
    funded = Driver(app, subfield="智能传感器").to("funded").pid
    staff = Staff(api)
    staff.settle()
    page = staff.sign_in("finance")
    assert platform_ids(section(page, "recognized")) == [str(recognized)]
    assert str(funded) not in page


def test_applicant_sees_only_its_own_acceptance_deadlines(api: Api) -> None:
    app = api.container.app
    own = Driver(app, subfield="智能芯片").to("under_construction", host_unit=host_unit(code=HOST)).pid
    other = Driver(app, subfield="智能传感器").to("under_construction", host_unit=host_unit(code=OTHER_HOST)).pid
    staff = Staff(api)
    staff.settle()
    page = staff.sign_in("applicant")
    due = section(page, "acceptance_due")
    assert platform_ids(due) == [str(own)] and "2023年11月30日" in due
    assert str(other) not in page


def test_auditor_sees_the_latest_recorded_platforms_newest_first(api: Api) -> None:
    app = api.container.app
    first = Driver(app, subfield="智能芯片").to("applied").pid
    second = Driver(app, subfield="智能传感器").to("accepted").pid
    staff = Staff(api)
    staff.settle()
    recent = section(staff.sign_in("auditor"), "recent")
    assert platform_ids(recent) == [str(second), str(first)]
    assert f'href="/staff/platforms/{second}"' in recent
