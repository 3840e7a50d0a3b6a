"""``platforms demo``: a believable programme, loaded through the same application service as
the API (every rule applies; nothing is written behind the domain's back) by the programme
driver the tests and the benchmarks use (:mod:`aggregates.programme`).

History under the real policy (长科发〔2021〕36号, in force 2021-11-12..2023-11-11), with real
past business dates: twelve host units apply across the subfields in 2021-2022; experts score;
one application is not accepted, one fails inspection; two publicity batches (the second across
National Day 2022); an upheld and a dismissed objection; task books; a major change; acceptance
meetings (one unqualified); recognitions, grants and one revocation with money returned.

Because that policy has expired, the demo also installs a second policy version that is
plainly a demonstration (``demo_policy/demo-2025.json``: ``"demonstration": true``, title
marked 演示用·非真实文件) and runs a current round under it whose publicity window is open
today, so that a visitor sees a live batch and can object.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from uuid import UUID

from aggregates.application import RegistryApp
from aggregates.clock import today_in_shanghai
from aggregates.credit_code import with_check_character
from aggregates.errors import CalendarNotLoaded
from aggregates.programme import Programme, as_date, host_unit
from aggregates.values import ChangeKind, RevocationGround, Role

from .users import UserRepository

DEMO_POLICY_FILE = Path(__file__).parent / "demo_policy" / "demo-2025.json"
DEMO_POLICY_REF = "演示〔2025〕1号"


@dataclass(frozen=True)
class Unit:
    key: str
    name: str
    code: str


def _code(body: str) -> str:
    return with_check_character(body)


# Fictional host units (the names are invented; the codes have valid check characters).
UNITS = [
    Unit("xinghe", "湖南星河智算科技有限公司", _code("91430100MA4L16JQ9")),
    Unit("lushan", "长沙麓山芯片设计有限公司", _code("91430104MA4PB2K3X")),
    Unit("xiangjiang", "湘江感知技术股份有限公司", _code("91430105MA4QC7D1N")),
    Unit("yuelu", "岳麓无人系统有限公司", _code("91430111MA4R8E2W0")),
    Unit("meixi", "梅溪湖智能软件有限公司", _code("91430104MA4T3F5H6")),
    Unit("juzizhou", "橘子洲视听智能有限公司", _code("91430102MA4U9G7J2")),
    Unit("tianxin", "天心空天信息技术有限公司", _code("91430103MA4W1H8K4")),
    Unit("kaifu", "开福生物智能研究有限公司", _code("91430105MA4X2J9L7")),
    Unit("wangcheng", "望城智能装备制造有限公司", _code("91430112MA4Y3K0M1")),
    Unit("liuyang", "浏阳智慧终端有限公司", _code("91430181MA4PL1N2Q")),
    Unit("ningxiang", "宁乡医疗影像智能有限公司", _code("91430182MA4QM2P3R")),
    Unit("changsha-fintech", "长沙金融科技服务有限公司", _code("91430100MA4RN3Q4T")),
]
# Experts' affiliations: universities and institutes (事业单位 codes), never a host unit.
EXPERTS = [
    ("expert1", _code("12430000444876000")), ("expert2", _code("12430000444876001")),
    ("expert3", _code("12430000444876002")), ("expert4", _code("12430000444876003")),
    ("expert5", _code("12430000444876004")), ("expert6", _code("12430000444876005")),
]
PASSWORDS = {"bureau": "bureau-demo-2021", "finance": "finance-demo-2021", "auditor": "auditor-demo-2021",
             "agency": "agency-demo-2021", "expert": "expert-demo-2021", "applicant": "applicant-demo-2021"}


def install_demo_policy(policy_dir: Path) -> Path:
    """Copy the demonstration policy into ``policy_dir`` (the development default is
    ``var/policies``, which the service loads at start-up)."""
    policy_dir.mkdir(parents=True, exist_ok=True)
    target = policy_dir / DEMO_POLICY_FILE.name
    shutil.copyfile(DEMO_POLICY_FILE, target)
    return target


def create_users(users: UserRepository) -> list[tuple[str, str, str, str]]:
    """The demo's accounts (development only); returns (username, role, password, credit code)."""
    made = []

    def add(name: str, role: Role, password: str, code: str | None = None) -> None:
        if users.get(name) is None:
            users.add(name, role, password, code)
        made.append((name, role.value, password, code or ""))

    add("bureau", Role.BUREAU, PASSWORDS["bureau"])
    add("finance", Role.FINANCE, PASSWORDS["finance"])
    add("auditor", Role.AUDITOR, PASSWORDS["auditor"])
    add("agency", Role.SERVICE_AGENCY, PASSWORDS["agency"])
    for name, code in EXPERTS:
        add(name, Role.EXPERT, PASSWORDS["expert"], code)
    for unit in UNITS:
        add(f"applicant-{unit.key}", Role.APPLICANT, PASSWORDS["applicant"], unit.code)
    return made


