"""A platform's dossier on the staff workbench (/staff/platforms/{id}): its state, scores,
objections (identities for the bureau only), task book, money, and its timeline with who acted,
who recorded it, the documents and the article; as of an earlier date or version (the bureau's
and the auditors'); the API's visibility (an applicant sees only its own platforms)."""

from __future__ import annotations

import re

from aggregates.programme import Driver, host_unit
from api_client import HOST, OTHER_HOST, Api, application
from staff_client import Staff

NAME = "欧阳测试者"
PHONE = "13912345678"
CONTENT = "反映该平台申报材料中的开放服务企业数量与实际情况不符，请予核实。"


def _paper_platform(api: Api) -> str:
    """A paper application keyed in by the service agency, taken to publicity through the API,
    with a paper objection the bureau recorded: the actors are not the recorders."""
    body = application(business_date="2022-03-01", document_ref="受理登记-2022-001")
    r = api.post("/platforms", "service_agency", body)
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    Driver(api.container.app, pid=__import__("uuid").UUID(pid), subfield="智能算力").to("in_publicity")
    r = api.post(f"/platforms/{pid}/objections", "bureau", {
        "objector_name": NAME, "contact": PHONE, "content": CONTENT, "business_date": "2022-09-30"})
    assert r.status_code == 200, r.text
    return pid


def _events(html: str) -> list[str]:
    return re.findall(r'<li class="event" data-type="(\w+)"', html)


def test_the_bureau_reads_the_dossier_and_its_timeline_with_actor_recorder_and_documents(api: Api) -> None:
    pid = _paper_platform(api)
    staff = Staff(api)
    staff.sign_in("bureau")
    r = staff.get(f"/staff/platforms/{pid}")
    assert r.status_code == 200, r.text
    page = r.text
    assert "星河智能算力开放创新平台" in page and 'data-status="in_publicity"' in page and "公示中" in page
    assert "长科发〔2021〕36号" in page and "湖南星河智算科技有限公司" in page and HOST in page
    assert "评审结果" in page and page.count("<tr><td>expert-") == 5  # each expert's score
    events = _events(page)
    assert events[0] == "Applied" and events[-1] == "Objected" and "Publicized" in events
    applied = re.search(r'data-type="Applied".*?</li>', page, re.S).group(0)
    assert f'class="actor">{HOST}（依托单位）' in applied
    assert 'class="recorded-by">service_agency（科技服务机构）' in applied
    assert "受理登记-2022-001" in applied and "第八条（一）" in applied and "2022年3月1日" in applied
    objected = re.search(r'data-type="Objected".*?</li>', page, re.S).group(0)
    assert 'class="recorded-by">bureau（市科技局）' in objected
    assert NAME in page and PHONE in page and CONTENT in page  # the bureau verifies objections


def test_objectors_are_withheld_from_every_other_reader(api: Api) -> None:
    pid = _paper_platform(api)
    for user in ("auditor", "service_agency", "finance", "applicant"):
        api.client.cookies.clear()
        staff = Staff(api)
        staff.sign_in(user)
        page = staff.get(f"/staff/platforms/{pid}").text
        assert "第 1 号" in page or "<td>1</td>" in page, user
        assert NAME not in page and PHONE not in page and CONTENT not in page, user


def test_the_timeline_is_for_the_bureau_the_auditors_and_the_platforms_own_applicant(api: Api) -> None:
    pid = Driver(api.container.app).to("approved", host_unit=host_unit(code=HOST)).pid
    for user, sees in (("auditor", True), ("applicant", True), ("service_agency", False), ("finance", False)):
        api.client.cookies.clear()
        staff = Staff(api)
        staff.sign_in(user)
        page = staff.get(f"/staff/platforms/{pid}").text
        assert bool(_events(page)) is sees, user
        assert ("<tr><td>expert-" in page) is sees, user  # each expert's scores go with the history
        if not sees:
            assert "历史记录仅向市科技局、审计和依托单位本身显示" in page


def test_an_applicant_sees_only_its_own_platforms_until_publicized(api: Api) -> None:
    app = api.container.app
    other = Driver(app, subfield="智能芯片").to("approved", host_unit=host_unit(code=OTHER_HOST)).pid
    publicized = Driver(app, subfield="智能传感器").to("in_publicity", host_unit=host_unit(code=OTHER_HOST)).pid
    staff = Staff(api)
    staff.sign_in("applicant")
    r = staff.get(f"/staff/platforms/{other}")
    assert r.status_code == 404 and "未找到该平台" in r.text
    r = staff.get(f"/staff/platforms/{publicized}")
    assert r.status_code == 200 and not _events(r.text)  # another unit's: no history
    assert staff.get("/staff/platforms/not-a-uuid").status_code == 404
    assert staff.get("/staff/platforms/00000000-0000-4000-8000-000000000000").status_code == 404


def test_as_of_a_date_and_a_version(api: Api) -> None:
    pid = Driver(api.container.app).to("under_construction").pid
    staff = Staff(api)
    staff.sign_in("auditor")
    page = staff.get(f"/staff/platforms/{pid}").text
    assert 'data-status="under_construction"' in page and "as_of_version=1" in page
    then = staff.get(f"/staff/platforms/{pid}?as_of_date=2022-04-20")
    assert then.status_code == 200
    assert 'data-status="reviewed"' in then.text and "截至 2022年4月20日 日终" in then.text
    assert "Inspected" not in _events(then.text) and "ReviewCompleted" in _events(then.text)
    assert "尚未签订任务书" in then.text
    first = staff.get(f"/staff/platforms/{pid}?as_of_version=1")
    assert 'data-status="applied"' in first.text and _events(first.text) == ["Applied"]
    assert "第 1 版时的状态" in first.text
    assert staff.get(f"/staff/platforms/{pid}?as_of_date=2021-01-01").status_code == 404
    assert staff.get(f"/staff/platforms/{pid}?as_of_version=999").status_code == 404
    bad = staff.get(f"/staff/platforms/{pid}?as_of_date=yesterday")
    assert bad.status_code == 422 and "日期格式" in bad.text
    assert staff.get(f"/staff/platforms/{pid}?as_of_date=2022-04-20&as_of_version=2").status_code == 422


def test_the_dossier_shows_the_task_book_and_money(api: Api) -> None:
    pid = Driver(api.container.app).to("funded").pid
    staff = Staff(api)
    staff.sign_in("finance")
    page = staff.get(f"/staff/platforms/{pid}").text
    assert "第 1 版" in page and "开放接口数" in page
    committed = re.search(r'<dd class="money">([\d.]+) 元</dd>', page).group(1)
    assert committed.endswith(".00") and "认定" in page
    assert "as_of_date" not in page  # finance does not travel in time


def _articles(html: str) -> dict[str, list[str]]:
    """Each timeline event's type → the articles its entries cite, in order."""
    out: dict[str, list[str]] = {}
    for kind, article in re.findall(r'<li class="event" data-type="(\w+)".*?（依据(.*?)）</span>', html, re.S):
        out.setdefault(kind, []).append(article)
    return out


def test_art8_art9_the_timeline_cites_each_events_article_of_the_regulation(api: Api) -> None:
    """The articles of 长科发〔2021〕36号 as docs/DOMAIN.md restates them: Art. 8 (一)-(七) for the
    procedure up to the task book, which 8(7) has signed after the notice; Art. 9(1) for the
    acceptance application, 9(3) for the conclusion and what follows it; Art. 13 for revocation."""
    app = api.container.app
    funded = Driver(app).to("funded")
    funded.programme.revoke(funded.pid, on="2024-03-01", ref="长科发〔2024〕9号", reasons="不能履行依托单位职责")
    unqualified = Driver(app, subfield="智能传感器").to("acceptance_applied")
    unqualified.programme.review_acceptance(unqualified.pid, qualified=False)
    staff = Staff(api)
    staff.sign_in("bureau")
    cited = _articles(staff.get(f"/staff/platforms/{funded.pid}").text)
    expected = {"Applied": "第八条（一）", "Accepted": "第八条（二）", "Scored": "第八条（三）",
                "ReviewCompleted": "第八条（三）", "Inspected": "第八条（四）", "Approved": "第八条（五）",
                "Publicized": "第八条（六）", "NoticeIssued": "第八条（七）", "TaskBookSigned": "第八条（七）",
                "AcceptanceApplied": "第九条（一）", "AcceptanceReviewed": "第九条（二）（三）",
                "AcceptedAsQualified": "第九条（三）", "Recognized": "第九条（三）", "Funded": "第九条（三）",
                "Revoked": "第十三条"}
    assert {kind: articles[0] for kind, articles in cited.items()} == expected
    ended = _articles(staff.get(f"/staff/platforms/{unqualified.pid}").text)
    assert ended["AcceptanceReviewed"] == ["第九条（二）（三）"] and ended["Terminated"] == ["第九条（三）"]