# Who acts for the bureau, the service agency, finance and the public: the demo's accounts.
CAST = {Role.BUREAU: "bureau", Role.SERVICE_AGENCY: "agency", Role.FINANCE: "finance", Role.PUBLIC: "public"}
INDICATORS = ({"name": "开放服务企业数", "target": "≥200家"}, {"name": "新增发明专利", "target": "≥10项"},
              {"name": "行业标准", "target": "≥1项"})


class Demo:
    """The demo's platforms by key (``p01``…), driven through the application service by the
    one programme driver (:class:`aggregates.programme.Programme`) with the demo's accounts."""

    def __init__(self, app: RegistryApp, step: Callable[[str], None] = lambda _: None) -> None:
        self.app = app
        self.drive = Programme(app, cast=CAST, experts=EXPERTS)
        self.step = step
        self.ids: dict[str, UUID] = {}
        self.notes: list[str] = []

    # ---------------------------------------------------------------- helpers
    def apply(self, key: str, unit: Unit, name: str, subfield: str, day: date | str) -> UUID:
        d = as_date(day)
        self.ids[key] = self.drive.apply(
            subfield, on=d, who=f"applicant-{unit.key}", name=name,
            host_unit=host_unit(unit.name, unit.code, f"GR{d.year - 1}4300{UNITS.index(unit) + 1:04d}",
                                date(d.year + 2, 12, 31)),
            co_builders=([{"name": "中南大学（演示）", "credit_code": _code("12100000444870000")}]
                         if key == "p01" else []),
            commitments="每年投入不少于1000万元研发经费，专职团队不少于50人，开放算力与数据资源",
            achievements=[{"title": f"{name}核心技术成果", "stage": "industrial" if len(key) % 2 else "pilot"}],
            basic_conditions={"technical_strength": "省级以上研发平台，发明专利30项",
                              "open_sharing": "面向中小企业开放共享服务，年服务200家以上",
                              "service_mechanism": "理事会领导下的主任负责制，服务考核办法已制定"},
        )
        self.step(f"{name}: applied")
        return self.ids[key]

    def intake(self, key: str, day: str, accepted: bool = True, reasons: str = "材料齐全，予以受理") -> None:
        self.drive.intake(self.ids[key], accepted, reasons, on=day)

    def score(self, key: str, day: date | str, strength: int) -> None:
        """Five experts score; ``strength`` 0..10 shifts the totals."""
        self.drive.score(self.ids[key], on=day, strength=0.55 + strength * 0.04,
                         opinion="论证充分" if strength > 5 else "基础较好，需加强开放服务")

    def through_approval(self, key: str, inspect_day: str, approve_day: str, n: int) -> None:
        self.drive.inspect(self.ids[key], True, "现场考察情况与申报材料相符", on=inspect_day)
        year = approve_day[:4]
        self.drive.approve(self.ids[key], on=approve_day, party_group_meeting_ref=f"局党组会议纪要〔{year}〕{n}号",
                           vice_mayor_approval_ref=f"市政府分管副市长批示〔{year}〕{n}号",
                           funding_plan_ref=f"长财教〔{year}〕{n}号")

    def publicize(self, ref: str, keys: list[str], decided: date | str, start: date, media: str) -> str:
        return self.drive.publicize([self.ids[k] for k in keys], ref, on=decided, start=start, media=media)

    def object(self, key: str, day: str, content: str) -> str:
        return self.drive.object(self.ids[key], on=day, content=content, objector_name="市民（演示）",
                                 contact="0731-00000000")

    def resolve(self, key: str, objection: str, day: str, upheld: bool, opinion: str, ref: str) -> None:
        self.drive.resolve(self.ids[key], objection, upheld=upheld, on=day, handling_opinion=opinion,
                           vice_mayor_decision_ref=ref)

    def notice_and_task_book(self, key: str, notice_day: str, start: str, n: int) -> None:
        self.drive.notify(self.ids[key], on=notice_day, ref=f"长科发〔{notice_day[:4]}〕{40 + n}号")
        self.drive.sign_task_book(self.ids[key], on=start, ref=f"建设任务书-{notice_day[:4]}-{n:03d}",
                                  indicators=INDICATORS)

    def accept(self, key: str, apply_day: str, meeting_day: str, qualified: bool) -> None:
        """Art. 9: the acceptance application and meeting; unqualified misses the standard (行业标准)."""
        self.drive.apply_for_acceptance(self.ids[key], on=apply_day, summary="建设任务已按任务书完成，提交验收材料")
        self.drive.review_acceptance(self.ids[key], qualified, on=meeting_day, panel=["expert1", "expert3", "expert5"],
                                     ref=f"验收会议纪要〔{meeting_day[:4]}〕{key[1:]}号")

    def recognize_and_fund(self, key: str, day: str, fund_day: str, n: int) -> None:
        self.drive.recognize(self.ids[key], on=day, ref=f"长科发〔{day[:4]}〕{60 + n}号",
                             plaque_no=f"CSAI-{day[:4]}-{n:02d}")
        self.drive.fund(self.ids[key], on=fund_day, ref=f"长财教〔{fund_day[:4]}〕{80 + n}号",
                        amount=Decimal("1000000.00"))

    # ---------------------------------------------------------------- the programme
    def history_2021_2023(self) -> None:
        """The first round under 长科发〔2021〕36号."""
        u = {x.key: x for x in UNITS}
        plan = [
            ("p01", "xinghe", "星河智能算力开放创新平台", "智能算力", "2021-12-06"),
            ("p02", "lushan", "麓山智能芯片开放创新平台", "智能芯片", "2021-12-13"),
            ("p03", "xiangjiang", "湘江智能传感器开放创新平台", "智能传感器", "2021-12-20"),
            ("p04", "yuelu", "岳麓自主无人驾驶开放创新平台", "自主无人驾驶", "2022-01-10"),
            ("p05", "meixi", "梅溪湖工业软件开放创新平台", "智能软硬件(工业软件)", "2022-01-17"),
            ("p06", "juzizhou", "橘子洲音视频智能开放创新平台", "智能音视频合成处理", "2022-02-21"),
            ("p07", "tianxin", "天心空天智能开放创新平台", "空天智能", "2022-03-07"),
            ("p08", "kaifu", "开福生物技术智能开放创新平台", "生物技术智能", "2022-03-14"),
            ("p09", "wangcheng", "望城工业机器人开放创新平台", "智能(工业)机器人", "2022-03-21"),
            ("p10", "liuyang", "浏阳智能终端开放创新平台", "智能终端", "2022-03-28"),
            ("p11", "ningxiang", "宁乡医疗辅助诊断开放创新平台", "医疗辅助诊断系统", "2022-04-06"),
            ("p12", "changsha-fintech", "长沙智慧金融开放创新平台", "智慧金融", "2022-04-11"),
        ]
        for key, unit, name, subfield, day in plan:
            self.apply(key, u[unit], name, subfield, day)
        # 受理: p10 lacks its high-tech documentation on file → not accepted.
        for key, day in [("p01", "2021-12-20"), ("p02", "2021-12-22"), ("p03", "2022-01-05"), ("p04", "2022-01-20"),
                         ("p05", "2022-01-25"), ("p06", "2022-03-01"), ("p07", "2022-03-15"), ("p08", "2022-03-18"),
                         ("p09", "2022-03-28"), ("p11", "2022-04-12"), ("p12", "2022-04-15")]:
            self.intake(key, day)
        self.intake("p10", "2022-04-02", accepted=False, reasons="开放共享服务方案未达到第六条要求，不予受理")
        self.step("formal review done (one not accepted)")
        # 评审 in two sessions.
        for key, strength in [("p01", 9), ("p02", 8), ("p03", 7), ("p04", 8), ("p05", 6)]:
            self.score(key, "2022-03-10", strength)
        for key, strength in [("p06", 7), ("p07", 6), ("p08", 7), ("p09", 4), ("p11", 8), ("p12", 6)]:
            self.score(key, "2022-05-16", strength)
        self.step("expert review done")
        # 考察 and 审定, first round.
        for n, key in enumerate(["p01", "p02", "p03", "p04", "p05"], start=1):
            self.through_approval(key, "2022-04-08", "2022-05-20", n)
        self.step("first round approved")
        # Batch 1: 2022-06-06 → 2022-06-10 (five working days).
        self.publicize("长科公示〔2022〕1号", ["p01", "p02", "p03", "p04", "p05"], "2022-06-02", date(2022, 6, 6),
                       "长沙晚报、长沙市科学技术局网站")
        obj = self.object("p04", "2022-06-08", "反映申报的测试里程数据与实际不符")
        self.resolve("p04", obj, "2022-06-20", False, "经市科技局会同市财政局核实，测试数据真实，异议不成立",
                     "副市长批示〔2022〕17号")
        self.step("publicity batch 1 with a dismissed objection")
        for n, key in enumerate(["p01", "p02", "p03", "p04", "p05"], start=1):
            self.notice_and_task_book(key, "2022-06-24", "2022-07-01", n)
        self.step("first round notified, task books signed")
        # Second round: p09 fails inspection.
        self.drive.inspect(self.ids["p09"], False, "现场考察发现中试线尚未建成，与申报不符", on="2022-06-28")
        for n, key in enumerate(["p06", "p07", "p08", "p11", "p12"], start=6):
            self.through_approval(key, "2022-06-29", "2022-09-16", n)
        # Batch 2 across National Day: 2022-09-29 → 2022-10-10.
        self.publicize("长科公示〔2022〕2号", ["p06", "p07", "p08", "p11", "p12"], "2022-09-27", date(2022, 9, 29),
                       "长沙晚报、长沙市科学技术局网站")
        obj = self.object("p08", "2022-09-30", "反映依托单位高新技术企业资格已被取消")
        self.resolve("p08", obj, "2022-10-12", True, "经核实异议属实，撤销审定结果", "副市长批示〔2022〕29号")
        self.object("p06", "2022-10-11", "公示期结束后收到的意见（逾期，仅记录）")
        self.step("publicity batch 2 across National Day, an upheld objection")
        for n, key in enumerate(["p06", "p07", "p11", "p12"], start=6):
            self.notice_and_task_book(key, "2022-10-20", "2022-11-01", n)
        # 重大变更: p03 changes its unit name, approved.
        self.drive.change(self.ids["p03"], ChangeKind.UNIT_NAME, "湘江感知科技集团股份有限公司",
                          description="完成股份制改造，单位更名", reported_on="2023-02-15", decided_on="2023-03-01",
                          reasons="更名不影响建设任务，同意")
        self.step("a major change reported and approved")
        # 验收 (Art. 9): first round periods end 2023-06-30, apply by 2023-07-31.
        self.accept("p01", "2023-07-10", "2023-08-15", True)
        self.accept("p02", "2023-07-12", "2023-08-15", True)
        self.accept("p03", "2023-07-20", "2023-08-16", True)
        self.accept("p04", "2023-07-25", "2023-08-16", False)
        self.accept("p05", "2023-06-20", "2023-08-17", True)
        for n, key in enumerate(["p01", "p02", "p03", "p05"], start=1):
            self.recognize_and_fund(key, "2023-09-05", "2023-09-20", n)
        # Second round: periods end 2023-10-31, apply by 2023-11-30.
        self.accept("p06", "2023-11-10", "2023-12-06", True)
        self.accept("p07", "2023-11-20", "2023-12-07", True)
        self.accept("p11", "2023-11-15", "2023-12-07", True)
        for n, key in enumerate(["p06", "p07", "p11"], start=6):
            self.recognize_and_fund(key, "2023-12-20", "2024-01-10", n)
        # p12 never applied for acceptance: the deadline watch records the miss on 2023-12-01,
        # the day after the Art. 9(1) deadline, and the bureau terminates it on that ground.
        self.drive.record_missed_deadline(self.ids["p12"], today="2023-12-01")
        self.drive.terminate(self.ids["p12"], on="2023-12-15", ref="长科发〔2023〕98号",
                             reasons="执行期满一个月内未提出验收申请（第九条第一项）")
        self.step("acceptance meetings (one unqualified), recognitions, grants")
        # 撤销 (Art. 13) and money returned.
        self.drive.revoke(self.ids["p07"], on="2024-06-18", ref="长科发〔2024〕33号",
                          ground=RevocationGround.SERIOUS_ADVERSE_IMPACT,
                          reasons="依托单位发生重大数据安全事件，造成严重社会不良影响")
        self.drive.recover(self.ids["p07"], Decimal("1000000.00"), on="2024-07-30", ref="长财教〔2024〕51号",
                           reasons="依托单位退回全部建设经费")
        self.step("one revocation, funds returned")

    def live_round(self, today: date) -> str | None:
        """A current round under the demonstration policy, with its publicity window open today
        (or pending, with a note, if today's year has no working-day schedule loaded)."""
        u = {x.key: x for x in UNITS}
        base = today - timedelta(days=70)
        plan = [
            ("d1", "xiangjiang", "湘江动态环境感知开放创新平台（演示）", "动态环境感知"),
            ("d2", "tianxin", "天心时空信息安全开放创新平台（演示）", "时空信息安全"),
            ("d3", "kaifu", "开福智慧政务开放创新平台（演示）", "智慧政务平台"),
            ("d4", "liuyang", "浏阳智能检测及品控开放创新平台（演示）", "智能检测及品控"),
            ("d5", "wangcheng", "望城数据存储与分析开放创新平台（演示）", "数据存储与分析"),
        ]
        for key, unit, name, subfield in plan:
            self.apply(key, u[unit], name, subfield, base)
        for key in ("d1", "d2", "d3", "d4"):
            self.intake(key, (base + timedelta(days=7)).isoformat())
        for key, strength in (("d1", 8), ("d2", 7), ("d3", 6)):
            self.score(key, base + timedelta(days=20), strength)
        for n, key in enumerate(("d1", "d2", "d3"), start=1):
            self.through_approval(key, (base + timedelta(days=30)).isoformat(),
                                  (base + timedelta(days=45)).isoformat(), 100 + n)
        start = self._open_start(today)
        ref = f"演示公示〔{today.year}〕1号"
        self.publicize(ref, ["d1", "d2", "d3"], min(start, today), start, "长沙市科学技术局网站（演示）")
        batch = self.app.get_batch(ref)
        if batch.last_day is None:
            self.notes.append(f"the {today.year} working-day schedule is not loaded: the live batch's window "
                              "is pending (load it with PLATFORMS_CALENDAR_FILE)")
        if batch.last_day is not None and batch.first_day is not None and batch.first_day <= today:
            self.object("d2", today.isoformat(), "（演示）反映平台开放服务对象名单与实际不符")
        self.step("live round: batch open for objections")
        return ref

    def _open_start(self, today: date) -> date:
        """The most recent working day on or before today: a window starting there covers
        today. Without the year's schedule, today (the window shows as pending)."""
        cal = self.app.calendar
        day = today
        try:
            for _ in range(15):
                if cal.is_working_day(day):
                    return day
                day -= timedelta(days=1)
        except CalendarNotLoaded:
            return today
        return today


def store_is_empty(app: RegistryApp) -> bool:
    return not app.recorder.max_notification_id()


STEPS = 20  # progress total (steps reported by Demo.step)


def load(app: RegistryApp, step: Callable[[str], None] = lambda _: None, today: date | None = None) -> Demo:
    """Load the whole demo into ``app`` (which must have the demonstration policy loaded)."""
    try:
        app.policies.get(DEMO_POLICY_REF)
    except Exception as exc:
        raise RuntimeError("the demonstration policy is not loaded; install it first "
                           "(platforms demo does this)") from exc
    demo = Demo(app, step)
    demo.history_2021_2023()
    demo.live_round(today or today_in_shanghai())
    return demo
